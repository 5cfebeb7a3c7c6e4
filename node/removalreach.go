package node

import (
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// removalReachEntries bounds Node.removalReaches, about 150 bytes an entry.
const removalReachEntries = 16384

// removalReachBudget is how many events of a removal's past chainReach
// looks at for remembered reaches before it walks the past instead.
const removalReachBudget = 64

// reachKey names the reach of one node's chain in an event's past.
type reachKey struct {
	id     protocol.EventID
	origin protocol.NodeID
}

// reachAt is a reach as storage.Tx.ChainReachAt finds it: the position
// and order of the first of origin's events in an event's past, by order.
// Node.removalReaches holds it for an event's past and the event itself.
type reachAt struct {
	seq   uint64
	at    protocol.Order
	found bool
}

// chainReach returns storage.Tx.ChainReach(e, origin), the reach a
// removal's index entry records, from the reaches of e's parents when
// they are remembered or found within a few events of e, and otherwise by
// walking e's past. Each removal of a partner's accounts walked the whole
// history of the room when that node had signed nothing lately, taking
// its accounts out of a room one by one cost ever more. An event's past is
// fixed by its ID, so what is remembered is never stale, and the answer is
// the walk's exactly: the first of origin's events by order in e's past is
// the first of those of its parents' pasts and its parents themselves.
func (n *Node) chainReach(tx *storage.Tx, e *protocol.Signed, origin protocol.NodeID) (uint64, error) {
	budget := removalReachBudget
	r, ok, err := n.reachOfPast(tx, e.Prev, origin, &budget)
	if err != nil {
		return 0, err
	}
	if !ok {
		n.reachWalks.Add(1)
		seq, at, err := tx.ChainReachAt(e, origin)
		if err != nil {
			return 0, err
		}
		r = reachAt{seq: seq, at: at, found: at != protocol.Order{}}
	}
	// What is remembered of an event counts the event itself.
	with := r
	if e.Origin == origin {
		with = reachAt{seq: e.Seq, at: e.Order(), found: true}
	}
	n.removalReaches.Add(reachKey{e.ID, origin}, with)
	return r.seq, nil
}

// reachOfPast returns the reach of origin's chain in the past of an event
// whose parents are prev, if the reaches of those parents are remembered
// or found by looking at no more than *budget events; false if not.
func (n *Node) reachOfPast(tx *storage.Tx, prev []protocol.EventID, origin protocol.NodeID, budget *int) (reachAt, bool, error) {
	var best reachAt
	for _, p := range prev {
		r, known := n.removalReaches.Get(reachKey{p, origin})
		if !known {
			if *budget--; *budget < 0 {
				return reachAt{}, false, nil
			}
			l, ok, err := tx.EventLinks(p)
			if err != nil || !ok {
				return reachAt{}, false, err // a walk tells what is missing
			}
			if l.Origin == origin {
				// A parent of origin's is past everything in its own past.
				r = reachAt{seq: l.Seq, at: protocol.Order{Depth: l.Depth, ID: p}, found: true}
			} else if r, known, err = n.reachOfPast(tx, l.Prev, origin, budget); err != nil || !known {
				return reachAt{}, false, err
			}
			n.removalReaches.Add(reachKey{p, origin}, r)
		}
		if r.found && (!best.found || r.at.Compare(best.at) > 0) {
			best = r
		}
	}
	return best, true, nil
}
