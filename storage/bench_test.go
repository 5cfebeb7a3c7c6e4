package storage

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkDurableWrite measures durable single-record Updates per second
// through a Store from 1, 8 and 64 concurrent writers, which share group
// commits: the same scenario and records as BenchmarkBadgerGroupCommit,
// through the Store's writer instead of straight into Badger, so that the
// two show what the writer costs.
func BenchmarkDurableWrite(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			measureWrites(b, writers, writesPerWriter(writers), func(k, v []byte) error {
				return s.Update(context.Background(), func(tx *Tx) error { return tx.set(k, v) })
			})
		})
	}
}
