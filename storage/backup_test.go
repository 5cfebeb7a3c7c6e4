package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestBackupIsOneInstant writes pairs of keys far apart in the key space,
// each pair in one Update, while backups are taken, and checks every
// restored backup holds both keys of each pair or neither: a backup is
// the store at one instant, not a mix of times.
func TestBackupIsOneInstant(t *testing.T) {
	// Small memtables, and enough data for several tables: Badger's
	// stream splits its work by table.
	s, err := Open(t.TempDir(), Options{MemTableBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pad := bytes.Repeat([]byte{'x'}, 1024)
	for i := range 160 {
		update(t, s, func(tx *Tx) error {
			for j := range 128 {
				k := binary.BigEndian.AppendUint64([]byte{0xe8}, uint64(i*128+j))
				if err := tx.set(k, pad); err != nil {
					return err
				}
			}
			return nil
		})
	}
	ctx, stop := context.WithCancel(t.Context())
	var writers sync.WaitGroup
	writers.Go(func() {
		for i := uint64(0); ctx.Err() == nil; i++ {
			n := binary.BigEndian.AppendUint64(nil, i)
			err := s.Update(ctx, func(tx *Tx) error {
				if err := tx.set(append([]byte{0xe0}, n...), n); err != nil {
					return err
				}
				return tx.set(append([]byte{0xf0}, n...), n)
			})
			if err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	})
	defer func() { stop(); writers.Wait() }()
	for b := range 5 {
		var buf bytes.Buffer
		if err := s.Backup(&buf); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "restored")
		if err := Restore(dir, &buf, Options{}); err != nil {
			t.Fatal(err)
		}
		r := openTest(t, dir)
		count := func(prefix byte) int {
			n := 0
			view(t, r, func(tx *Tx) error {
				it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefix}})
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					n++
				}
				return nil
			})
			return n
		}
		if lo, hi := count(0xe0), count(0xf0); lo != hi {
			t.Fatalf("backup %d holds %d first halves of pairs and %d second halves", b, lo, hi)
		}
		r.Close()
	}
}
