// Package measure is the arithmetic benchmarks share: calling at a steady
// rate, quantiles of latencies, the disk size of a store. Only tests and
// benchmarks import it. It imports nothing but the standard library, so
// the tests of any package of the module may import it without bending
// the dependency rules.
package measure

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Pace calls call(i) for i = 0 … n-1, call i due at start + i/rate (rate
// calls a second), from workers goroutines, and returns once every call
// made has returned. A call starts late only when every worker is busy with
// an earlier one, so call should record the time it really starts. Calls
// not started by until, or once ctx is done, are skipped. Pace returns how
// many calls were started.
func Pace(ctx context.Context, n int, rate float64, workers int, until time.Time, call func(i int)) int {
	start := time.Now()
	var next, started atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				if ctx.Err() != nil || time.Now().After(until) {
					return
				}
				started.Add(1)
				call(i)
			}
		})
	}
	wg.Wait()
	return int(started.Load())
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of ds by nearest rank: the
// smallest duration at least a fraction q of ds do not exceed. It sorts ds
// in place. It returns 0 if ds is empty.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min(len(ds)-1, max(0, int(q*float64(len(ds))+0.5)-1))
	return ds[i]
}

// Ms returns d in milliseconds, the unit of the -ms metrics.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Us returns d in microseconds, the unit of the -us metrics.
func Us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// DirSize returns the sum of the sizes of the files under dir.
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", dir, err)
	}
	return total, nil
}
