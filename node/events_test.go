package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestEventsCarryRoomVersion checks that the node signs every event with
// its room's version: the newest for the rooms it creates, 1 for a
// version 1 room a partner brings, which keeps its version 1 rules (there
// any admin may remove the creator; in a version 2 room only a senior
// admin may, and the node refuses with ErrForbidden).
func TestEventsCarryRoomVersion(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, t.TempDir())
	for _, h := range []protocol.Handle{"alice", "bob"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	alice, bob := protocol.NewAccountID(n.ID(), "alice"), protocol.NewAccountID(n.ID(), "bob")

	// A partner's version 1 room, with alice and bob as admins.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	partner := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	zed := protocol.NewAccountID(partner, "zed")
	old, err := protocol.Sign(key, protocol.Event{Version: 1, Author: "zed"}, &protocol.RoomCreate{Kind: protocol.KindGroup,
		Creator: protocol.MemberInfo{Account: zed, Role: protocol.RoleAdmin},
		Members: []protocol.MemberInfo{{Account: alice, Role: protocol.RoleAdmin}, {Account: bob, Role: protocol.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := n.FederationForTest().Accept(ctx, partner, old.RoomID(), []*protocol.Signed{old}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	fresh := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "new", Members: []MemberSpec{{Account: bob, Role: protocol.RoleAdmin}}}))

	for _, c := range []struct {
		room protocol.RoomID
		v    uint16
	}{{old.RoomID(), 1}, {fresh.ID, protocol.Version}} {
		must[*Message](t)(n.Post(ctx, "bob", c.room, "hello"))
		var vs []uint16
		n.FederationForTest().Missing(ctx, n.ID(), protocol.SyncWant{Room: c.room}, nil, func(w []byte) error {
			e, err := protocol.Decode(w)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, e.Version)
			return nil
		})
		if len(vs) != 2 || vs[0] != c.v || vs[1] != c.v {
			t.Errorf("room of version %d holds events of versions %v", c.v, vs)
		}
	}
	if err := n.RemoveMember(ctx, "alice", old.RoomID(), zed); err != nil {
		t.Errorf("version 1: admin removes the creator: %v", err)
	}
	if err := n.RemoveMember(ctx, "bob", fresh.ID, alice); !errors.Is(err, ErrForbidden) || !errors.Is(err, protocol.ErrNotSenior) {
		t.Errorf("version 2: junior admin removes the creator: %v, want ErrForbidden (protocol.ErrNotSenior)", err)
	}
}

// roomWithPartner returns a node on which alice made a room of the newest
// version with zed of another node, the partner, whose key it returns,
// and posted three times, and the room's events so far, in order: every
// one on alice's chain.
func roomWithPartner(t *testing.T) (n *Node, room *Room, key ed25519.PrivateKey, partner protocol.NodeID, events []*protocol.Signed) {
	t.Helper()
	ctx := t.Context()
	n = newTestNode(t, t.TempDir())
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	_, key, _ = ed25519.GenerateKey(rand.Reader)
	partner = protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	zed := protocol.NewAccountID(partner, "zed")
	room = must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "r", Members: []MemberSpec{{Account: zed, Role: protocol.RoleMember}}}))
	for range 3 {
		must[*Message](t)(n.Post(ctx, "alice", room.ID, "hello"))
	}
	err := n.FederationForTest().Missing(ctx, n.ID(), protocol.SyncWant{Room: room.ID}, nil, func(w []byte) error {
		e, err := protocol.Decode(w)
		events = append(events, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, room, key, partner, events
}

// zedFirst returns zed's first event in room, signed with key (zed's
// node's): a post with body on after. Each call at the same after is at
// the same chain position, so two of them are an equivocation.
func zedFirst(t *testing.T, key ed25519.PrivateKey, room protocol.RoomID, after *protocol.Signed, body string) *protocol.Signed {
	t.Helper()
	ev := protocol.ChainSuccessor(room, after.Version, []protocol.Order{after.Order()}, protocol.Order{}, 0)
	ev.Author = "zed"
	e, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestChainsAndEquivocation checks that the node signs each event of a
// version 2 room as the next of its chain there, naming its previous one,
// and that a partner signing two events at one chain position is
// detected: both are stored, and Status counts the equivocation.
func TestChainsAndEquivocation(t *testing.T) {
	ctx := t.Context()
	n, room, key, partner, mine := roomWithPartner(t)
	for i, e := range mine {
		if e.Seq != uint64(i+1) || i > 0 && !slices.Contains(e.Prev, mine[i-1].ID) {
			t.Fatalf("event %d: seq %d, parents %v", i, e.Seq, e.Prev)
		}
	}
	last := mine[len(mine)-1]
	fork := func(body string) *protocol.Signed { return zedFirst(t, key, room.ID, last, body) }
	a, b := fork("to some"), fork("to others")
	for _, e := range []*protocol.Signed{a, b} {
		if errs := n.FederationForTest().Accept(ctx, partner, room.ID, []*protocol.Signed{e}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	st := must[*Status](t)(n.Status(ctx))
	if st.Equivocations != 1 {
		t.Fatalf("equivocations %d, want 1", st.Equivocations)
	}
	msgs := must[[]*Message](t)(n.Messages(ctx, "alice", room.ID, Page{Limit: 100}))
	if len(msgs) != 5 {
		t.Fatalf("%d messages, want both forks shown too (5)", len(msgs))
	}

	// A partner that holds each chain to its tip, the first fork
	// included, still lacks the second, which is on no chain position:
	// the answer to it must not be read off the chains.
	var sent []protocol.EventID
	err := n.FederationForTest().Missing(ctx, partner, protocol.SyncWant{Room: room.ID, Heads: []protocol.EventID{last.ID, a.ID}}, nil, func(w []byte) error {
		id, err := protocol.PeekID(w)
		sent = append(sent, id)
		return err
	})
	if err != nil || !slices.Equal(sent, []protocol.EventID{b.ID}) {
		t.Errorf("a partner holding the chains and the first fork is sent %v (%v), want the second fork %s", sent, err, b.ID)
	}

	// Held, given each event's links, tells held events (the second fork
	// too, which is on no position) from new ones: a third fork at the
	// taken position, and the next of zed's chain.
	c := fork("to nobody")
	next := protocol.ChainSuccessor(room.ID, a.Version, []protocol.Order{a.Order()}, a.Order(), a.Seq)
	next.Author = "zed"
	d, err := protocol.Sign(key, next, &protocol.MessagePost{Body: "after the first fork"})
	if err != nil {
		t.Fatal(err)
	}
	events := append(slices.Clone(mine), a, b, c, d)
	ids := make([]protocol.EventID, len(events))
	links := make([]protocol.Links, len(events))
	for i, e := range events {
		var ok bool
		if ids[i], links[i], ok, err = protocol.PeekLinks(e.Wire()); err != nil || !ok {
			t.Fatalf("peek %s: %v %v", e.ID, ok, err)
		}
	}
	if d.Seq != a.Seq+1 || c.Seq != a.Seq {
		t.Fatalf("forks at %d, %d, %d and the next at %d", a.Seq, b.Seq, c.Seq, d.Seq)
	}
	want := slices.Repeat([]bool{true}, len(events))
	want[len(want)-2], want[len(want)-1] = false, false
	for _, l := range [][]protocol.Links{links, nil} {
		if got := n.FederationForTest().Held(ctx, ids, l); !slices.Equal(got, want) {
			t.Errorf("held %v, want %v (links given: %v)", got, want, l != nil)
		}
	}
	// Accepting held forks again (the first, at its position, and the
	// second) changes nothing, not even a count; the third is stored.
	before := must[*Room](t)(n.Room(ctx, "alice", room.ID))
	if errs := n.FederationForTest().Accept(ctx, partner, room.ID, []*protocol.Signed{a, b, c}); slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		t.Fatal(errs)
	}
	st = must[*Status](t)(n.Status(ctx))
	msgs = must[[]*Message](t)(n.Messages(ctx, "alice", room.ID, Page{Limit: 100}))
	if st.Equivocations != 2 || len(msgs) != 6 {
		t.Errorf("after the second fork again and a third: %d equivocations, %d messages; want 2 and 6", st.Equivocations, len(msgs))
	}
	after := must[*Room](t)(n.Room(ctx, "alice", room.ID))
	if after.Messages != before.Messages+1 || after.Unread != before.Unread+1 {
		t.Errorf("the forks again and a third: room of %d messages, %d unread; was %d and %d, want one more each",
			after.Messages, after.Unread, before.Messages, before.Unread)
	}
}

// TestChainPositions checks the answer to a request naming chain
// positions (protocol.SyncWant.Chains): read off the chains from them,
// however few of the named heads this node holds; an origin not named
// sent from its first event; and a named event this node holds another
// event in place of (the requester holds the other side of an
// equivocation it has not seen) answered by the walk, which sends this
// node's side.
func TestChainPositions(t *testing.T) {
	ctx := t.Context()
	n, room, key, partner, mine := roomWithPartner(t)
	last := mine[len(mine)-1]
	held, other := zedFirst(t, key, room.ID, last, "to this node"), zedFirst(t, key, room.ID, last, "to others")
	if errs := n.FederationForTest().Accept(ctx, partner, room.ID, []*protocol.Signed{held}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	unknown := protocol.EventID{1}
	at := func(e *protocol.Signed, seq uint64, id protocol.EventID) protocol.ChainPos {
		return protocol.ChainPos{Origin: e.Origin, Seq: seq, ID: id}
	}
	sorted := func(cs ...protocol.ChainPos) []protocol.ChainPos {
		slices.SortFunc(cs, func(a, b protocol.ChainPos) int { return strings.Compare(string(a.Origin), string(b.Origin)) })
		return cs
	}
	ids := func(es ...*protocol.Signed) []protocol.EventID {
		var out []protocol.EventID
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		have     protocol.SyncWant
		byChains bool
		want     []protocol.EventID
	}{
		{"ahead on one chain, no head held", protocol.SyncWant{Heads: []protocol.EventID{unknown},
			Chains: sorted(at(last, last.Seq, last.ID), at(held, held.Seq+3, unknown))}, true, nil},
		{"behind on one chain, the other not named", protocol.SyncWant{Heads: []protocol.EventID{unknown},
			Chains: sorted(at(mine[1], mine[1].Seq, mine[1].ID))}, true, ids(append(mine[2:], held)...)},
		{"the other side of an equivocation", protocol.SyncWant{Heads: []protocol.EventID{last.ID, other.ID},
			Chains: sorted(at(last, last.Seq, last.ID), at(other, other.Seq, other.ID))}, false, ids(held)},
		{"heads only", protocol.SyncWant{Heads: []protocol.EventID{last.ID}}, false, ids(held)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.have.Room = room.ID
			err := n.store.View(func(tx *storage.Tx) error {
				_, ok, err := chainPlan(tx, tc.have)
				if err == nil && ok != tc.byChains {
					t.Errorf("answered from the chains: %v, want %v", ok, tc.byChains)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var sent []protocol.EventID
			err = n.FederationForTest().Missing(ctx, partner, tc.have, nil, func(w []byte) error {
				id, err := protocol.PeekID(w)
				sent = append(sent, id)
				return err
			})
			if err != nil || !slices.Equal(sent, tc.want) {
				t.Errorf("sent %v (%v), want %v", sent, err, tc.want)
			}
		})
	}
	// The room read whole at the start, then the cases.
	want := SyncAnswerStats{Chains: 2, Walk: 2, Whole: 1}
	if got := must[*Status](t)(n.Status(ctx)).SyncAnswers; got != want {
		t.Errorf("sync answers counted %+v, want %+v", got, want)
	}
}
