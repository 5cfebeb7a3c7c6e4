package storage

import "testing"

// TestTableSizes: Badger's tables are 512 KiB at every level unless asked
// otherwise, so that what a compaction holds in memory does not grow with
// the store (memory.go).
func TestTableSizes(t *testing.T) {
	tests := []struct {
		name           string
		opt            Options
		wantBytes      int64
		wantMultiplier int
	}{
		{"default", Options{}, 1 << 20, 1},
		{"given", Options{TableBytes: 2 << 20, TableSizeMultiplier: 2}, 2 << 20, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.memoryDefaults()
			o := badgerOptions(t.TempDir(), opt)
			if o.BaseTableSize != tt.wantBytes || o.TableSizeMultiplier != tt.wantMultiplier {
				t.Errorf("tables of %d bytes × %d per level, want %d × %d", o.BaseTableSize, o.TableSizeMultiplier, tt.wantBytes, tt.wantMultiplier)
			}
		})
	}
}

// TestLevelOptions: Badger's level 0 gathers 5 flushed memtables before a
// compaction and stalls writes at 15, as Badger's defaults, and each level
// below may grow 5 times the one above it, not Badger's 10, unless asked
// otherwise (Options.L0Tables, the stall staying 10 above;
// Options.LevelSizeMultiplier; memory.go).
func TestLevelOptions(t *testing.T) {
	for _, tt := range []struct {
		name                      string
		opt                       Options
		tables, stall, multiplier int
	}{
		{"default", Options{}, 5, 15, 5},
		{"given", Options{L0Tables: 10, LevelSizeMultiplier: 10}, 10, 20, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.memoryDefaults()
			o := badgerOptions(t.TempDir(), opt)
			if o.NumLevelZeroTables != tt.tables || o.NumLevelZeroTablesStall != tt.stall || o.LevelSizeMultiplier != tt.multiplier {
				t.Errorf("level 0 compacted at %d tables, writes stalled at %d, levels %d times the one above; want %d, %d and %d",
					o.NumLevelZeroTables, o.NumLevelZeroTablesStall, o.LevelSizeMultiplier, tt.tables, tt.stall, tt.multiplier)
			}
		})
	}
}
