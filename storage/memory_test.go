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
