package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// This file is acknowledgements and delivery receipts, in rooms of
// version 2. With chains, every event a node makes in a room acknowledges
// its causal past: all of it was on the node when it signed. A node that
// received events it has not built on makes a node.ack, batched; and from
// the latest event of each member node, the node tells which of its own
// events that node has acknowledged (docs/PROTOCOL.md, "Acknowledgements").

// DefaultAckInterval is Config.AckInterval's default.
const DefaultAckInterval = 2 * time.Second

// ackQueue holds the rooms in which the node received another node's
// event (not an acknowledgement) since it last looked: the rooms it may
// have to acknowledge. mark never blocks on more than the mutex.
type ackQueue struct {
	mu    sync.Mutex
	rooms map[protocol.RoomID]struct{}
}

func (q *ackQueue) mark(room protocol.RoomID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.rooms == nil {
		q.rooms = make(map[protocol.RoomID]struct{})
	}
	q.rooms[room] = struct{}{}
}

// take returns the marked rooms and clears them.
func (q *ackQueue) take() map[protocol.RoomID]struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	rs := q.rooms
	q.rooms = nil
	return rs
}

// markAck notes, after the commit that accepts e, that e's room may need
// an acknowledgement: e is another node's event of a room with chains,
// and not an acknowledgement itself (acknowledging those would never end).
func (n *Node) markAck(tx *storage.Tx, e *protocol.Signed) {
	if e.Seq == 0 || e.Origin == n.id || e.Type == protocol.TypeNodeAck {
		return
	}
	room := e.RoomID()
	tx.AfterCommit(func() { n.acks.mark(room) })
}

// putAcked records, for this node's own event e of a room with chains,
// its chain position and, with r.Own, how many of its events up to e are
// not acknowledgements (r.Own counts e if it is this node's latest and not
// an acknowledgement). What another node's event acknowledges is worked
// out when a receipt asks (receipt), not stored for every event.
func (n *Node) putAcked(tx *storage.Tx, r *storage.Room, e *protocol.Signed) error {
	if e.Origin != n.id {
		return nil
	}
	if e.Seq > r.Seq && e.Type != protocol.TypeNodeAck {
		r.Own++
	}
	return tx.PutOwnCount(e.RoomID(), e.Seq, r.Own)
}

// runAcks acknowledges, every AckInterval (jittered), the rooms marked
// since the last round, until ctx ends.
func (n *Node) runAcks(ctx context.Context) error {
	for {
		d := n.cfg.AckInterval
		d += time.Duration(rand.Int64N(int64(d)/4+1)) - d/8
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
		for room := range n.acks.take() {
			if err := n.ack(ctx, room); err != nil && ctx.Err() == nil {
				n.log.Warn("acknowledge room events", "room", room, "err", err)
			}
		}
	}
}

// ack makes a node.ack in room, by the local member of the room whose
// handle sorts first, unless the node's latest event there is the room's
// only head: then it has acknowledged everything already.
func (n *Node) ack(ctx context.Context, room protocol.RoomID) error {
	if n.catchUp.waiting(room) {
		return nil // restored: the room's catch-up sync comes first (restored.go)
	}
	var author protocol.Handle
	err := n.store.View(func(tx *storage.Tx) error {
		t, err := roomTip(tx, room)
		if err != nil || t.version < 2 {
			return err
		}
		if len(t.heads) == 1 && t.heads[0] == t.last {
			return nil
		}
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		for a := range c.Members.All() {
			if a.Node() == n.id && (author == "" || a.Handle() < author) {
				// Never a ghost (hosting.go): an event authored as an
				// account confirms it exists.
				if ok, err := accountExists(tx, a); err != nil {
					return err
				} else if ok {
					author = a.Handle()
				}
			}
		}
		return nil
	})
	if err != nil || author == "" {
		return err
	}
	_, err = n.publish(ctx, author, room, &protocol.NodeAck{})
	return err
}

// Receipts is what the other member nodes of a room have acknowledged of
// this node's events there: its delivery receipts.
type Receipts struct {
	Room protocol.RoomID `json:"room"`
	// Seq is this node's latest chain position in the room: its events
	// there are those of Seq 1 to Seq.
	Seq uint64 `json:"seq"`
	// Nodes has one entry per other node hosting a member, by node ID.
	Nodes []Receipt `json:"nodes"`
}

// Receipt is what one member node has acknowledged: every event of ours
// up to AckedSeq is in the causal past of its latest event, so it held
// them all when it signed that.
type Receipt struct {
	Node protocol.NodeID `json:"node_id"`
	// Latest is the node's latest event in the room that this node
	// holds, its chain position and time (unix ms at that node); zero if
	// it has made none.
	Latest     protocol.EventID `json:"latest_event,omitzero"`
	LatestSeq  uint64           `json:"latest_seq"`
	LatestTime int64            `json:"latest_time,omitempty"`
	// AckedSeq is the highest chain position of our events it has
	// acknowledged, Acked that event and AckedTime its time (unix ms
	// here); zero if none.
	AckedSeq  uint64           `json:"acked_seq"`
	Acked     protocol.EventID `json:"acked_event,omitzero"`
	AckedTime int64            `json:"acked_time,omitempty"`
	// Unacked counts our events it has not acknowledged; Pending lists
	// the newest of them, at most MaxPending, newest first.
	Unacked uint64         `json:"unacked"`
	Pending []PendingEvent `json:"pending,omitempty"`
}

// PendingEvent is one of our events a node has not acknowledged.
type PendingEvent struct {
	ID      protocol.EventID   `json:"event_id"`
	Seq     uint64             `json:"seq"`
	Type    protocol.EventType `json:"type"`
	Time    int64              `json:"time"`                 // unix ms
	Message uint64             `json:"message_id,omitempty"` // a post's message alias
}

// MaxPending is the most unacknowledged events a Receipt lists.
const MaxPending = 5

// maxPendingWalk bounds the chain positions a receipt reads back for its
// pending events.
const maxPendingWalk = 200

// RoomReceipts returns the delivery receipts of room for as, a local
// member of it: per other member node, what it has acknowledged of this
// node's events. A version 1 room has no chains, hence no receipts: its
// nodes are listed with nothing acknowledged. Errors: ErrNotFound if as is
// not a member of room.
func (n *Node) RoomReceipts(ctx context.Context, as protocol.Handle, room protocol.RoomID) (*Receipts, error) {
	out := &Receipts{Room: room, Nodes: []Receipt{}}
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		out.Seq = r.Seq
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		for _, m := range slices.Sorted(maps.Keys(nodesOf(c))) {
			if m == n.id {
				continue
			}
			rc, err := n.receipt(tx, room, r, m)
			if err != nil {
				return err
			}
			out.Nodes = append(out.Nodes, *rc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("room receipts: %w", err)
	}
	return out, nil
}

// receipt returns node m's receipt in room r.
func (n *Node) receipt(tx *storage.Tx, room protocol.RoomID, r *storage.Room, m protocol.NodeID) (*Receipt, error) {
	rc := &Receipt{Node: m}
	latest, lseq, ok, err := tx.Latest(room, m)
	if err != nil {
		return nil, err
	}
	if ok {
		rc.Latest, rc.LatestSeq = latest, lseq
		e, err := tx.Event(latest)
		if err != nil {
			return nil, err
		}
		if e != nil {
			rc.LatestTime = e.Time
			// The highest of this node's chain positions in the past of
			// m's latest event: the receipt index (receipts.go).
			if rc.AckedSeq, err = n.ackedSeq(tx, room, m); err != nil {
				return nil, err
			}
		}
	}
	var ackedOwn uint64
	if rc.AckedSeq > 0 {
		e, err := n.ownEvent(tx, room, rc.AckedSeq)
		if err != nil {
			return nil, err
		}
		if e != nil {
			rc.Acked, rc.AckedTime = e.ID, e.Time
			if ackedOwn, _, err = tx.OwnCount(room, rc.AckedSeq); err != nil {
				return nil, err
			}
		}
	}
	if r.Own > ackedOwn {
		rc.Unacked = r.Own - ackedOwn
	}
	// Our acknowledgements are not listed: nobody acknowledges them but
	// by making an event of its own. The walk is bounded, as a long run
	// of them is possible.
	for s, seen := r.Seq, 0; s > rc.AckedSeq && len(rc.Pending) < MaxPending && seen < maxPendingWalk; s, seen = s-1, seen+1 {
		e, err := n.ownEvent(tx, room, s)
		if err != nil {
			return nil, err
		}
		if e == nil || e.Type == protocol.TypeNodeAck {
			continue
		}
		p := PendingEvent{ID: e.ID, Seq: s, Type: e.Type, Time: e.Time}
		if e.Type == protocol.TypeMessagePost {
			if p.Message, err = tx.LookupAlias(storage.AliasMessage, e.ID[:]); errors.Is(err, storage.ErrNotFound) {
				p.Message = 0 // hidden: never given an alias
			} else if err != nil {
				return nil, err
			}
		}
		rc.Pending = append(rc.Pending, p)
	}
	return rc, nil
}

// ownEvent returns this node's event at chain position seq of room, or
// nil.
func (n *Node) ownEvent(tx *storage.Tx, room protocol.RoomID, seq uint64) (*protocol.Signed, error) {
	id, ok, err := tx.Position(room, n.id, seq)
	if err != nil || !ok {
		return nil, err
	}
	return tx.Event(id)
}
