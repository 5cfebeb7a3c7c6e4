package p2p

import (
	"context"
	"log/slog"
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

// acceptCounter is a Handler that takes in any event whose parents it
// holds, counting its Accept calls; its other methods are not called.
type acceptCounter struct {
	Handler
	held  map[protocol.EventID]bool
	calls int
}

func (a *acceptCounter) Accept(_ context.Context, _ protocol.NodeID, _ protocol.RoomID, events []*protocol.Signed) []error {
	a.calls++
	errs := make([]error, len(events))
	for i, e := range events {
		for _, p := range e.Prev {
			if !a.held[p] {
				errs[i] = &protocol.MissingError{IDs: []protocol.EventID{p}}
			}
		}
		if errs[i] == nil {
			a.held[e.ID] = true
		}
	}
	return errs
}

func (a *acceptCounter) Held(_ context.Context, ids []protocol.EventID, _ []protocol.Links) []bool {
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = a.held[id]
	}
	return out
}

// TestAdoptTakesARunInOneBatch: a partner's run of events that arrived
// child first (each waiting for the one before) is taken in with one
// Accept, parents first, once the run's first parent is held.
func TestAdoptTakesARunInOneBatch(t *testing.T) {
	root := protocol.EventID{0xaa}
	handler := &acceptCounter{held: map[protocol.EventID]bool{}}
	h := &Host{handler: handler, log: slog.New(slog.DiscardHandler), stats: stats{rooms: map[protocol.RoomID]*roomCounters{}}}
	const run = 50
	prev := root
	var events []*protocol.Signed
	for i := range run {
		e := &protocol.Signed{ID: protocol.EventID{byte(i + 1)}}
		e.Room, e.Type, e.Depth, e.Prev = protocol.RoomID{1}, protocol.TypeMessagePost, uint64(i+1), []protocol.EventID{prev}
		events = append(events, e)
		prev = e.ID
	}
	for i := run - 1; i >= 0; i-- { // children first, as gossip may deliver them
		h.orphaned(t.Context(), &orphan{e: events[i], parked: time.Now()}, events[i].Prev)
	}
	if handler.calls != 0 {
		t.Fatalf("%d Accept calls before the run's parent was held", handler.calls)
	}
	handler.held[root] = true
	h.adopt(t.Context(), root)
	for _, e := range events {
		if !handler.held[e.ID] {
			t.Fatalf("event at depth %d not taken in", e.Depth)
		}
	}
	if handler.calls != 1 {
		t.Errorf("the run of %d took %d Accept calls, want 1", run, handler.calls)
	}
}

// TestOrphanAnswers: an orphan whose validator waits for it is told once
// what became of it: nil when adopted, errGaveUp when it expired or the
// orphanage was full.
func TestOrphanAnswers(t *testing.T) {
	root := protocol.EventID{0xaa}
	handler := &acceptCounter{held: map[protocol.EventID]bool{}}
	h := bareHost(handler)
	e := &protocol.Signed{ID: protocol.EventID{1}}
	e.Room, e.Type, e.Depth, e.Prev = protocol.RoomID{1}, protocol.TypeMessagePost, 2, []protocol.EventID{root}

	adopted := &orphan{e: e, parked: time.Now(), answer: make(chan error, 1)}
	h.orphaned(t.Context(), adopted, e.Prev)
	select {
	case err := <-adopted.answer:
		t.Fatalf("answered %v before its parent was held", err)
	default:
	}
	handler.held[root] = true
	h.adopt(t.Context(), root)
	if err := <-adopted.answer; err != nil {
		t.Errorf("adopted orphan answered %v, want nil", err)
	}

	lost := &orphan{e: &protocol.Signed{ID: protocol.EventID{2}}, parked: time.Now(), answer: make(chan error, 1)}
	if !h.orphans.park(lost, []protocol.EventID{{0xbb}}) {
		t.Fatal("park refused")
	}
	h.expireOrphans(time.Now().Add(time.Second))
	if err := <-lost.answer; err != errGaveUp {
		t.Errorf("expired orphan answered %v, want errGaveUp", err)
	}
}
