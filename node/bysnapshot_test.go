package node

import (
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestBySnapshotDropsOldest: a full cache drops the values added first,
// by count and by weight, and keeps the newest: a room's current snapshot
// stays cached however heavy the ones before it.
func TestBySnapshotDropsOldest(t *testing.T) {
	c := bySnapshot[int]{max: 4, maxWeight: 100, weight: func(v int) int { return v }}
	key := func(i int) protocol.SnapshotKey { return protocol.SnapshotKey{byte(i), byte(i >> 8)} }
	has := func(want ...int) {
		t.Helper()
		in := map[int]bool{}
		for _, i := range want {
			in[i] = true
		}
		for i := range 300 {
			if _, ok := c.get(key(i)); ok != in[i] {
				t.Errorf("value %d cached: %v, want %v", i, ok, in[i])
			}
		}
	}
	for i := range 6 { // weight 1 each: the count bounds
		c.add(key(i), 1)
	}
	has(2, 3, 4, 5)
	c.add(key(6), 60) // 1+1+1+60: fits
	has(3, 4, 5, 6)
	c.add(key(7), 50) // over 100: drops 3, 4, 5, then 6
	has(7)
	c.add(key(8), 500) // heavier than the bound alone: kept alone
	has(8)
	for i := 100; i < 300; i++ { // many: the order's room is taken back
		c.add(key(i), 1)
	}
	has(296, 297, 298, 299)
	if len(c.order)-c.head != 4 || len(c.order) > 8 {
		t.Errorf("order holds %d keys from %d, want the 4 cached", len(c.order), c.head)
	}
	gen := c.generation()
	c.reset()
	has()
	c.addIf(gen, key(1), 1)
	has()
}
