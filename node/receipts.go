package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// This file is what a room's people see of its partners (acks.go has the
// receipts themselves): each other member node's organization and link
// state, and, per message of this node, the nodes that acknowledged it.
// A receipt index (storage pReceipt) keeps, per room and member node, the
// highest chain position of this node's events that node acknowledged,
// raised as the node's events are applied, so a page of the timeline
// costs one read per member node, and a raise is a live "receipt" change.

// Change kinds of this file.
const (
	// ChangeReceipt: a member node of Room acknowledged more of this
	// node's events there, not only acknowledgements; Event is the event
	// of that node that did.
	ChangeReceipt ChangeKind = "receipt"
	// ChangePartner: a partner node connected or went offline. Room is
	// zero; every account sees it (GET /api/partners shows the same).
	ChangePartner ChangeKind = "partner"
)

// noteReceipt raises, for another node's event e of a room with chains,
// the receipt index of e's node when e acknowledges more of this node's
// events than it had, and records a ChangeReceipt. It takes e's reach
// (the highest of this node's chain positions in e's past) from its
// parents' (reaches) when they are all remembered; otherwise it walks
// e's past, only above this node's first event not yet acknowledged,
// and only when there is one.
func (n *Node) noteReceipt(tx *storage.Tx, r *storage.Room, e *protocol.Signed) error {
	if e.Seq == 0 {
		return nil
	}
	if e.Origin == n.id {
		n.reaches.Add(e.ID, e.Seq)
		return nil
	}
	if r.Seq == 0 {
		n.reaches.Add(e.ID, 0) // none of this node's events is in the room, so none in e's past
		return nil
	}
	reach, known := n.reachFromParents(e)
	room := e.RoomID()
	old, indexed, err := tx.Receipt(room, e.Origin)
	if err != nil {
		return err
	}
	if old >= r.Seq {
		return nil // everything of ours acknowledged already
	}
	if !known {
		floor, ok, err := n.ownOrder(tx, room, old+1)
		if err != nil {
			return err
		}
		if ok {
			// With an index entry, every earlier event of e's node was
			// noted (parents are applied first): their pasts reach no
			// further than old.
			var skip protocol.NodeID
			if indexed {
				skip = e.Origin
			}
			reach, err = tx.ChainReachAbove(e, n.id, floor, skip)
		} else {
			reach, err = tx.ChainReach(e, n.id)
		}
		if errors.Is(err, storage.ErrNotFound) {
			// A hole in the past (never expected): the receipt waits for
			// the node's next event rather than refuse this one.
			n.log.Warn("receipt: event missing in the past", "room", room, "node", e.Origin, "err", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("receipt of %s: %w", e.Origin, err)
		}
		// The walk's answer is e's reach when it walked all of e's past,
		// or found a position above old: what it left out (below the
		// floor, and the pasts of e's node's earlier events) reaches no
		// further than old. Below old it may be short.
		if !ok || reach > old {
			n.reaches.Add(e.ID, reach)
		}
	}
	if reach <= old {
		return nil
	}
	if err := tx.PutReceipt(room, e.Origin, reach); err != nil {
		return err
	}
	// Clients hear of it only if it acknowledged more than our own
	// acknowledgements, which is all it does in a conversation where
	// both sides take turns.
	before, err := n.ownCount(tx, room, old)
	if err != nil {
		return err
	}
	after, err := n.ownCount(tx, room, reach)
	if err != nil || after <= before {
		return err
	}
	return n.record(tx, storage.Change{Kind: string(ChangeReceipt), Room: room, Event: e.ID})
}

// reachCacheEvents bounds Node.reaches, about 100 bytes an entry: new
// events name the latest events of their rooms as parents, a few per
// busy room.
const reachCacheEvents = 16384

// reachFromParents returns e's reach, the highest of this node's chain
// positions in e's past (0 if none), if the reaches of all e's parents
// are remembered (Node.reaches), and remembers e's. A parent's reach
// counts the parent itself: its own position when it is this node's. An
// event's past is fixed by its ID, so an entry is never stale; only exact
// reaches are remembered, by noteReceipt and here.
func (n *Node) reachFromParents(e *protocol.Signed) (uint64, bool) {
	var reach uint64
	for _, p := range e.Prev {
		r, ok := n.reaches.Get(p)
		if !ok {
			return 0, false
		}
		reach = max(reach, r)
	}
	n.reaches.Add(e.ID, reach)
	return reach, true
}

// ownOrder returns the order of this node's event at chain position seq
// of room, if it has one. The same event is the floor of noteReceipt for
// every event of a partner's run until the partner acknowledges it, so
// its depth is remembered (ownDepths) rather than read and decoded each
// time.
func (n *Node) ownOrder(tx *storage.Tx, room protocol.RoomID, seq uint64) (protocol.Order, bool, error) {
	id, ok, err := tx.Position(room, n.id, seq)
	if err != nil || !ok {
		return protocol.Order{}, false, err
	}
	if d, ok := n.ownDepths.Get(id); ok {
		return protocol.Order{Depth: d, ID: id}, true, nil
	}
	e, err := tx.Event(id)
	if err != nil || e == nil {
		return protocol.Order{}, false, err
	}
	n.ownDepths.Add(id, e.Depth)
	return e.Order(), true, nil
}

// ownDepthEvents bounds Node.ownDepths: one entry per room with a partner
// run under way is what noteReceipt needs. An event's depth is part of
// what its ID hashes, so an entry is never stale.
const ownDepthEvents = 1024

// ownCount returns how many of this node's events in room up to chain
// position seq are not acknowledgements (putAcked); 0 for seq 0.
func (n *Node) ownCount(tx *storage.Tx, room protocol.RoomID, seq uint64) (uint64, error) {
	if seq == 0 {
		return 0, nil
	}
	own, _, err := tx.OwnCount(room, seq)
	return own, err
}

// ackedSeq returns the highest chain position of this node's events in
// room that node m acknowledged: the receipt index, or, in a room whose
// index has no entry for m yet (written before the index existed), what
// m's latest event acknowledges.
func (n *Node) ackedSeq(tx *storage.Tx, room protocol.RoomID, m protocol.NodeID) (uint64, error) {
	seq, ok, err := tx.Receipt(room, m)
	if err != nil || ok {
		return seq, err
	}
	latest, _, ok, err := tx.Latest(room, m)
	if err != nil || !ok {
		return 0, err
	}
	e, err := tx.Event(latest)
	if err != nil || e == nil {
		return 0, err
	}
	return tx.ChainReach(e, n.id)
}

// Delivery is, for one message of this node, the member nodes of its
// room that acknowledged it: it was on each of them when that node signed
// an event of its own.
type Delivery struct {
	Message uint64            `json:"message_id"`
	Seq     uint64            `json:"seq"` // its chain position
	To      []protocol.NodeID `json:"delivered_to"`
}

// MaxDeliveries is the most messages Deliveries takes at once.
const MaxDeliveries = 200

// Deliveries returns, for those of the messages named by their aliases
// that this node's accounts posted in room (a room of version 2), the
// other member nodes that have acknowledged each; other messages and
// unknown aliases are left out. It reads one receipt per member node and
// one record per message. Errors: ErrNotFound if as is not a member of
// room; ErrInvalid for more than MaxDeliveries aliases.
func (n *Node) Deliveries(ctx context.Context, as protocol.Handle, room protocol.RoomID, aliases []uint64) ([]Delivery, error) {
	if len(aliases) > MaxDeliveries {
		return nil, fmt.Errorf("deliveries: %w: at most %d messages", ErrInvalid, MaxDeliveries)
	}
	out := []Delivery{}
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		type acked struct {
			node protocol.NodeID
			seq  uint64
		}
		var nodes []acked
		for _, m := range slices.Sorted(maps.Keys(nodesOf(c))) {
			if m == n.id {
				continue
			}
			seq, err := n.ackedSeq(tx, room, m)
			if err != nil {
				return err
			}
			nodes = append(nodes, acked{m, seq})
		}
		for _, a := range aliases {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b, err := tx.Resolve(storage.AliasMessage, a)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			var id protocol.EventID
			copy(id[:], b)
			e, err := tx.Event(id)
			if err != nil {
				return err
			}
			if e == nil || e.RoomID() != room || e.Type != protocol.TypeMessagePost || e.Origin != n.id || e.Seq == 0 {
				continue // not this node's, or a room without chains
			}
			seq := e.Seq
			d := Delivery{Message: a, Seq: seq, To: []protocol.NodeID{}}
			for _, m := range nodes {
				if m.seq >= seq {
					d.To = append(d.To, m.node)
				}
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// RoomPartner is one other member node of a room as the room's people see
// it: its delivery receipt, its organization, and its link.
type RoomPartner struct {
	Receipt
	// Org is the organization name its accounts carry in the room (the
	// most common one); empty if none gave one.
	Org string `json:"org,omitempty"`
	// Partner is whether it is one of this node's partners; only then
	// does this node connect to it and know its link.
	Partner bool `json:"partner"`
	// Connected is whether it is connected now; LastSeen when it last was
	// (now if it is; zero if not since this node started), LastSync when
	// the latest sync exchange with it succeeded (zero if none since).
	Connected bool      `json:"connected"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	LastSync  time.Time `json:"last_sync,omitzero"`
}

// RoomPartners returns the other member nodes of room for as, a local
// member of it, by node ID: RoomReceipts with each node's organization
// and link state. Errors: ErrNotFound if as is not a member of room.
func (n *Node) RoomPartners(ctx context.Context, as protocol.Handle, room protocol.RoomID) (seq uint64, out []RoomPartner, err error) {
	out = []RoomPartner{}
	err = n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		seq = r.Seq
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		orgs := map[protocol.NodeID]map[string]int{}
		for a, m := range c.Members.All() {
			if m.Org == "" {
				continue
			}
			if orgs[a.Node()] == nil {
				orgs[a.Node()] = map[string]int{}
			}
			orgs[a.Node()][m.Org]++
		}
		for _, m := range slices.Sorted(maps.Keys(nodesOf(c))) {
			if m == n.id {
				continue
			}
			rc, err := n.receipt(tx, room, r, m)
			if err != nil {
				return err
			}
			p := RoomPartner{Receipt: *rc}
			best := 0
			for _, org := range slices.Sorted(maps.Keys(orgs[m])) {
				if k := orgs[m][org]; k > best {
					p.Org, best = org, k
				}
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("room partners: %w", err)
	}
	ps := n.net.host.Partners()
	for i := range out {
		for _, p := range ps {
			if p.ID == out[i].Node {
				out[i].Partner, out[i].Connected = true, p.Connected
				out[i].LastSeen, out[i].LastSync = p.Health.LastSeen, p.Health.LastSync
			}
		}
	}
	return seq, out, nil
}

// partnerWatchInterval is how often runPartnerWatch looks at the
// partners' links.
const partnerWatchInterval = time.Second

// runPartnerWatch records a ChangePartner whenever a partner connects or
// goes offline, so that live clients update what they show of it, until
// ctx ends. It reads the host's link state, in memory, once per
// partnerWatchInterval.
func (n *Node) runPartnerWatch(ctx context.Context) error {
	// A partner's link as last looked at: connected, or offline since
	// when. A partner that connected and went offline again between two
	// looks is offline since another time.
	type link struct {
		connected bool
		offline   time.Time
	}
	was := map[protocol.NodeID]link{}
	t := time.NewTicker(partnerWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		changed := false
		now := map[protocol.NodeID]link{}
		for _, p := range n.net.host.Partners() {
			l := link{connected: p.Connected}
			if !p.Connected {
				l.offline = p.Health.LastSeen
			}
			now[p.ID] = l
			if was[p.ID] != l {
				changed = true
			}
		}
		for id, l := range was {
			if _, ok := now[id]; !ok && l.connected {
				changed = true // removed while connected
			}
		}
		was = now
		if !changed {
			continue
		}
		err := n.store.Update(ctx, func(tx *storage.Tx) error {
			return n.record(tx, storage.Change{Kind: string(ChangePartner)})
		})
		if err != nil && ctx.Err() == nil {
			n.log.Warn("record partner change", "err", err)
		}
	}
}
