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
	seen := make(map[protocol.EventID]bool)
	var q depthQueue
	push := func(ids []protocol.EventID) error {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			p, err := tx.Event(id)
			if err != nil {
				return err
			}
			if p == nil {
				return fmt.Errorf("event %s: %w", id, ErrNotFound)
			}
			heap.Push(&q, p)
		}
		return nil
	}
	if err := push(e.Prev); err != nil {
		return 0, fmt.Errorf("chain reach of %s: %w", e.ID, err)
	}
	for q.Len() > 0 {
		p := heap.Pop(&q).(*protocol.Signed)
		if p.Origin == origin {
			return p.Seq, nil
		}
		if p.Depth <= floor.Depth {
			continue // its past is below floor; what is queued may be at floor's depth
		}
		if known != "" && p.Origin == known {
			continue // accounted for
		}
		if err := push(p.Prev); err != nil {
			return 0, fmt.Errorf("chain reach of %s: %w", e.ID, err)
		}
	}
	return 0, nil
}
