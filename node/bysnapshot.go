package node

import (
	"sync"

	"github.com/horenso/horenso/protocol"
)

// bySnapshot keeps values derived from control snapshots, by snapshot key,
// for a node's goroutines to share. A snapshot key names a set of events,
// so a value never goes stale, even one added by a transaction that later
// failed. When it holds max values it starts afresh.
type bySnapshot[V any] struct {
	max int
	mu  sync.Mutex
	m   map[protocol.SnapshotKey]V
}

func (c *bySnapshot[V]) get(k protocol.SnapshotKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *bySnapshot[V]) add(k protocol.SnapshotKey, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[protocol.SnapshotKey]V, min(c.max, 64))
	}
	c.m[k] = v
}
