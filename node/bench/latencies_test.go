package bench

import (
	"slices"
	"sync"
	"time"
)

// latencies collects durations from several goroutines.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ds = append(l.ds, d)
	l.mu.Unlock()
}

// take returns the durations collected since the last take.
func (l *latencies) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ds := l.ds
	l.ds = nil
	return ds
}

// quantile returns the q quantile (0 < q < 1) in milliseconds; 0 if
// there are none.
func (l *latencies) quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(l.ds))
	return ms(s[min(len(s)-1, int(float64(len(s))*q))])
}
