package p2p

import (
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestOrphanageBounds: the orphanage keeps at most maxOrphans (a peer
// sending events with made-up parents cannot grow it), hands each orphan
// out once whichever of its parents arrives, and expires the rest.
func TestOrphanageBounds(t *testing.T) {
	var a orphanage
	t0 := time.Now()
	for i := range maxOrphans {
		o := &orphan{e: &protocol.Signed{ID: protocol.EventID{byte(i), byte(i >> 8)}}, parked: t0}
		parents := []protocol.EventID{{0xff, byte(i), byte(i >> 8)}, {0xfe}} // its own parent, and one shared by all
		if !a.park(o, parents) {
			t.Fatalf("orphan %d refused below the bound", i)
		}
	}
	if a.park(&orphan{e: &protocol.Signed{}, parked: t0}, []protocol.EventID{{1}}) {
		t.Fatal("orphanage took more than maxOrphans")
	}
	if got := a.take(protocol.EventID{0xff, 7}); len(got) != 1 || got[0].e.ID != (protocol.EventID{7}) {
		t.Fatalf("take(parent of orphan 7) = %v", got)
	}
	if got := a.take(protocol.EventID{0xfe}); len(got) != maxOrphans-1 {
		t.Errorf("take(shared parent) gave %d orphans, want %d (orphan 7 was taken already)", len(got), maxOrphans-1)
	}
	if got := a.expire(t0.Add(time.Second)); len(got) != 0 {
		t.Errorf("expire returned %d taken orphans", len(got))
	}
	if len(a.queue) != 0 || len(a.waiting) != 0 || len(a.adopted) != 0 {
		t.Errorf("orphanage not empty after expiry: %d queued, %d parents, %d adopted", len(a.queue), len(a.waiting), len(a.adopted))
	}
	late := &orphan{e: &protocol.Signed{ID: protocol.EventID{9}}, parked: t0}
	if !a.park(late, []protocol.EventID{{2}}) {
		t.Fatal("orphanage full after expiry")
	}
	if got := a.expire(t0.Add(time.Second)); len(got) != 1 || got[0] != late {
		t.Errorf("expire = %v, want the orphan whose parent never came", got)
	}
}
