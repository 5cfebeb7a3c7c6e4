package bench

import (
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/storage"
)

// logFootprint logs where the bytes of the node in dir go, per message
// of msgs: its files by kind, then the store's live keys by prefix and
// Badger's tables (storage.Store.Footprint). Run BenchmarkFootprint with
// -v to see it; docs/PERFORMANCE.md has the figures.
func logFootprint(b *testing.B, dir string, msgs int64) error {
	b.Helper()
	files := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		kind := filepath.Dir(rel) + "/*" + filepath.Ext(rel)
		files[kind] += info.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("footprint: %w", err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "files, B per message:\n")
	for _, k := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&out, "  %-24s %8.1f\n", k, float64(files[k])/float64(msgs))
	}
	st, err := storage.Open(filepath.Join(dir, "store"), storage.Options{MinFreeBytes: -1})
	if err != nil {
		return err
	}
	f, err := st.Footprint(b.TempDir())
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(&out, "store, per message:\n%s", f.String(msgs))
	b.Log(out.String())
	return nil
}
