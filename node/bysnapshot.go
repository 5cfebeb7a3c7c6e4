package node

import (
	"sync"

	"github.com/horenso/horenso/protocol"
)

// bySnapshot keeps values derived from control snapshots, by snapshot key,
// for a node's goroutines to share. A snapshot key names a set of events,
// so a value never goes stale, even one added by a transaction that later
// failed. When it holds max values, or values of more than maxWeight in
// all by weight (a snapshot of a 5,000-member room weighs as much as
// thousands of small ones), it starts afresh.
type bySnapshot[V any] struct {
	max       int
	maxWeight int
	weight    func(V) int // nil: every value weighs 1

	mu     sync.Mutex
	m      map[protocol.SnapshotKey]V
	weighs int
}

func (c *bySnapshot[V]) get(k protocol.SnapshotKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *bySnapshot[V]) add(k protocol.SnapshotKey, v V) {
	w := 1
	if c.weight != nil {
		w = max(1, c.weight(v))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max || (c.maxWeight > 0 && c.weighs+w > c.maxWeight) {
		c.m = make(map[protocol.SnapshotKey]V, min(c.max, 64))
		c.weighs = 0
	}
	if _, ok := c.m[k]; !ok {
		c.weighs += w
	}
	c.m[k] = v
}
