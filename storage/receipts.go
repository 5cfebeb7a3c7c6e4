package storage

import (
	"container/heap"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Receipt returns what PutReceipt recorded for node in room: the highest
// chain position of this node's events in the past of node's events
// there; false if nothing.
func (tx *Tx) Receipt(room protocol.RoomID, node protocol.NodeID) (uint64, bool, error) {
	b, err := tx.get(key(pReceipt, room[:], nodePart(node)))
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil || len(b) != 8 {
		return 0, false, fmt.Errorf("get receipt of %s in %s: %w", node, room, errors.Join(err, errBadValue))
	}
	return be64(b), true, nil
}

// PutReceipt records seq as the highest chain position of this node's
// events that node has acknowledged in room.
func (tx *Tx) PutReceipt(room protocol.RoomID, node protocol.NodeID, seq uint64) error {
	return wrap("put receipt", tx.set(key(pReceipt, room[:], nodePart(node)), u64(seq)))
}

var errBadValue = errors.New("malformed value")

// ChainReachAbove is ChainReach with a floor: it returns the highest
// chain position of origin's events in the causal past of e, but reads
// no further back than events no deeper than floor, whose past cannot
// hold an event at floor's depth or above; it may return 0 (or a lower
// position) when origin's newest event in e's past is below floor. With floor
// the order of the first of origin's events not yet known to be in the
// past, the walk reads only the part of e's past above it.
//
// The past of every event of node known found there (but e) is taken as
// accounted for and not read: a caller that keeps, event after event of
// known, the highest reach so far (known's events descend from known's
// previous one) walks only what e adds to it. Without that, each of a
// long run of known's events would walk the whole run back to floor.
func (tx *Tx) ChainReachAbove(e *protocol.Signed, origin protocol.NodeID, floor protocol.Order, known protocol.NodeID) (uint64, error) {
	seq, _, err := tx.chainReachAt(e, origin, floor, known)
	return seq, err
}

// ChainReachAt is ChainReach, and also the order of the event of origin
// it found (the zero Order if none): the first of origin's events in e's
// past by order, depth then ID, whose position ChainReach is. That event
// is the first by order of those in the pasts of e's parents, or a parent
// itself, so a caller can work out the reach of an event from its
// parents' exactly, equivocations and all.
func (tx *Tx) ChainReachAt(e *protocol.Signed, origin protocol.NodeID) (uint64, protocol.Order, error) {
	return tx.chainReachAt(e, origin, protocol.Order{}, "")
}

func (tx *Tx) chainReachAt(e *protocol.Signed, origin protocol.NodeID, floor protocol.Order, known protocol.NodeID) (uint64, protocol.Order, error) {
	seen := make(map[protocol.EventID]bool)
	var q linkQueue
	push := func(ids []protocol.EventID) error {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			l, ok, err := tx.EventLinks(id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("event %s: %w", id, ErrNotFound)
			}
			heap.Push(&q, linked{id: id, Links: l})
		}
		return nil
	}
	if err := push(e.Prev); err != nil {
		return 0, protocol.Order{}, fmt.Errorf("chain reach of %s: %w", e.ID, err)
	}
	for q.Len() > 0 {
		p := heap.Pop(&q).(linked)
		if p.Origin == origin {
			return p.Seq, protocol.Order{Depth: p.Depth, ID: p.id}, nil
		}
		if p.Depth <= floor.Depth {
			continue // its past is below floor; what is queued may be at floor's depth
		}
		if known != "" && p.Origin == known {
			continue // accounted for
		}
		if err := push(p.Prev); err != nil {
			return 0, protocol.Order{}, fmt.Errorf("chain reach of %s: %w", e.ID, err)
		}
	}
	return 0, protocol.Order{}, nil
}

// linked is an event's links and ID, as linkQueue holds them.
type linked struct {
	protocol.Links
	id protocol.EventID
}

// linkQueue is a max-heap of events' links by order (depth, then ID).
type linkQueue []linked

func (q linkQueue) Len() int { return len(q) }
func (q linkQueue) Less(i, j int) bool {
	a, b := protocol.Order{Depth: q[i].Depth, ID: q[i].id}, protocol.Order{Depth: q[j].Depth, ID: q[j].id}
	return a.Compare(b) > 0
}
func (q linkQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *linkQueue) Push(x any)   { *q = append(*q, x.(linked)) }
func (q *linkQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
