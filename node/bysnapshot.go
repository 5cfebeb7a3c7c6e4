package node

import (
	"sync"

	"github.com/horenso/horenso/protocol"
)

// bySnapshot keeps values derived from control snapshots, by snapshot key,
// for a node's goroutines to share. A snapshot key names a set of events,
// so a value never goes stale, even one added by a transaction that later
// failed. It holds at most max values, of at most maxWeight in all by
// weight (a snapshot of a 5,000-member room weighs as much as thousands of
// small ones), dropping the values added first to make room. (It used to
// start afresh instead: in a room of a long control history, whose
// snapshots weigh megabytes, it did so every few control events, and
// whoever next asked for the room's current snapshot read it back from
// its last full record through thousands of deltas.)
type bySnapshot[V any] struct {
	max       int
	maxWeight int
	weight    func(V) int // nil: every value weighs 1

	mu     sync.Mutex
	m      map[protocol.SnapshotKey]entry[V]
	order  []protocol.SnapshotKey // keys of m, first added first (from head)
	head   int
	weighs int
	gen    uint64 // raised by reset
}

type entry[V any] struct {
	v V
	w int
}

func (c *bySnapshot[V]) get(k protocol.SnapshotKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e.v, ok
}

// reset drops every value, for values that depend on more than the
// snapshot when that changes.
func (c *bySnapshot[V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.order, c.head, c.weighs = nil, nil, 0, 0
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
	if c.m == nil {
		c.m = make(map[protocol.SnapshotKey]entry[V])
	}
	if old, ok := c.m[k]; ok {
		c.weighs -= old.w
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = entry[V]{v, w}
	c.weighs += w
	for len(c.m) > 1 && (len(c.m) > c.max || (c.maxWeight > 0 && c.weighs > c.maxWeight)) {
		first := c.order[c.head]
		c.head++
		c.weighs -= c.m[first].w
		delete(c.m, first)
	}
	if c.head > len(c.order)/2 { // drop the dropped keys' room now and then
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}
