package node

import (
	"errors"
	"testing"
)

func TestMemoryBudget(t *testing.T) {
	const MiB = 1 << 20
	tests := []struct {
		name string
		cfg  MemoryConfig
		want Budget
		err  error
	}{
		{name: "default 200 MiB", cfg: MemoryConfig{},
			want: Budget{Limit: 200 * MiB, Go: 200 * MiB * 55 / 100, Mapped: 40 * MiB, BlockCache: 200 * MiB / 12, IndexCache: 200 * MiB / 12, MemTable: 8 * MiB}},
		{name: "1 GiB scales the caches and the memtable", cfg: MemoryConfig{Limit: 1024 * MiB},
			want: Budget{Limit: 1024 * MiB, Go: 1024 * MiB * 55 / 100, Mapped: 1024 * MiB / 5, BlockCache: 1024 * MiB / 12,
				IndexCache: 1024 * MiB / 12, MemTable: 1024 * MiB / 25, L0Tables: 10}},
		{name: "under 400 MiB, Badger's level 0", cfg: MemoryConfig{Limit: 399 * MiB},
			want: Budget{Limit: 399 * MiB, Go: 399 * MiB * 55 / 100, Mapped: 399 * MiB / 5, BlockCache: 399 * MiB / 12,
				IndexCache: 399 * MiB / 12, MemTable: 399 * MiB / 25}},
		{name: "sizes given are kept", cfg: MemoryConfig{BlockCache: 4 * MiB, IndexCache: -1, MemTable: 32 * MiB, MemTables: 3, Compactors: 4,
			Table: 2 * MiB, TableSizeMultiplier: 2, L0Tables: 6, LevelSizeMultiplier: 4},
			want: Budget{Limit: 200 * MiB, Go: 200 * MiB * 55 / 100, Mapped: 40 * MiB, BlockCache: 4 * MiB, IndexCache: -1, MemTable: 32 * MiB,
				MemTables: 3, Compactors: 4, Table: 2 * MiB, TableSizeMultiplier: 2, L0Tables: 6, LevelSizeMultiplier: 4}},
		{name: "no limit: storage's defaults", cfg: MemoryConfig{Limit: -1, BlockCache: 64 * MiB},
			want: Budget{BlockCache: 64 * MiB}},
		{name: "too small", cfg: MemoryConfig{Limit: 10 * MiB}, err: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Budget()
			if !errors.Is(err, tt.err) {
				t.Fatalf("Budget() error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Budget() = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}
