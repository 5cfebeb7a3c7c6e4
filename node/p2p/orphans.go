package p2p

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/horenso/horenso/protocol"
)

// Gossip events whose parents the node lacks wait for them in the host's
// orphanage. Under load gossip often delivers a child before its parent:
// they travel different paths through the mesh, and the parent follows
// within milliseconds. Asking for a sync at once, as an event with
// unknown parents otherwise needs, made each such event cost a sync round
// that mostly fetched what gossip was about to deliver.
//
// How long an orphan waits is Config.OrphanWait.

// maxOrphans bounds the orphans waiting at once, across rooms; an event
// over it is not kept, and a sync is made due at once.
const maxOrphans = 4096

// The same wait applies to a sync request naming heads this node lacks:
// the requester has events this node does not, usually ones gossip is
// delivering at that moment. A pull-back sync of the room is made due only
// if they are still missing Config.OrphanWait later.

// orphan is a checked gossip event whose parents were missing.
type orphan struct {
	e      *protocol.Signed
	from   peer.ID
	parked time.Time
	// answer, if not nil, is sent what became of the orphan, once: nil
	// or ErrSoftFailed when adopted, errGaveUp when it expired or found
	// the orphanage full, or why it was refused. Its validator waits on
	// it (cap 1, so sending never blocks).
	answer chan error
}

// errGaveUp answers an orphan whose parents did not arrive in time.
var errGaveUp = errors.New("p2p: parents did not arrive in time")

// tell sends err to o's answer, if it has one.
func (o *orphan) tell(err error) {
	if o.answer != nil {
		o.answer <- err
	}
}

// orphanage holds the orphans, by the parents they wait for. An orphan
// waiting for several parents is listed under each; whichever arrives
// first retries it, and it is parked again if others are still missing.
type orphanage struct {
	mu      sync.Mutex
	waiting map[protocol.EventID][]*orphan // by missing parent
	queue   []*orphan                      // by parked time, adopted ones included until swept
	adopted map[*orphan]bool
	pulls   map[pullKey]*pull // pull-backs waiting, one per peer and room
}

type pullKey struct {
	p    peer.ID
	room protocol.RoomID
}

// pull is a pull-back waiting: heads are the requester's latest.
type pull struct {
	heads []protocol.EventID
	since time.Time
}

// pullLater notes that p has heads of room this node lacks. A pull already
// waiting for p and room keeps its time and takes the newer heads.
func (a *orphanage) pullLater(p peer.ID, room protocol.RoomID, heads []protocol.EventID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pulls == nil {
		a.pulls = make(map[pullKey]*pull)
	}
	k := pullKey{p, room}
	if w := a.pulls[k]; w != nil {
		w.heads = heads
		return
	}
	a.pulls[k] = &pull{heads: heads, since: time.Now()}
}

// duePulls removes and returns the pull-backs waiting since before cutoff.
func (a *orphanage) duePulls(cutoff time.Time) map[pullKey]*pull {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out map[pullKey]*pull
	for k, w := range a.pulls {
		if w.since.Before(cutoff) {
			if out == nil {
				out = make(map[pullKey]*pull)
			}
			out[k] = w
			delete(a.pulls, k)
		}
	}
	return out
}

// park keeps o until one of missing arrives or it expires; it reports
// false, keeping nothing, if the orphanage is full.
func (a *orphanage) park(o *orphan, missing []protocol.EventID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) >= maxOrphans {
		return false
	}
	if a.waiting == nil {
		a.waiting = make(map[protocol.EventID][]*orphan)
		a.adopted = make(map[*orphan]bool)
	}
	for _, id := range missing {
		a.waiting[id] = append(a.waiting[id], o)
	}
	a.queue = append(a.queue, o)
	return true
}

// take removes and returns the orphans waiting for parent, each once.
func (a *orphanage) take(parent protocol.EventID) []*orphan {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*orphan
	for _, o := range a.waiting[parent] {
		if !a.adopted[o] {
			a.adopted[o] = true
			out = append(out, o)
		}
	}
	delete(a.waiting, parent)
	return out
}

// expire removes the orphans parked before cutoff and returns those not
// taken.
func (a *orphanage) expire(cutoff time.Time) []*orphan {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for n < len(a.queue) && a.queue[n].parked.Before(cutoff) {
		n++
	}
	if n == 0 {
		return nil
	}
	old := a.queue[:n]
	a.queue = append(a.queue[:0:0], a.queue[n:]...)
	gone := make(map[*orphan]bool, n)
	var out []*orphan
	for _, o := range old {
		gone[o] = true
		if !a.adopted[o] {
			out = append(out, o)
		}
		delete(a.adopted, o)
	}
	for id, os := range a.waiting {
		kept := os[:0]
		for _, o := range os {
			if !gone[o] {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			delete(a.waiting, id)
		} else {
			a.waiting[id] = kept
		}
	}
	return out
}

// orphaned parks o, whose parents missing the node lacks. If the
// orphanage is full it makes a sync due instead. A parent accepted
// between the Handler's answer and the parking would not wake o, so o is
// retried at once if any of missing is held now.
func (h *Host) orphaned(ctx context.Context, o *orphan, missing []protocol.EventID) {
	if !h.orphans.park(o, missing) {
		h.stats.gossipIgnored.Add(1)
		h.schedule(o.from, o.e.RoomID())
		o.tell(errGaveUp)
		return
	}
	for i, held := range h.handler.Held(ctx, missing, nil) {
		if held {
			h.adopt(ctx, missing[i])
			return
		}
	}
}

// adopt retries the orphans waiting for parent, which the node now holds,
// and those waiting for them in turn. It takes them all at once and
// stores them in one batch per room and sender, parents before children:
// a partner's run of events that gossip delivered child first (each event
// follows its origin's previous one) is then one store Update, where
// retrying them one after another cost a durable commit each, in sequence.
func (h *Host) adopt(ctx context.Context, parent protocol.EventID) {
	var taken []*orphan
	for work := []protocol.EventID{parent}; len(work) > 0; {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		for _, o := range h.orphans.take(id) {
			taken = append(taken, o)
			work = append(work, o.e.ID)
		}
	}
	if len(taken) == 0 {
		return
	}
	// A child is deeper than its parents: by depth is parents first.
	slices.SortStableFunc(taken, func(a, b *orphan) int { return a.e.Order().Compare(b.e.Order()) })
	type batchKey struct {
		room protocol.RoomID
		from peer.ID
	}
	batches := map[batchKey][]*orphan{}
	var keys []batchKey
	for _, o := range taken {
		k := batchKey{o.e.RoomID(), o.from}
		if batches[k] == nil {
			keys = append(keys, k)
		}
		batches[k] = append(batches[k], o)
	}
	var accepted []protocol.EventID
	for _, k := range keys {
		os := batches[k]
		events := make([]*protocol.Signed, len(os))
		for i, o := range os {
			events[i] = o.e
		}
		errs := h.handler.Accept(ctx, nodeID(k.from), k.room, events)
		for i, o := range os {
			var err error
			if i < len(errs) {
				err = errs[i]
			} else {
				err = fmt.Errorf("handler returned %d results for %d events", len(errs), len(events))
			}
			var miss *protocol.MissingError
			switch {
			case err == nil || errors.Is(err, ErrSoftFailed):
				h.stats.gossipAdopted.Add(1)
				h.stats.room(k.room).accepted.Add(1)
				accepted = append(accepted, o.e.ID)
				o.tell(err)
			case errors.As(err, &miss):
				// Another parent is still missing (perhaps one of
				// another sender's batch, below): wait on, from the
				// time it was first parked.
				h.orphaned(ctx, &orphan{e: o.e, from: o.from, parked: o.parked, answer: o.answer}, miss.IDs)
			default:
				// Its parents are in and it is refused still, or the node
				// failed to store it: a sync settles it.
				h.log.Debug("orphan refused", "event", o.e.ID, "err", err)
				h.schedule(o.from, k.room)
				o.tell(err)
			}
		}
	}
	// Orphans parked again above for a parent that a later batch took in.
	for _, id := range accepted {
		h.adopt(ctx, id)
	}
}

// sweepOrphans expires orphans that waited Config.OrphanWait in vain, making a
// sync of their rooms with the peers they came from due, and makes the
// pull-backs due whose heads are still missing after that, until
// ctx ends.
func (h *Host) sweepOrphans(ctx context.Context) {
	t := time.NewTicker(h.cfg.OrphanWait / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cutoff := now.Add(-h.cfg.OrphanWait)
			seen := h.expireOrphans(cutoff)
			for k, w := range h.orphans.duePulls(cutoff) {
				if !seen[k] && slices.Contains(h.handler.Held(ctx, w.heads, nil), false) {
					seen[k] = true
					h.schedule(k.p, k.room)
				}
			}
		}
	}
}

// expireOrphans gives up the orphans parked before cutoff: each is told
// errGaveUp, and a sync of its room with the peer it came from is made
// due. It returns the (peer, room) pairs made due.
func (h *Host) expireOrphans(cutoff time.Time) map[pullKey]bool {
	seen := map[pullKey]bool{}
	for _, o := range h.orphans.expire(cutoff) {
		h.stats.gossipIgnored.Add(1)
		o.tell(errGaveUp)
		k := pullKey{o.from, o.e.RoomID()}
		if !seen[k] {
			seen[k] = true
			h.schedule(k.p, k.room)
		}
	}
	return seen
}
