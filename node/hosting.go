package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// This file is the hosting rule (docs/PROTOCOL.md, "Hosting rule"): the
// node keeps a room a partner offers, and hosts a room (subscribes to its
// topic, names it in sync rounds), only if one of the room's members is an
// account that exists on this node. An account ID of the form
// handle@<this node> is a partner's claim, checked against the node's
// accounts: one that does not exist is a ghost. (Accounts have no pending
// state: one exists from the moment CreateAccount stores it. A disabled
// account exists.)

// HostingStats counts what the hosting rule refused since the node
// started.
type HostingStats struct {
	// RoomsRefused counts rooms partners offered whose events name none of
	// this node's existing accounts: nothing of them was stored. Each
	// partner and room is counted once (until 4,096 others were).
	RoomsRefused uint64 `json:"rooms_refused"`
	// GhostAccounts counts account IDs of this node that do not exist
	// here, named as members of a room by a partner: each room and
	// account once (until 4,096 others were).
	GhostAccounts uint64 `json:"ghost_accounts"`
}

// hosting is the hosting rule's memory: its counters, the offers and
// ghosts already counted, and the late invitations being fetched.
type hosting struct {
	roomsRefused  atomic.Uint64
	ghostAccounts atomic.Uint64

	// mu guards the fields below.
	mu       sync.Mutex
	refused  map[offer]bool      // offers counted in roomsRefused
	ghosts   map[ghost]bool      // ghosts counted in ghostAccounts
	expected map[offer]time.Time // late invitations: take the room from the partner, from its create, until then
	logged   time.Time           // when the rule last logged a refusal
	quiet    int                 // refusals not logged since
	// confirmations caches confirmedBy.
	confirmations bySnapshot[map[protocol.AccountID]bool]
	recent        []confirmedSnapshot // the last few confirmedBy worked out, oldest first
}

type offer struct {
	from protocol.NodeID
	room protocol.RoomID
}

type ghost struct {
	room    protocol.RoomID
	account protocol.AccountID
}

const (
	// maxTracked bounds each of hosting's maps; a full one is cleared.
	maxTracked = 4096
	// expectFor is how long a late invitation lets a partner's offer of
	// the room from its create in.
	expectFor = 10 * time.Minute
	// logEvery is the least time between two log lines of refusals.
	logEvery = 10 * time.Second
)

func (h *hosting) stats() HostingStats {
	return HostingStats{RoomsRefused: h.roomsRefused.Load(), GhostAccounts: h.ghostAccounts.Load()}
}

// refuse counts an offer of room by from that named none of the node's
// accounts, and logs it at a bounded rate.
func (h *hosting) refuse(log *slog.Logger, from protocol.NodeID, room protocol.RoomID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := offer{from, room}
	if h.refused[k] {
		return
	}
	h.refused = track(h.refused, k, true)
	h.roomsRefused.Add(1)
	h.logLocked(log, "refused a room a partner offered: it names none of this node's accounts",
		"room", room, "partner", from)
}

// ghost counts account a, named as a member of room, which claims this
// node as its home but does not exist here, and logs it at a bounded rate.
func (h *hosting) ghost(log *slog.Logger, room protocol.RoomID, a protocol.AccountID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := ghost{room, a}
	if h.ghosts[k] {
		return
	}
	h.ghosts = track(h.ghosts, k, true)
	h.ghostAccounts.Add(1)
	h.logLocked(log, "a room names an account of this node that does not exist; it does not make the node host the room",
		"room", room, "account", a)
}

// logLocked logs a refusal unless one was logged in the last logEvery.
func (h *hosting) logLocked(log *slog.Logger, msg string, args ...any) {
	now := time.Now()
	if now.Sub(h.logged) < logEvery {
		h.quiet++
		return
	}
	if h.quiet > 0 {
		args = append(args, "not_logged_before", h.quiet)
	}
	h.logged, h.quiet = now, 0
	log.Warn(msg, args...)
}

// expect lets from's offers of room from its create in for a while, and
// reports whether it did not already.
func (h *hosting) expect(from protocol.NodeID, room protocol.RoomID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := offer{from, room}
	if until, ok := h.expected[k]; ok && time.Now().Before(until) {
		return false
	}
	h.expected = track(h.expected, k, time.Now().Add(expectFor))
	return true
}

// expects reports whether a late invitation lets from's offer of room in.
func (h *hosting) expects(from protocol.NodeID, room protocol.RoomID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.expected[offer{from, room}]
	return ok && time.Now().Before(until)
}

// track sets m[k] = v, clearing m first if it is full.
func track[K comparable, V any](m map[K]V, k K, v V) map[K]V {
	if m == nil || len(m) >= maxTracked {
		m = make(map[K]V)
	}
	m[k] = v
	return m
}

// admit decides whether to keep events, which partner from sent, of a room
// the node does not hold: only if they name an existing account of this
// node as a member (in the room.create or a member.add). Account IDs of
// this node that do not exist are counted as ghosts, and an offer naming
// no existing account as a refused room.
//
// Sync sends a room parents first, in frames of about 1 MiB, so the first
// frame of a long room may end before the event adding our account. Such
// a frame is refused like a planted room's; when a later frame names one
// of our accounts (its events cannot be stored: their ancestors were
// refused), the node pulls the room from from again, and keeps that offer
// from the room's create on. The room then costs two transfers, rather
// than the node keeping unverified rooms for a while.
func (n *Node) admit(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) (bool, error) {
	var real bool
	var ghosts []protocol.AccountID
	err := n.store.View(func(tx *storage.Tx) error {
		for _, a := range namedHere(n.id, events) {
			ok, err := accountExists(tx, a)
			if err != nil {
				return err
			}
			if ok {
				real = true
			} else {
				ghosts = append(ghosts, a)
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check offered room %s: %w", room, err)
	}
	for _, a := range ghosts {
		n.hosting.ghost(n.log, room, a)
	}
	begins := slices.ContainsFunc(events, func(e *protocol.Signed) bool { return e.Type == protocol.TypeRoomCreate })
	switch {
	case real && begins:
		return true, nil
	case real:
		if n.hosting.expect(from, room) {
			n.log.Info("a partner invited an account of this node late in a long room; fetching the room again from its start",
				"room", room, "partner", from)
			n.net.queue(outbound{kind: pullRoom, room: room, peer: from})
		}
		return false, nil
	case n.hosting.expects(from, room):
		return true, nil
	}
	n.hosting.refuse(n.log, from, room)
	return false, nil
}

// namedHere returns the accounts of node id that events name as members:
// the creator and members of a room.create, the accounts of a member.add.
func namedHere(id protocol.NodeID, events []*protocol.Signed) []protocol.AccountID {
	var out []protocol.AccountID
	for _, e := range events {
		var infos []protocol.MemberInfo
		switch c := e.Content.(type) {
		case *protocol.RoomCreate:
			infos = append([]protocol.MemberInfo{c.Creator}, c.Members...)
		case *protocol.MemberAdd:
			infos = c.All()
		}
		for _, m := range infos {
			if m.Account.Node() == id {
				out = append(out, m.Account)
			}
		}
	}
	return out
}

// accountExists reports whether the local account a (of this node) exists.
func accountExists(tx *storage.Tx, a protocol.AccountID) (bool, error) {
	_, err := tx.Account(a.Handle())
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// hostsMember reports whether c lists an account of this node that exists.
func (n *Node) hostsMember(tx *storage.Tx, c *protocol.Control) (bool, error) {
	for a := range c.Members.All() {
		if a.Node() != n.id {
			continue
		}
		if ok, err := accountExists(tx, a); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// hosts reports whether the node hosts room: it holds it, and one of its
// members is an account that exists here.
func (n *Node) hosts(room protocol.RoomID) (bool, error) {
	var ok bool
	err := n.store.View(func(tx *storage.Tx) error {
		c, err := n.control(tx, room)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok, err = n.hostsMember(tx, c)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("hosts room %s: %w", room, err)
	}
	return ok, nil
}

// unconfirmed returns the members of s, a room's control snapshot, whose
// home node has not confirmed them (docs/PROTOCOL.md, "Hosting rule"):
//
//   - an account of this node is confirmed if it exists here;
//   - a partner's account is confirmed once an event its home node signed
//     names it, among the room's control events and the settling events
//     of s: an event authored as the account (the member.profile its node
//     posts when it takes in a room that shows the account without its
//     name, an acknowledgement, a role change), or its node's room.create,
//     member.add or member.role naming it. Only the home node can sign as
//     its accounts, and it keeps a room only if it names one of them that
//     exists.
//
// A partner's entry stays unconfirmed while its node is offline, has not
// taken the room in yet, or refused it (the account does not exist
// there).
func (n *Node) unconfirmed(tx *storage.Tx, s *protocol.Snapshot) (map[protocol.AccountID]bool, error) {
	confirmed, err := n.confirmedBy(tx, s)
	if err != nil {
		return nil, err
	}
	out := map[protocol.AccountID]bool{}
	for a := range s.State.Members.All() {
		if a.Node() != n.id {
			if !confirmed[a] {
				out[a] = true
			}
			continue
		}
		ok, err := accountExists(tx, a)
		if err != nil {
			return nil, err
		}
		if !ok {
			out[a] = true
		}
	}
	return out, nil
}

// confirmedBy returns the accounts that events of s signed by their home
// node name (see unconfirmed). A snapshot's events are fixed by its key,
// so the result is cached by it. A snapshot's confirmations are those of
// any snapshot whose events it holds, and those its other events add: a
// room's next snapshot (one member added, say) reads only its new events
// from the last few worked out, where reading all of them cost a read per
// control event of the room, 0.4 s an addition in a room whose 4,000
// members came one at a time.
func (n *Node) confirmedBy(tx *storage.Tx, s *protocol.Snapshot) (map[protocol.AccountID]bool, error) {
	k := s.Key()
	if c, ok := n.hosting.confirmations.get(k); ok {
		return c, nil
	}
	out, ids := n.hosting.grown(s)
	if out == nil {
		out = map[protocol.AccountID]bool{}
		ids = slices.Concat(s.History.IDs(), s.Acks)
	}
	for _, id := range ids {
		e, err := tx.Event(id)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, fmt.Errorf("event %s of a snapshot is missing from the store", id)
		}
		for _, a := range confirms(e) {
			out[a] = true
		}
	}
	n.hosting.confirmations.add(k, out)
	n.hosting.remember(s, out)
	return out, nil
}

// confirms returns the accounts e confirms (see unconfirmed): its author,
// and those its content names that are of its origin.
func confirms(e *protocol.Signed) []protocol.AccountID {
	var named []protocol.AccountID
	switch c := e.Content.(type) {
	case *protocol.RoomCreate:
		named = append(named, c.Creator.Account)
		for _, m := range c.Members {
			named = append(named, m.Account)
		}
	case *protocol.MemberAdd:
		for _, m := range c.All() {
			named = append(named, m.Account)
		}
	case *protocol.MemberRole:
		named = append(named, c.Account)
	}
	out := []protocol.AccountID{e.AuthorID()}
	for _, a := range named {
		if a.Node() == e.Origin {
			out = append(out, a)
		}
	}
	return out
}

// recentConfirmations is how many snapshots' confirmations hosting
// remembers with the snapshot, to work out a later snapshot's from.
const recentConfirmations = 8

// confirmedSnapshot is a snapshot and its confirmations.
type confirmedSnapshot struct {
	snap      *protocol.Snapshot
	confirmed map[protocol.AccountID]bool
}

// grown returns a copy of the confirmations of a remembered snapshot
// whose events s holds, and the IDs of the events s holds beyond it; nil
// if there is none.
func (h *hosting) grown(s *protocol.Snapshot) (map[protocol.AccountID]bool, []protocol.EventID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.recent) - 1; i >= 0; i-- {
		r := h.recent[i]
		if hist, acks, ok := s.Added(r.snap); ok {
			return maps.Clone(r.confirmed), append(hist, acks...)
		}
	}
	return nil, nil
}

// remember keeps s's confirmations for grown, dropping the oldest.
func (h *hosting) remember(s *protocol.Snapshot, confirmed map[protocol.AccountID]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recent) == recentConfirmations {
		h.recent = slices.Delete(h.recent, 0, 1)
	}
	h.recent = append(h.recent, confirmedSnapshot{s, confirmed})
}
