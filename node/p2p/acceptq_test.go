package p2p

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// gatedHandler is an acceptCounter whose first Accept waits for release,
// and that records each call's events.
type gatedHandler struct {
	Handler
	release chan struct{}
	entered chan struct{} // closed when the first Accept has started

	mu    sync.Mutex
	inner acceptCounter
	calls [][]protocol.EventID
}

func (g *gatedHandler) Accept(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) []error {
	g.mu.Lock()
	first := len(g.calls) == 0
	ids := make([]protocol.EventID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	g.calls = append(g.calls, ids)
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.release
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inner.Accept(ctx, from, room, events)
}

// newGated returns a gatedHandler that holds root.
func newGated(root protocol.EventID) *gatedHandler {
	return &gatedHandler{release: make(chan struct{}), entered: make(chan struct{}),
		inner: acceptCounter{held: map[protocol.EventID]bool{root: true}}}
}

// bareHost returns a Host that is not running, with handler.
func bareHost(handler Handler) *Host {
	return &Host{handler: handler, log: slog.New(slog.DiscardHandler), stats: stats{rooms: map[protocol.RoomID]*roomCounters{}}}
}

// chain returns n events of one room, each the child of the one before,
// the first a child of root.
func chain(root protocol.EventID, n int) []*protocol.Signed {
	var events []*protocol.Signed
	prev := root
	for i := range n {
		e := &protocol.Signed{ID: protocol.EventID{0x10, byte(i + 1)}}
		e.Room, e.Type, e.Depth, e.Prev = protocol.RoomID{1}, protocol.TypeMessagePost, uint64(i+2), []protocol.EventID{prev}
		events = append(events, e)
		prev = e.ID
	}
	return events
}

// TestAcceptQueueBatchesInOrder: while a sender's batch is being stored,
// its next events wait, and are then stored in one Accept, parents first,
// whatever order they arrived in; every caller gets its own event's result.
func TestAcceptQueueBatchesInOrder(t *testing.T) {
	root := protocol.EventID{0xaa}
	g := newGated(root)
	h := bareHost(g)
	room := protocol.RoomID{1}
	events := chain(root, 6)

	results := make([]error, len(events))
	var wg sync.WaitGroup
	wg.Go(func() { results[0] = h.accept(t.Context(), "peer", room, events[0]) })
	<-g.entered                             // the first batch, events[0] alone, is being stored
	for i := len(events) - 1; i >= 1; i-- { // the rest arrive children first
		wg.Go(func() { results[i] = h.accept(t.Context(), "peer", room, events[i]) })
	}
	// Wait until all five wait in the queue, then let the first batch end.
	for {
		h.acceptQs.mu.Lock()
		n := len(h.acceptQs.qs[acceptKey{room, "peer"}].pending)
		h.acceptQs.mu.Unlock()
		if n == len(events)-1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()

	for i, err := range results {
		if err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if len(g.calls) != 2 {
		t.Fatalf("%d Accept calls, want 2 (the first event, then the five that waited): %v", len(g.calls), g.calls)
	}
	want := make([]protocol.EventID, 0, 5)
	for _, e := range events[1:] {
		want = append(want, e.ID)
	}
	if !slices.Equal(g.calls[1], want) {
		t.Errorf("second batch %v, want parents first %v", g.calls[1], want)
	}
	h.acceptQs.mu.Lock()
	defer h.acceptQs.mu.Unlock()
	if len(h.acceptQs.qs) != 0 {
		t.Errorf("%d queues left after every batch was stored", len(h.acceptQs.qs))
	}
}

// TestAcceptQueueCancelWhileWaiting: a caller whose context ends while its
// event waits for the batch ahead gets the context's error, and its event
// is not stored.
func TestAcceptQueueCancelWhileWaiting(t *testing.T) {
	root := protocol.EventID{0xaa}
	g := newGated(root)
	h := bareHost(g)
	room := protocol.RoomID{1}
	events := chain(root, 2)

	var first error
	var wg sync.WaitGroup
	wg.Go(func() { first = h.accept(t.Context(), "peer", room, events[0]) })
	<-g.entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.accept(ctx, "peer", room, events[1]); err != context.Canceled {
		t.Errorf("cancelled caller got %v, want context.Canceled", err)
	}
	close(g.release)
	wg.Wait()
	if first != nil {
		t.Errorf("first event: %v", first)
	}
	if len(g.calls) != 1 || g.inner.held[events[1].ID] {
		t.Errorf("the cancelled event was stored: calls %v", g.calls)
	}
}
