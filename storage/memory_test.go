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
		{"default", Options{}, 512 << 10, 1},
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

// TestLevelSizeMultiplier: each level may grow 5 times the one above it
// unless asked otherwise, not Badger's 10 (memory.go).
func TestLevelSizeMultiplier(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  Options
		want int
	}{
		{"default", Options{}, 5},
		{"given", Options{LevelSizeMultiplier: 10}, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.memoryDefaults()
			if o := badgerOptions(t.TempDir(), opt); o.LevelSizeMultiplier != tt.want {
				t.Errorf("levels %d times larger than the one above, want %d", o.LevelSizeMultiplier, tt.want)
			}
		})
	}
}

// TestLevelZeroTables: Badger's level 0 gathers 5 flushed memtables
// before a compaction and stalls writes at 15, as Badger's defaults,
// unless asked otherwise (Options.L0Tables; the stall stays 10 above).
func TestLevelZeroTables(t *testing.T) {
	for _, tt := range []struct {
		name          string
		opt           Options
		tables, stall int
	}{
		{"default", Options{}, 5, 15},
		{"given", Options{L0Tables: 10}, 10, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.memoryDefaults()
			o := badgerOptions(t.TempDir(), opt)
			if o.NumLevelZeroTables != tt.tables || o.NumLevelZeroTablesStall != tt.stall {
				t.Errorf("level 0: compacted at %d tables, writes stalled at %d; want %d and %d",
					o.NumLevelZeroTables, o.NumLevelZeroTablesStall, tt.tables, tt.stall)
			}
		})
	}
}
