package storage

import (
	"context"
	"fmt"
	"testing"
	"time"
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
			perWriter := writesPerWriter(writers)
			val := rawValue(0, postWriteBytes)
			var next uint64
			var busy time.Duration
			for b.Loop() {
				start := time.Now()
				err := concurrently(writers, func(w int) error {
					for j := range perWriter {
						k := rawKey(next + uint64(w*perWriter+j))
						if err := s.Update(context.Background(), func(tx *Tx) error { return tx.set(k, val) }); err != nil {
							return fmt.Errorf("write: %w", err)
						}
					}
					return nil
				})
				busy += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				next += uint64(writers * perWriter)
			}
			b.ReportMetric(float64(next)/busy.Seconds(), "records/s")
		})
	}
}
