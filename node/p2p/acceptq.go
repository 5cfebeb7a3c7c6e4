package p2p

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/horenso/horenso/protocol"
)

// Gossip validations run concurrently, a goroutine per message, so a
// partner's events, sent in order, reach Handler.Accept in whatever order
// the goroutines run: a child before its parent about a third of the time
// at 1,000 events/s (BenchmarkCrossNodeLatency), each such child an orphan
// waiting for its parent's durable commit and then one of its own. The
// accept queue puts the validations of one room and sender back in order:
// what arrives while that sender's previous batch is being stored waits,
// and is then taken in one Handler.Accept call, parents first (by depth),
// so a child checked in the same store Update as its parent finds it.
//
// Validations often end together: a batch of signature checks (sigcheck.go)
// releases its validators at once. A caller that finds the queue idle
// yields once (runtime.Gosched) before it takes its batch, so that those
// runnable at that moment join it; otherwise a child that ran first was
// stored alone, an orphan, with its parent a moment behind. On a quiet
// link nothing else is runnable and the yield returns at once. At 1,000
// events/s (BenchmarkCrossNodeLatency) the yield made a run's orphans 212–722
// instead of 1,154–2,292 (docs/PERFORMANCE.md, "The accept queue's leader
// yields once").

// acceptQueues holds an accept queue per room and sender with validations
// waiting or a batch being stored. Its zero value is ready to use.
type acceptQueues struct {
	mu sync.Mutex
	qs map[acceptKey]*acceptQueue
}

type acceptKey struct {
	room protocol.RoomID
	from peer.ID
}

// acceptQueue is the validations of one room and sender. While busy, one
// caller (the leader) is storing a batch and the others wait in pending;
// when its batch is done the leader hands the queue to the first of
// pending, which takes all of pending as the next batch.
type acceptQueue struct {
	busy    bool
	pending []*acceptCall
}

// acceptCall is one event waiting for its answer.
type acceptCall struct {
	e      *protocol.Signed
	err    error
	done   chan struct{} // closed once err is set
	lead   chan struct{} // closed when the call is to store the next batch
	leader bool          // lead is closed (guarded by acceptQueues.mu)
}

// accept hands e, which from sent in room, to Handler.Accept, in a batch
// with the other events of room and from that arrive while an earlier
// batch of theirs is being stored, and returns e's result. If ctx ends
// while e waits for its batch, it returns ctx's error and e is not stored.
func (h *Host) accept(ctx context.Context, from peer.ID, room protocol.RoomID, e *protocol.Signed) error {
	a := &h.acceptQs
	k := acceptKey{room, from}
	c := &acceptCall{e: e, done: make(chan struct{}), lead: make(chan struct{})}
	a.mu.Lock()
	if a.qs == nil {
		a.qs = make(map[acceptKey]*acceptQueue)
	}
	q := a.qs[k]
	if q == nil {
		q = &acceptQueue{}
		a.qs[k] = q
	}
	q.pending = append(q.pending, c)
	idle := !q.busy
	if idle {
		q.busy, c.leader = true, true
		close(c.lead)
	}
	a.mu.Unlock()
	if idle {
		runtime.Gosched() // let the validations runnable now join the batch
	}

	select {
	case <-c.done:
		return c.err
	case <-c.lead:
	case <-ctx.Done():
		a.mu.Lock()
		if i := slices.Index(q.pending, c); i >= 0 && !c.leader {
			q.pending = slices.Delete(q.pending, i, i+1)
			a.mu.Unlock()
			return ctx.Err()
		}
		a.mu.Unlock()
		// Taken into a batch, or made its leader: see it through.
		select {
		case <-c.done:
			return c.err
		case <-c.lead:
		}
	}
	h.storeBatch(context.WithoutCancel(ctx), k, q)
	<-c.done
	return c.err
}

// storeBatch is the leader's part: it takes q's pending calls, its own
// among them, stores them in one Handler.Accept, answers each, and hands
// q to the next caller waiting, if any.
func (h *Host) storeBatch(ctx context.Context, k acceptKey, q *acceptQueue) {
	a := &h.acceptQs
	a.mu.Lock()
	batch := q.pending
	q.pending = nil
	a.mu.Unlock()

	// A child is deeper than its parents: by depth is parents first.
	slices.SortStableFunc(batch, func(x, y *acceptCall) int { return x.e.Order().Compare(y.e.Order()) })
	events := make([]*protocol.Signed, len(batch))
	for i, c := range batch {
		events[i] = c.e
	}
	h.stats.acceptBatches.Add(1)
	errs := h.handler.Accept(ctx, nodeID(k.from), k.room, events)
	for i, c := range batch {
		if i < len(errs) {
			c.err = errs[i]
		} else {
			c.err = fmt.Errorf("handler returned %d results for %d events", len(errs), len(events))
		}
		close(c.done)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if len(q.pending) == 0 {
		q.busy = false
		delete(a.qs, k)
		return
	}
	next := q.pending[0]
	next.leader = true
	close(next.lead)
}
