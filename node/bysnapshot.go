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
	gen    uint64 // raised by reset
}

func (c *bySnapshot[V]) get(k protocol.SnapshotKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// reset drops every value, for values that depend on more than the
// snapshot when that changes.
func (c *bySnapshot[V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.weighs = nil, 0
	c.gen++
}

// generation returns a number that reset raises: a value worked out after
// reading it may be added with addIf.
func (c *bySnapshot[V]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// addIf adds v unless reset was called since generation returned gen.
func (c *bySnapshot[V]) addIf(gen uint64, k protocol.SnapshotKey, v V) { c.put(k, v, &gen) }

func (c *bySnapshot[V]) add(k protocol.SnapshotKey, v V) { c.put(k, v, nil) }

func (c *bySnapshot[V]) put(k protocol.SnapshotKey, v V, gen *uint64) {
	w := 1
	if c.weight != nil {
		w = max(1, c.weight(v))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != nil && *gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= c.max || (c.maxWeight > 0 && c.weighs+w > c.maxWeight) {
		c.m = make(map[protocol.SnapshotKey]V, min(c.max, 64))
		c.weighs = 0
	}
	if _, ok := c.m[k]; !ok {
		c.weighs += w
	}
	c.m[k] = v
}
