package node

import (
	"context"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// In a room with chains, what a partner lacks can often be read off the
// chains instead of walked: it holds each origin's chain up to some
// position, and lacks the rest. A sync request of protocol version 2
// names those positions (protocol.SyncWant.Chains; see Have); in one of
// version 1, the events it named give them where this node holds them (it
// names each origin's tip and an event 32 positions below). When there is
// a position on every origin's chain this node holds, the answer is, for
// each origin, its events above that position, merged by depth. That
// reads each event sent once, where the walk read it twice (once for its
// links, once to send it) and read the events around the partner's named
// ones too: catching up 100,000 events, the walk was half of the serving
// node's reads.
//
// A position from a named event below the partner's tip (a depth sample)
// makes some events it holds sent again, which the receiver skips. An
// equivocation (an origin's second event at a position) is on no chain,
// so a room with one falls back to the walk.
//
// A named position is the requester's word, and nothing is sent that it
// says it holds. Lying only keeps events from itself. But an honest
// requester may hold the other side of an equivocation this node has not
// seen: its event at a position is not this node's. Where this node holds
// the named position, the event named there must be its own, or it walks
// (which sends its side, after which both nodes know the fork). Where the
// requester is ahead, this node cannot tell, and sends nothing of that
// chain; the fork is found when it asks the requester in turn, naming its
// own position, which the requester holds.

// chainCursor is where emitChains has got to on one origin's chain.
type chainCursor struct {
	room   protocol.RoomID
	origin protocol.NodeID
	next   uint64        // the position to read next
	last   uint64        // the highest position to send
	read   []chainedWire // read from positions before next, not sent yet; the first is the next to send
}

// chainedWire is an event read off a chain: its wire form and its place
// in the room's order.
type chainedWire struct {
	wire  []byte
	order protocol.Order
}

// chainPlan returns a cursor per origin of have.Room for emitChains, from
// the positions have.Chains names and the chain positions of the events
// of have.Heads this node holds, or false if the room is not one to answer
// from its chains: no chains, more origins than a walk keeps, an origin
// with no position given (when have names no chains: with chains, an
// origin not named is one the requester holds nothing of), an event named
// at a position this node holds another event at, or an equivocation in
// the room.
func chainPlan(tx *storage.Tx, have protocol.SyncWant) ([]*chainCursor, bool, error) {
	room := have.Room
	tips, err := tx.ChainTips(room, maxWalkOrigins+1)
	if err != nil || len(tips) == 0 || len(tips) > maxWalkOrigins {
		return nil, false, err
	}
	held := make(map[protocol.NodeID]uint64, len(tips))
	for _, id := range have.Heads {
		l, ok, err := tx.EventLinks(id)
		if err != nil {
			return nil, false, err
		}
		if ok && l.RoomID(id) == room && l.Seq > held[l.Origin] {
			held[l.Origin] = l.Seq
		}
	}
	for _, c := range have.Chains {
		id, ok, err := tx.Position(room, c.Origin, c.Seq)
		if err != nil {
			return nil, false, err
		}
		if ok && id != c.ID {
			return nil, false, nil // the requester holds the other side of an equivocation
		}
		held[c.Origin] = max(held[c.Origin], c.Seq)
	}
	var plan []*chainCursor
	for _, t := range tips {
		from := held[t.Origin]
		if from == 0 && len(have.Chains) == 0 {
			return nil, false, nil
		}
		// An origin's equivocation, at any position, is on no chain:
		// the other node may lack it however far it holds the chain.
		forked, err := tx.Forked(room, t.Origin)
		if err != nil || forked {
			return nil, false, err
		}
		if from >= t.Seq {
			continue
		}
		plan = append(plan, &chainCursor{room: room, origin: t.Origin, next: from + 1, last: t.Seq})
	}
	return plan, true, nil
}

// emitChains calls emit with the events of the chains of plan, by depth
// then ID (parents before children), in the form node peer is sent
// (servedForm), reading missingChunkBytes at a time. An event missing
// from a position (there is none, or it is no longer stored) is skipped.
func (n *Node) emitChains(ctx context.Context, peer protocol.NodeID, room protocol.RoomID, plan []*chainCursor, emit func(wire []byte) error) error {
	return n.emitChunks(ctx, room, "missing events by chain", emit, func(tx *storage.Tx, memo map[protocol.SnapshotKey]bool, add func([]byte) bool) (bool, error) {
		for {
			var first *chainCursor
			for _, c := range plan {
				if len(c.read) == 0 {
					if err := c.load(tx); err != nil {
						return false, err
					}
				}
				if len(c.read) > 0 && (first == nil || c.read[0].order.Compare(first.read[0].order) < 0) {
					first = c
				}
			}
			if first == nil {
				return false, nil
			}
			next := first.read[0]
			first.read = first.read[1:]
			w := next.wire
			if memo != nil {
				var err error
				if w, err = n.servedWire(tx, peer, next.order.ID, memo); err != nil {
					return false, err
				}
			}
			if w != nil && !add(w) {
				return true, nil
			}
		}
	})
}

// load reads the next events of c's chain that the store holds, if any
// are left to send, into c.read: those at the next chainReadAhead
// positions, or fewer if the store holds fewer.
func (c *chainCursor) load(tx *storage.Tx) error {
	for len(c.read) == 0 && c.next <= c.last {
		to := min(c.last, c.next+chainReadAhead-1)
		var bad error
		err := tx.ChainEvents(c.room, c.origin, c.next, to, func(_ uint64, id protocol.EventID, w []byte) bool {
			l, err := protocol.DecodeStoredLinks(w)
			if err != nil {
				bad = fmt.Errorf("event %s: %w", id, err)
				return false
			}
			c.read = append(c.read, chainedWire{wire: w, order: protocol.Order{Depth: l.Depth, ID: id}})
			return true
		})
		if err == nil {
			err = bad
		}
		if err != nil {
			return err
		}
		c.next = to + 1
	}
	return nil
}

// chainReadAhead is how many chain positions a chainCursor reads at once:
// its events' wire forms are held until sent, up to ~30 KB per origin of
// the room (maxWalkOrigins of them at most).
const chainReadAhead = 64
