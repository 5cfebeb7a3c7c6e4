package storage

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestRestoreVersionsIsEveryCommit writes, overwrites and deletes keys one
// commit at a time while a chain of backups is taken the way the node's
// backup job takes it (a Hold kept open from one increment to the next),
// with purges (full compactions) in between, and restores the chain to
// versions inside increments, not only at their ends: each restore must
// be exactly the store after that commit, a key set, deleted and set
// again within one increment included.
func TestRestoreVersionsIsEveryCommit(t *testing.T) {
	s := openTest(t, t.TempDir())
	var files [][]byte
	hold := s.Hold()
	var base bytes.Buffer
	if _, err := hold.WriteSince(&base, 0); err != nil {
		t.Fatal(err)
	}
	files = append(files, base.Bytes())
	type point struct {
		version uint64
		state   map[string]string
	}
	var points []point
	state := map[string]string{}
	k := func(i int) []byte { return []byte{0xe0, byte(i)} }
	for j := range 60 {
		update(t, s, func(tx *Tx) error {
			i := j % 7
			if err := tx.set(k(i), fmt.Appendf(nil, "v%d", j)); err != nil {
				return err
			}
			state[string(k(i))] = fmt.Sprintf("v%d", j)
			if j%3 == 0 {
				d := (j + 2) % 5
				delete(state, string(k(d)))
				return tx.delete(k(d))
			}
			return nil
		})
		points = append(points, point{s.Version(), maps.Clone(state)})
		if j%20 == 10 {
			// Compaction must not take what the hold protects.
			if err := s.Purge(); err != nil {
				t.Fatal(err)
			}
		}
		if j%15 == 14 {
			next := s.Hold()
			var inc bytes.Buffer
			if _, err := next.WriteSince(&inc, hold.Version()); err != nil {
				t.Fatal(err)
			}
			files = append(files, inc.Bytes())
			hold.Release()
			hold = next
		}
	}
	hold.Release()
	opens := make([]func() (io.ReadCloser, error), len(files))
	for i, f := range files {
		opens[i] = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f)), nil }
	}
	for i, p := range points {
		if i%4 != 1 && i != len(points)-1 {
			continue
		}
		t.Run(fmt.Sprintf("version %d", p.version), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "restored")
			if err := RestoreVersions(dir, opens, p.version, Options{}); err != nil {
				t.Fatal(err)
			}
			r := openTest(t, dir)
			got := map[string]string{}
			view(t, r, func(tx *Tx) error {
				it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{0xe0}})
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					v, err := it.Item().ValueCopy(nil)
					if err != nil {
						return err
					}
					got[string(it.Item().Key())] = string(v)
				}
				return nil
			})
			if !maps.Equal(got, p.state) {
				t.Fatalf("restored to version %d:\n got %q\nwant %q", p.version, got, p.state)
			}
			if r.Version() < p.version {
				t.Errorf("restored store's version %d is below the restored point %d: new commits would reuse versions", r.Version(), p.version)
			}
		})
	}
}
