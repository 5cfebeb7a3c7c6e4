package node

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// This file is the node's side of federation that needs no network, the
// handler package p2p calls: which nodes share a room, accepting partners'
// events in batches, and working out which events a partner lacks.

// maxAcceptBatch is the most partner events stored in one transaction.
const maxAcceptBatch = 256

// roomNodes caches, per room, the nodes hosting at least one member in the
// room's current control state. Entries are dropped when the control state
// changes and rebuilt on the next lookup.
type roomNodes struct {
	mu  sync.Mutex
	m   map[protocol.RoomID]map[protocol.NodeID]bool
	gen uint64 // grows on every forget, so a lookup racing a change is not cached
}

func (c *roomNodes) get(room protocol.RoomID) (map[protocol.NodeID]bool, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[room]
	return s, c.gen, ok
}

func (c *roomNodes) put(room protocol.RoomID, s map[protocol.NodeID]bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 100_000 {
		c.m = make(map[protocol.RoomID]map[protocol.NodeID]bool)
	}
	c.m[room] = s
}

func (c *roomNodes) forget(room protocol.RoomID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, room)
	c.gen++
}

// change adds joined to room's member nodes and takes left out, if it
// holds them, as forget would after a change that did only that, without
// making the next lookup work them out from every member.
func (c *roomNodes) change(room protocol.RoomID, joined, left []protocol.NodeID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[room]
	if !ok {
		c.gen++ // a lookup racing the change must not cache the state before it
		return
	}
	if !slices.ContainsFunc(joined, func(id protocol.NodeID) bool { return !s[id] }) &&
		!slices.ContainsFunc(left, func(id protocol.NodeID) bool { return s[id] }) {
		return // the same nodes: a racing lookup finds them too
	}
	s = maps.Clone(s) // readers hold the old map
	for _, id := range joined {
		s[id] = true
	}
	for _, id := range left {
		delete(s, id)
	}
	c.m[room] = s
	c.gen++
}

// nodesOf returns the nodes hosting members of c.
func nodesOf(c *protocol.Control) map[protocol.NodeID]bool {
	s := make(map[protocol.NodeID]bool, 2)
	if c == nil {
		return s
	}
	for a := range c.Members.All() {
		s[a.Node()] = true
	}
	return s
}

// memberNodes returns the nodes that host a member of room now, this one
// included if it does; empty if the node does not hold the room.
func (n *Node) memberNodes(room protocol.RoomID) (map[protocol.NodeID]bool, error) {
	s, gen, ok := n.nodes.get(room)
	if ok {
		return s, nil
	}
	err := n.store.View(func(tx *storage.Tx) error {
		c, err := n.control(tx, room)
		if errors.Is(err, ErrNotFound) {
			s = map[protocol.NodeID]bool{}
			return nil
		}
		s = nodesOf(c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("room nodes: %w", err)
	}
	n.nodes.put(room, s, gen)
	return s, nil
}

// handler is the node as package p2p sees it: its federation face. Tests
// reach it through FederationForTest.
type handler struct{ n *Node }

var _ p2p.Handler = handler{}

// Shares reports whether node peer hosts a member of room now, and so may
// receive its events.
func (h handler) Shares(peer protocol.NodeID, room protocol.RoomID) bool {
	s, err := h.n.memberNodes(room)
	if err != nil {
		h.n.log.Warn("room nodes", "room", room, "err", err)
		return false
	}
	return s[peer]
}

// Scope says how much of room node peer may receive by sync: all of it
// while it hosts a member; once it hosts none, the events that removed
// its accounts (the removal index, storage.Removals) and their ancestors;
// nothing if it never hosted one. Each of those removals was authorized at
// its causal past, where its target was a member, so the peer's node was
// in the room for everything sent. A peer whose account was added by an
// add that never took effect (void: a revocation of its author stands
// concurrently, see voidedAdds) believes it hosts a member: it is sent
// those revocations and their ancestors, so that it learns it does not.
func (h handler) Scope(ctx context.Context, peer protocol.NodeID, room protocol.RoomID) (p2p.Scope, error) {
	s, err := h.n.memberNodes(room)
	if err != nil {
		return p2p.Scope{}, err
	}
	if s[peer] {
		return p2p.Scope{All: true}, nil
	}
	var sc p2p.Scope
	err = h.n.store.View(func(tx *storage.Tx) error {
		rs, err := tx.Removals(room, peer)
		if err != nil {
			return err
		}
		for _, r := range rs {
			sc.Until = append(sc.Until, r.ID)
		}
		voiding, err := h.n.voidedAdds(tx, room, peer)
		sc.Until = append(sc.Until, voiding...)
		return err
	})
	if err != nil {
		return p2p.Scope{}, fmt.Errorf("sync scope: %w", err)
	}
	return sc, nil
}

// voidedAdds returns, for each member.add of an account of node peer in
// room that does not take effect, the revocations of its author that take
// effect and are concurrent with it: what makes the add void. It reads the
// room's control history, for a peer that hosts no member only.
func (n *Node) voidedAdds(tx *storage.Tx, room protocol.RoomID, peer protocol.NodeID) ([]protocol.EventID, error) {
	r, err := tx.Room(room)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil // a room this node does not hold (it may pull it)
	}
	if err != nil {
		return nil, err
	}
	applied, err := n.applied(tx, r)
	if err != nil {
		return nil, err
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
	if err != nil {
		return nil, err
	}
	var adds, revocations []*protocol.Signed
	for id := range s.History.All() {
		e, err := tx.Event(id)
		if err != nil || e == nil {
			return nil, errors.Join(err, storage.ErrNotFound)
		}
		if add, ok := e.Content.(*protocol.MemberAdd); ok && !applied.Has(id) && slices.ContainsFunc(add.All(), func(m protocol.MemberInfo) bool { return m.Account.Node() == peer }) {
			adds = append(adds, e)
		}
		if _, ok := protocol.Revokes(e); ok && applied.Has(id) {
			revocations = append(revocations, e)
		}
	}
	var out []protocol.EventID
	for _, add := range adds {
		for _, rev := range revocations {
			if a, _ := protocol.Revokes(rev); a != add.AuthorID() || slices.Contains(out, rev.ID) {
				continue
			}
			before, err := n.inPast(tx, rev.ID, add.ID)
			if err != nil {
				return nil, err
			}
			after, err := n.inPast(tx, add.ID, rev.ID)
			if err != nil {
				return nil, err
			}
			if !before && !after {
				out = append(out, rev.ID)
			}
		}
	}
	return out, nil
}

// Rooms returns the rooms in which this node hosts a member now (an
// account that exists here: the hosting rule), each with the nodes that
// host its members.
func (h handler) Rooms(ctx context.Context) (map[protocol.RoomID][]protocol.NodeID, error) {
	n := h.n
	out := map[protocol.RoomID][]protocol.NodeID{}
	err := n.store.View(func(tx *storage.Tx) error {
		var err error
		tx.Rooms(func(r *storage.Room) bool {
			var c *protocol.Control
			if c, err = n.control(tx, r.ID); err != nil {
				return false
			}
			nodes := nodesOf(c)
			if !nodes[n.id] {
				return ctx.Err() == nil
			}
			var host bool
			if host, err = n.hostsMember(tx, c); err != nil {
				return false
			}
			if host {
				out[r.ID] = slices.Collect(maps.Keys(nodes))
			}
			return ctx.Err() == nil
		})
		return errors.Join(err, ctx.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("hosted rooms: %w", err)
	}
	return out, nil
}

// Have summarizes what the node holds of room for a partner's Missing:
// its position on each origin's chain (protocol.SyncWant.Chains), if it
// holds events of at most protocol.MaxSyncChains origins, and as heads:
// its heads; then the newest event it holds of each origin's chain (up to
// maxSyncTips origins); then one event at each of the depths 1, 2, 4, 8,
// … below the deepest head. The chain positions are what a partner
// answers from; the heads after the first are for a partner that speaks
// only protocol.SyncProtocolV1, and one that cannot answer from the
// chains. Holding an event means holding all its ancestors, so any held
// event will do. In a busy room the heads are
// mostly events the partner has not seen yet; the partner does hold its
// own chain, and most likely the others' a little way back, so the tips
// mark nearly all it would otherwise send again (in a 10-node fan-out,
// 5 of every 6 events a sync round sent were held already). The samples
// bound what a partner that knows none of them sends again to about
// twice what is really missing, instead of the whole room. No heads if
// the node does not hold the room.
func (h handler) Have(ctx context.Context, room protocol.RoomID) (protocol.SyncWant, error) {
	var out []protocol.EventID
	var chains []protocol.ChainPos
	err := h.n.store.View(func(tx *storage.Tx) error {
		hs, err := tx.Heads(room)
		if err != nil {
			return err
		}
		var top uint64
		for _, o := range hs {
			out = append(out, o.ID)
			top = max(top, o.Depth)
		}
		tips, err := tx.ChainTips(room, protocol.MaxSyncChains+1)
		if err != nil {
			return err
		}
		if len(tips) <= protocol.MaxSyncChains {
			for _, tip := range tips {
				chains = append(chains, protocol.ChainPos{Origin: tip.Origin, Seq: tip.Seq, ID: tip.ID})
			}
			slices.SortFunc(chains, func(a, b protocol.ChainPos) int { return strings.Compare(string(a.Origin), string(b.Origin)) })
		}
		tips = tips[:min(len(tips), maxSyncTips)]
		for _, tip := range tips {
			if !slices.Contains(out, tip.ID) {
				out = append(out, tip.ID)
			}
		}
		// A partner behind on an origin lacks its tip here, but likely
		// holds a position a little below it.
		for _, tip := range tips {
			if tip.Seq <= tipLag {
				continue
			}
			id, ok, err := tx.Position(room, tip.Origin, tip.Seq-tipLag)
			if err != nil {
				return err
			}
			if ok && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		for step := uint64(1); step <= top && ctx.Err() == nil; step *= 2 {
			err := tx.RoomEvents(room, top-step, func(_ uint64, id protocol.EventID) bool {
				if !slices.Contains(out, id) {
					out = append(out, id)
				}
				return false
			})
			if err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return protocol.SyncWant{}, fmt.Errorf("have: %w", err)
	}
	return protocol.SyncWant{Room: room, Heads: out, Chains: chains}, nil
}

// maxSyncTips bounds the chain tips Heads gives, leaving room among
// protocol.MaxSyncHeads for the heads and the depth samples.
const maxSyncTips = 16

// tipLag is how far below each chain tip Heads names a second event.
const tipLag = 32

// Held reports, for each of ids, whether the node holds that event.
// Given links, it answers for events on a chain from the chain index,
// read in order per origin, where looking up each ID read a random block
// of the store (and missed through every level of it for a new event): an
// event at a free position is not held (see held, in events.go), and one
// that is the event at its position is. Only an event at a position
// another event holds (an equivocation) is looked up by its ID.
func (h handler) Held(ctx context.Context, ids []protocol.EventID, links []protocol.Links) []bool {
	held := make([]bool, len(ids))
	err := h.n.store.View(func(tx *storage.Tx) error {
		var byID []int // the events to look up by ID
		if links == nil {
			for i := range ids {
				byID = append(byID, i)
			}
		} else {
			byChain := make(map[chainOf][]int)
			for i, l := range links {
				if l.Seq == 0 {
					byID = append(byID, i)
					continue
				}
				c := chainOf{l.RoomID(ids[i]), l.Origin}
				byChain[c] = append(byChain[c], i)
			}
			for c, at := range byChain {
				yes, unsure, err := heldOnChain(tx, c, ids, links, at)
				if err != nil {
					return err
				}
				for _, i := range yes {
					held[i] = true
				}
				byID = append(byID, unsure...)
			}
		}
		for _, i := range byID {
			ok, err := tx.HasEvent(ids[i])
			if err != nil {
				return err
			}
			held[i] = ok
		}
		return nil
	})
	if err != nil {
		// Say nothing is held: the events are then checked and offered
		// to Accept, which is safe.
		h.n.log.Warn("look up held events", "err", err)
		clear(held)
	}
	return held
}

// chainOf names an origin's chain in a room.
type chainOf struct {
	room   protocol.RoomID
	origin protocol.NodeID
}

// heldOnChain sorts at, the indexes in ids and links of events on chain
// c, by what the chain index shows: it returns those held, and those it
// cannot tell (events at a position another event holds, or all of them
// if the positions asked for are spread too far apart to read the index
// between them). The rest, at a free position or above the chain's
// highest, are not held.
func heldOnChain(tx *storage.Tx, c chainOf, ids []protocol.EventID, links []protocol.Links, at []int) (held []int, unsure []int, err error) {
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, i := range at {
		lo, hi = min(lo, links[i].Seq), max(hi, links[i].Seq)
	}
	// A partner names the positions: reading the index between two far
	// apart would read a chain's length for a frame's events.
	if hi-lo >= uint64(4*len(at)) {
		return nil, at, nil
	}
	stored := make(map[uint64]protocol.EventID, hi-lo+1)
	err = tx.ChainRange(c.room, c.origin, lo, hi, func(seq uint64, id protocol.EventID) bool {
		stored[seq] = id
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	for _, i := range at {
		id, taken := stored[links[i].Seq]
		switch {
		case !taken: // new
		case id == ids[i]:
			held = append(held, i)
		default:
			unsure = append(unsure, i)
		}
	}
	return held, unsure, nil
}

// Accept checks and stores events of room that partner node from sent, in
// the order given (parents first), and returns one error per event: nil
// when it is stored or was already held, p2p.ErrSoftFailed when it is
// stored (or was held) but soft-failed (see apply), a *protocol.MissingError when
// parents are still unknown, and otherwise why it was refused (a room
// rule, or the store failed). The host has decoded and verified the
// events and checked their room. Valid events are stored even when others
// in the batch are refused, and each stored event is durable when Accept
// returns. Events of a room the node does not hold are kept only if the
// hosting rule admits them (see admit): they name an existing account of
// this node as a member. Otherwise they are dropped without an error, and
// counted.
func (h handler) Accept(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) []error {
	if len(events) == 0 {
		return nil
	}
	defer h.n.partnerWork()()
	// Whether the node holds the room is read in the Update that stores
	// the events: a View of its own waited for the store's commit under
	// way, on every gossip event.
	errs, err := h.n.acceptDecoded(ctx, from, room, events, true)
	if errors.Is(err, errNotHeld) {
		var ok bool
		if ok, err = h.n.admit(ctx, from, room, events); err == nil && !ok {
			h.n.metrics.partnerEvents.WithLabelValues(string(from), "not_hosted", "").Add(float64(len(events)))
			return make([]error, len(events))
		}
		if err == nil {
			errs, err = h.n.acceptDecoded(ctx, from, room, events, false)
		} else {
			errs = make([]error, len(events))
		}
	}
	if err != nil {
		level := slog.LevelError
		if errors.Is(err, ErrDiskFull) {
			level = slog.LevelDebug // the store logs a full disk once
		}
		h.n.log.Log(ctx, level, "store partner events", "room", room, "from", from, "err", err)
		err = fmt.Errorf("%w: %w", p2p.ErrNotStored, err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	h.n.metrics.countPartnerEvents(from, errs)
	return errs
}

// errNotHeld is acceptDecoded's error when it was to store events only
// into a room the node holds, and it does not hold theirs.
var errNotHeld = errors.New("room not held")

// acceptDecoded checks and stores events, already decoded and verified by
// protocol.Decode and all of room, in batches of maxAcceptBatch per
// transaction; see handler.Accept. With held, it stores nothing and
// returns errNotHeld if the node does not hold room. Otherwise it returns
// a non-nil error only if the store failed; then nothing more was stored.
//
// A batch too big for one store transaction (storage.ErrTxnTooBig: a room
// with many heads makes every event's control snapshot large) is split in
// halves, each stored in its own transaction, down to single events. One
// event too big alone is the node's failure, not the partner's: the error
// wraps storage.ErrTxnTooBig, which Accept reports as p2p.ErrNotStored.
func (n *Node) acceptDecoded(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed, held bool) ([]error, error) {
	errs := make([]error, len(events))
	for start := 0; start < len(events); start += maxAcceptBatch {
		end := min(start+maxAcceptBatch, len(events))
		var in protocol.RoomID // checked in the first batch only
		if held && start == 0 {
			in = room
		}
		if err := n.acceptBatch(ctx, in, events, errs, start, end); err != nil {
			return errs, fmt.Errorf("accept events from %s: %w", from, err)
		}
	}
	return errs, nil
}

// acceptBatch stores events[start:end] in one store Update, setting
// errs[start:end], or, if they are too big for one, in two halves. If
// held is not the zero room ID, it fails with errNotHeld, storing
// nothing, when the node does not hold that room.
func (n *Node) acceptBatch(ctx context.Context, held protocol.RoomID, events []*protocol.Signed, errs []error, start, end int) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if held != (protocol.RoomID{}) {
			if _, err := tx.Room(held); errors.Is(err, storage.ErrNotFound) {
				return errNotHeld
			} else if err != nil {
				return err
			}
		}
		for i := start; i < end; i++ {
			e := events[i]
			if e == nil {
				continue
			}
			snap, err := n.check(tx, e)
			if err != nil {
				errs[i] = err
				continue
			}
			errs[i] = nil
			// Hidden now or when first applied: either way it is not
			// relayed.
			hidden := false
			if snap != nil {
				if err := n.apply(tx, e, snap); err != nil {
					return err
				}
				hidden = tx.HiddenByThis(e.ID)
			} else if hidden, err = tx.Hidden(e.ID); err != nil {
				return err
			}
			if hidden {
				errs[i] = fmt.Errorf("event %s: %w", e.ID, p2p.ErrSoftFailed)
			}
		}
		return nil
	})
	if errors.Is(err, storage.ErrTxnTooBig) && end-start > 1 {
		n.acceptSplits.Add(1)
		mid := start + (end-start)/2
		if err := n.acceptBatch(ctx, held, events, errs, start, mid); err != nil {
			return err
		}
		return n.acceptBatch(ctx, protocol.RoomID{}, events, errs, mid, end)
	}
	if err != nil && end-start == 1 {
		return fmt.Errorf("event %s: %w", events[start].ID, err)
	}
	return err
}

// Missing calls emit with the wire form of every event of have.Room that
// node peer, which holds have (its heads and chain positions; see Have),
// lacks, parents before children: up to this node's heads, or, if until
// is not nil, only until and their ancestors (see Scope). A post or edit that none of peer's accounts may
// read under the room's history visibility is sent in its redacted form
// (servedForm); every other event as the node holds it. IDs in have that
// this node does not hold are ignored: their ancestors that it does hold
// cannot be told apart from ones the other node lacks, so those are sent
// and the receiver skips what it has.
//
// Its memory does not grow with the events sent: it reads them from the
// store missingChunkBytes at a time, each chunk in a transaction of its
// own that is closed before emit (which waits on the network) is called,
// and stops as soon as ctx ends or emit fails. A node with none of have
// (one that wants the whole room) is sent the room in the store's depth
// order, and nothing is kept across chunks but where to go on. Otherwise
// Missing first works out which events to send (see walkMissing), keeping
// only their IDs, about 32 bytes an event. The visibility of each post or
// edit is decided in the chunk's transaction, from the snapshot after it;
// the answers are kept for the chunk only. In a room with chains, when
// have gives a position on each origin's chain (see chainPlan), it reads
// the events off the chains instead (emitChains), keeping one event per
// origin.
func (h handler) Missing(ctx context.Context, peer protocol.NodeID, have protocol.SyncWant, until []protocol.EventID, emit func(wire []byte) error) error {
	defer h.n.partnerWork()()
	room := have.Room
	var send []protocol.EventID
	var chains []*chainCursor
	whole, byChains := false, false
	err := h.n.store.View(func(tx *storage.Tx) error {
		if until == nil {
			var err error
			if chains, byChains, err = chainPlan(tx, have); err != nil || byChains {
				return err
			}
			known, err := heldIn(tx, room, have.Heads)
			if err != nil {
				return err
			}
			if !known {
				whole = true
				return nil
			}
		}
		var err error
		send, err = walkMissing(ctx, tx, room, have.Heads, until)
		return err
	})
	if err != nil {
		return fmt.Errorf("missing events of %s: %w", room, err)
	}
	switch {
	case whole:
		h.n.answers.whole.Add(1)
		return h.n.emitRoom(ctx, peer, room, emit)
	case byChains:
		h.n.answers.chains.Add(1)
		return h.n.emitChains(ctx, peer, room, chains, emit)
	}
	h.n.answers.walk.Add(1)
	slices.Reverse(send) // visited deepest first
	return h.n.emitEvents(ctx, peer, room, send, emit)
}

// missingChunkBytes is about how many bytes of events Missing reads in one
// transaction before handing them to emit.
const missingChunkBytes = 256 << 10

// heldIn reports whether the node holds one of ids as an event of room.
func heldIn(tx *storage.Tx, room protocol.RoomID, ids []protocol.EventID) (bool, error) {
	for _, id := range ids {
		e, err := tx.Event(id)
		if err != nil {
			return false, err
		}
		if e != nil && e.RoomID() == room {
			return true, nil
		}
	}
	return false, nil
}

// emitChunks calls emit with the wire forms fill reads, missingChunkBytes
// at a time: fill runs in a store transaction of its own, with room's
// visibility memo (visibilityMemo), passing each wire to add, which
// reports whether the chunk has room for more; fill returns whether it
// stopped with more to read. emit, which waits on the network, is called
// once the transaction is closed. A store error is wrapped with op.
func (n *Node) emitChunks(ctx context.Context, room protocol.RoomID, op string, emit func(wire []byte) error,
	fill func(tx *storage.Tx, memo map[protocol.SnapshotKey]bool, add func(wire []byte) bool) (more bool, err error)) error {
	for {
		var wires [][]byte
		more := false
		err := n.store.View(func(tx *storage.Tx) error {
			memo, err := visibilityMemo(tx, room)
			if err != nil {
				return err
			}
			size := 0
			more, err = fill(tx, memo, func(w []byte) bool {
				wires = append(wires, w)
				size += len(w)
				return size < missingChunkBytes
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for _, w := range wires {
			if err := emit(w); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// emitRoom calls emit with every event of room, by depth then ID (parents
// before children), in the form node peer is sent (servedForm), reading
// missingChunkBytes at a time. An event stored meanwhile below where it
// has got to is not sent: the requester's next sync brings it.
func (n *Node) emitRoom(ctx context.Context, peer protocol.NodeID, room protocol.RoomID, emit func(wire []byte) error) error {
	var after protocol.Order // the last event sent; the zero Order before the first
	return n.emitChunks(ctx, room, "events of "+room.String(), emit, func(tx *storage.Tx, memo map[protocol.SnapshotKey]bool, add func([]byte) bool) (bool, error) {
		for {
			// The next readBatch events by depth, then their wire forms
			// together (servedWires).
			var next []protocol.Order
			err := tx.RoomEvents(room, after.Depth, func(depth uint64, id protocol.EventID) bool {
				if at := (protocol.Order{Depth: depth, ID: id}); at.Compare(after) > 0 {
					next = append(next, at)
				}
				return len(next) < readBatch
			})
			if err != nil || len(next) == 0 {
				return false, err
			}
			ids := make([]protocol.EventID, len(next))
			for i, o := range next {
				ids[i] = o.ID
			}
			full := false
			err = n.servedWires(tx, peer, ids, memo, func(i int, w []byte) bool {
				after = next[i]
				full = !add(w)
				return !full
			})
			if err != nil || full {
				return full, err
			}
			after = next[len(next)-1]
		}
	})
}

// emitEvents calls emit with the events ids in order, in the form node
// peer is sent (servedForm), reading missingChunkBytes at a time. Events
// no longer stored are skipped.
func (n *Node) emitEvents(ctx context.Context, peer protocol.NodeID, room protocol.RoomID, ids []protocol.EventID, emit func(wire []byte) error) error {
	return n.emitChunks(ctx, room, "missing events", emit, func(tx *storage.Tx, memo map[protocol.SnapshotKey]bool, add func([]byte) bool) (bool, error) {
		for len(ids) > 0 {
			batch := ids[:min(len(ids), readBatch)]
			sent, full := 0, false
			err := n.servedWires(tx, peer, batch, memo, func(i int, w []byte) bool {
				sent, full = i+1, !add(w)
				return !full
			})
			if err != nil {
				return false, err
			}
			if full {
				ids = ids[sent:]
				return len(ids) > 0, nil
			}
			ids = ids[len(batch):]
		}
		return false, nil
	})
}

// readBatch is how many events emitRoom and emitEvents read at once: a
// chunk of missingChunkBytes holds about 600, so reading ahead of where a
// chunk fills reads at most a tenth of them twice.
const readBatch = 64

// walkMissing returns the IDs of the events of room that a node with
// heads have lacks, deepest first, up to this node's heads or, if until
// is not nil, until.
//
// It walks back from the tops and from the known IDs of have at once,
// deepest first. Since every parent is shallower than its child, by the
// time an event is reached every path to it from have has been walked, so
// it is sent exactly when no event of have descends from it. The walk
// stops when nothing left to visit could be sent, so its cost is the part
// of the room above where the two nodes last agreed; it keeps each
// visited event's order and parents, not the event.
//
// In a room with chains it also keeps, by origin, the highest chain
// position the other node holds (walk.held): every event of that origin
// at or below it is the other node's too, without walking down to it.
// Once every origin of the room has one, walking down from an event the
// other node has can mark nothing the positions do not, and the walk
// stops doing it. Under a busy room's sync rounds that walk down the
// other node's part of the room, from each event it named to the deepest
// event to send, was three quarters of the events a walk read.
func walkMissing(ctx context.Context, tx *storage.Tx, room protocol.RoomID, have, until []protocol.EventID) ([]protocol.EventID, error) {
	w := walk{seen: map[protocol.EventID]*walkNode{}}
	if err := w.learnOrigins(tx, room); err != nil {
		return nil, err
	}
	var tops []protocol.EventID
	if until != nil {
		tops = until
	} else {
		heads, err := tx.Heads(room)
		if err != nil {
			return nil, err
		}
		for _, h := range heads {
			tops = append(tops, h.ID)
		}
	}
	for _, h := range have {
		l, ok, err := tx.EventLinks(h)
		if err != nil {
			return nil, err
		}
		if ok && l.RoomID(h) == room {
			w.hold(l.Origin, l.Seq)
			w.push(h, &l, true)
		}
	}
	for _, id := range tops {
		l, ok, err := tx.EventLinks(id)
		if err != nil {
			return nil, err
		}
		if !ok || l.RoomID(id) != room {
			if until != nil {
				continue
			}
			return nil, fmt.Errorf("head %s is missing from the store", id)
		}
		w.push(id, &l, false)
	}
	var send []protocol.EventID
	for w.wanted > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := heap.Pop(&w.queue).(*walkNode)
		if !x.have {
			w.wanted--
			// A position learnt since x was queued may cover it.
			x.have = w.holds(x.origin, x.seq)
			if !x.have {
				send = append(send, x.order.ID)
			}
		}
		if x.have {
			// The deepest of an origin's events the other node has
			// is its highest: the deeper ones were visited first.
			w.hold(x.origin, x.seq)
		}
		for _, p := range x.prev {
			if w.mark(p, x.have) || x.have && w.uncovered == 0 {
				continue
			}
			pl, ok, err := tx.EventLinks(p)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("event %s, a parent of %s, is missing from the store", p, x.order.ID)
			}
			w.push(p, &pl, x.have)
		}
		x.prev = nil // visited: only its mark is needed now
	}
	return send, nil
}

// walk is the state of walkMissing: a max-heap by depth of events to
// visit, each marked whether the other node has it.
type walk struct {
	queue  walkQueue
	seen   map[protocol.EventID]*walkNode
	wanted int // queued events not marked have
	// held is, by origin, the highest chain position known to be the
	// other node's (rooms with chains): holding an event means holding
	// its ancestors, its origin's earlier events among them.
	held map[protocol.NodeID]uint64
	// uncovered counts the origins of the room without a position in
	// held; more than there are if the room has over maxWalkOrigins.
	uncovered int
}

// maxWalkOrigins bounds the origins a walk keeps positions for.
const maxWalkOrigins = 64

// learnOrigins lists the origins of room's chains in w.held, with no
// position yet; none if an origin equivocated in room.
func (w *walk) learnOrigins(tx *storage.Tx, room protocol.RoomID) error {
	tips, err := tx.ChainTips(room, maxWalkOrigins+1)
	if err != nil {
		return err
	}
	w.held = make(map[protocol.NodeID]uint64, len(tips))
	w.uncovered = len(tips)
	if len(tips) == 0 || len(tips) > maxWalkOrigins {
		w.uncovered = math.MaxInt // no chains, or too many to keep
		return nil
	}
	for _, t := range tips {
		// An equivocation is on no chain position: holding an
		// origin's chain says nothing of whether the other node holds
		// its second events. Such a room is walked as one without
		// chains.
		forked, err := tx.Forked(room, t.Origin)
		if err != nil {
			return err
		}
		if forked {
			clear(w.held)
			w.uncovered = math.MaxInt
			return nil
		}
		w.held[t.Origin] = 0
	}
	return nil
}

// hold notes that the other node holds origin's chain up to seq.
func (w *walk) hold(origin protocol.NodeID, seq uint64) {
	had, ok := w.held[origin]
	if !ok || seq == 0 || seq <= had {
		return
	}
	if had == 0 && w.uncovered != math.MaxInt {
		w.uncovered--
	}
	w.held[origin] = seq
}

// holds reports whether the other node is known to hold origin's event at
// chain position seq.
func (w *walk) holds(origin protocol.NodeID, seq uint64) bool {
	return seq > 0 && seq <= w.held[origin]
}

type walkNode struct {
	order  protocol.Order
	prev   []protocol.EventID // until visited
	origin protocol.NodeID
	seq    uint64
	have   bool
	index  int // in the queue; -1 once visited
}

// mark notes that the other node has id, if have, when id is already
// queued or visited, and reports whether it was.
func (w *walk) mark(id protocol.EventID, have bool) bool {
	x, ok := w.seen[id]
	if ok && have && !x.have {
		x.have = true
		if x.index >= 0 {
			w.wanted--
		}
	}
	return ok
}

// push queues event id, with links l, marked have (or if held says the
// other node has it), unless it is queued or visited already (then it
// only marks it).
func (w *walk) push(id protocol.EventID, l *protocol.Links, have bool) {
	have = have || w.holds(l.Origin, l.Seq)
	if w.mark(id, have) {
		return
	}
	x := &walkNode{order: protocol.Order{Depth: l.Depth, ID: id}, prev: l.Prev, origin: l.Origin, seq: l.Seq, have: have}
	w.seen[id] = x
	heap.Push(&w.queue, x)
	if !have {
		w.wanted++
	}
}

type walkQueue []*walkNode

func (q walkQueue) Len() int { return len(q) }
func (q walkQueue) Less(i, j int) bool {
	return q[i].order.Compare(q[j].order) > 0
}
func (q walkQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *walkQueue) Push(x any) {
	n := x.(*walkNode)
	n.index = len(*q)
	*q = append(*q, n)
}
func (q *walkQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	x.index = -1
	*q = old[:len(old)-1]
	return x
}

// Heads returns the room's current heads; none if the node does not hold
// it. Two nodes with the same heads hold the same events of the room.
func (n *Node) Heads(ctx context.Context, room protocol.RoomID) ([]protocol.EventID, error) {
	var out []protocol.EventID
	err := n.store.View(func(tx *storage.Tx) error {
		hs, err := tx.Heads(room)
		for _, h := range hs {
			out = append(out, h.ID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("heads: %w", err)
	}
	return out, nil
}
