package node

import (
	"context"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// In a room with chains, what a partner lacks can often be read off the
// chains instead of walked: it holds each origin's chain up to some
// position, and lacks the rest. When the events it named give a position
// on every origin's chain this node holds (a sync request names each
// origin's tip; see Heads), the answer is, for each origin, its events
// above that position, merged by depth. That reads each event sent once,
// where the walk read it twice (once for its links, once to send it) and
// read the events around the partner's named ones too: catching up
// 100,000 events, the walk was half of the serving node's reads.
//
// A position from a named event below the partner's tip (a depth sample)
// makes some events it holds sent again, which the receiver skips. An
// equivocation (an origin's second event at a position) is on no chain,
// so a room with one falls back to the walk.

// chainCursor is where emitChains has got to on one origin's chain.
type chainCursor struct {
	room   protocol.RoomID
	origin protocol.NodeID
	next   uint64             // the position to read next
	last   uint64             // the highest position to send
	ids    []protocol.EventID // read from positions before next, not loaded yet
	// The event at next-1, read and not sent yet; wire is nil if none.
	wire  []byte
	order protocol.Order
}

// chainPlan returns a cursor per origin of room for emitChains, from the
// chain positions of the events of have this node holds, or false if the
// room is not one to answer from its chains: no chains, more origins than
// a walk keeps, an origin with no position among have, or an
// equivocation in the room.
func chainPlan(tx *storage.Tx, room protocol.RoomID, have []protocol.EventID) ([]*chainCursor, bool, error) {
	tips, err := tx.ChainTips(room, maxWalkOrigins+1)
	if err != nil || len(tips) == 0 || len(tips) > maxWalkOrigins {
		return nil, false, err
	}
	held := make(map[protocol.NodeID]uint64, len(tips))
	for _, id := range have {
		l, ok, err := tx.EventLinks(id)
		if err != nil {
			return nil, false, err
		}
		if ok && l.RoomID(id) == room && l.Seq > held[l.Origin] {
			held[l.Origin] = l.Seq
		}
	}
	var plan []*chainCursor
	for _, t := range tips {
		from := held[t.Origin]
		if from == 0 {
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
				if c.wire == nil {
					if err := c.load(tx); err != nil {
						return false, err
					}
				}
				if c.wire != nil && (first == nil || c.order.Compare(first.order) < 0) {
					first = c
				}
			}
			if first == nil {
				return false, nil
			}
			w := first.wire
			if memo != nil {
				var err error
				if w, err = n.servedWire(tx, peer, first.order.ID, memo); err != nil {
					return false, err
				}
			}
			first.wire = nil
			if w != nil && !add(w) {
				return true, nil
			}
		}
	})
}

// load reads the next event of c's chain that the store holds, if any
// is left to send, into c.wire and c.order. It reads the chain's
// positions chainReadAhead at a time.
func (c *chainCursor) load(tx *storage.Tx) error {
	for c.wire == nil {
		if len(c.ids) == 0 {
			if c.next > c.last {
				return nil
			}
			to := min(c.last, c.next+chainReadAhead-1)
			err := tx.ChainRange(c.room, c.origin, c.next, to, func(_ uint64, id protocol.EventID) bool {
				c.ids = append(c.ids, id)
				return true
			})
			if err != nil {
				return err
			}
			c.next = to + 1
			continue
		}
		id := c.ids[0]
		c.ids = c.ids[1:]
		w, err := tx.EventWire(id)
		if err != nil {
			return err
		}
		if w == nil {
			continue
		}
		l, err := protocol.DecodeStoredLinks(w)
		if err != nil {
			return fmt.Errorf("event %s: %w", id, err)
		}
		c.wire, c.order = w, protocol.Order{Depth: l.Depth, ID: id}
	}
	return nil
}

// chainReadAhead is how many chain positions a chainCursor reads at once.
const chainReadAhead = 256
