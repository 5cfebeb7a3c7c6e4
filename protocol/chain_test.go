package protocol

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

// TestChainCheck covers the chain rule of version 2: an event names its
// origin's previous event in the room, and its Seq follows it. Breaking it
// is a partner's bad input (ErrBadChain), not a rule violation.
func TestChainCheck(t *testing.T) {
	rr := newVersionRoom(t, 2, KindGroup, 0)
	bobsPost := rr.post // bob's first event: seq 1
	if rr.create.Seq != 1 || bobsPost.Seq != 1 || rr.task.Seq != 3 {
		t.Fatalf("seqs: create %d, bob's post %d, alice's task %d", rr.create.Seq, bobsPost.Seq, rr.task.Seq)
	}
	heads := rr.r.Heads()
	with := func(seq uint64, parents ...*Signed) *Signed {
		var hs []Order
		for _, p := range parents {
			hs = append(hs, p.Order())
		}
		e := Successor(rr.create.RoomID(), 2, hs)
		e.Author, e.Seq = "bob", seq
		s, err := Sign(keyOf("bob"), e, &MessagePost{Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tip, _ := rr.r.Event(heads[0].ID)
	for _, c := range []struct {
		name string
		e    *Signed
		want error
	}{
		{"follows its previous event", with(2, tip, bobsPost), nil},
		{"previous event only in the causal past", with(2, tip), ErrBadChain},
		{"seq skips ahead", with(3, tip, bobsPost), ErrBadChain},
		{"seq 1 again after its first event", with(1, tip, bobsPost), ErrBadChain},
		{"seq 1 with its first event in the past: a fork, valid", with(1, tip), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(rr.r, c.e)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Check = %v, want %v", err, c.want)
			}
			if errors.Is(err, ErrRule) {
				t.Fatal("a broken chain is not a rule violation")
			}
		})
	}
	t.Run("a version 1 room has no chains", func(t *testing.T) {
		rr := newVersionRoom(t, 1, KindGroup, 0)
		if rr.create.Seq != 0 || rr.task.Seq != 0 {
			t.Fatalf("seqs %d, %d in a version 1 room", rr.create.Seq, rr.task.Seq)
		}
	})
	t.Run("a create has seq 1", func(t *testing.T) {
		_, err := Sign(fixedKey, Event{Version: 2, Author: "alice", Seq: 2}, &RoomCreate{Kind: KindGroup,
			Creator: MemberInfo{Account: acct("alice"), Role: RoleAdmin}})
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("create with seq 2: %v, want ErrMalformed", err)
		}
	})
}

// TestChainSuccessor checks that a node's next event names its previous
// one even when the room has more heads than an event may name.
func TestChainSuccessor(t *testing.T) {
	room := RoomID{1}
	var heads []Order
	for i := range MaxPrev + 5 {
		heads = append(heads, Order{Depth: uint64(10 + i), ID: EventID{byte(i + 2)}})
	}
	last := Order{Depth: 3, ID: EventID{0xff}}
	e := ChainSuccessor(room, 2, heads, last, 7)
	if len(e.Prev) != MaxPrev || !slices.Contains(e.Prev, last.ID) || e.Seq != 8 {
		t.Fatalf("%d parents, previous among them %v, seq %d", len(e.Prev), slices.Contains(e.Prev, last.ID), e.Seq)
	}
	if want := uint64(10+MaxPrev+4) + 1; e.Depth != want {
		t.Fatalf("depth %d, want %d", e.Depth, want)
	}
	if !slices.IsSortedFunc(e.Prev, compareIDs) {
		t.Fatal("parents not sorted")
	}
	if e := ChainSuccessor(room, 1, heads, last, 7); e.Seq != 0 || slices.Contains(e.Prev, last.ID) {
		t.Fatalf("version 1: seq %d", e.Seq)
	}
	if e := ChainSuccessor(room, 2, heads[:1], Order{}, 0); e.Seq != 1 || len(e.Prev) != 1 {
		t.Fatalf("first event: seq %d, %d parents", e.Seq, len(e.Prev))
	}
}

// TestEquivocation covers rule 0 of version 2: two concurrent control
// events of one origin prove it forked its chain, and its control events
// from the lower one's seq on are void, in every delivery order; earlier
// ones, and its accounts' leaves, stand.
func TestEquivocation(t *testing.T) {
	rename := func(n string) Content { return &RoomUpdate{Name: &n} }
	base := newVersionRoom(t, 2, KindGroup, 0)
	base.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
	base.must("alice", &MemberAdd{Member: MemberInfo{Account: acct("dave"), Role: RoleMember}})
	base.must("bob", &MemberRole{Account: acct("dave"), Role: RoleReadonly}) // before the fork: stands
	// Bob's node signs two renames on the same parents: both at one seq.
	one, two := concurrently(base, true, "bob", rename("one"), "bob", rename("two"))
	if one.Seq != two.Seq {
		t.Fatalf("seqs %d and %d", one.Seq, two.Seq)
	}
	// Later, on both branches, bob's node adds erin: void too.
	merged := base.event(fixedKey, "bob", &MemberAdd{Member: MemberInfo{Account: acct("erin"), Role: RoleMember}}, one, two)
	alices := base.event(fixedKey, "alice", rename("alice's"), merged)
	es := []*Signed{one, two, merged, alices}
	for _, e := range es {
		if _, err := Check(base.r, e); err != nil && !errors.As(err, new(*MissingError)) {
			t.Fatalf("%s by %s: %v", e.Type, e.Author, err)
		}
	}
	var orders [][]*Signed
	for _, p := range permutations(es) {
		orders = append(orders, slices.Concat(base.r.Events(), p))
	}
	st := replayAll(t, base.create.RoomID(), orders)
	want := roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleReadonly, "dave": RoleReadonly}
	if got := rolesOf(st.Control); !maps.Equal(got, want) || st.Control.Name != "alice's" {
		t.Fatalf("members %v, name %q; want %v, %q", got, st.Control.Name, want, "alice's")
	}
}

// TestNodeAck checks that any member may acknowledge, readonly ones
// included, and nobody else; an acknowledgement is not a control event.
func TestNodeAck(t *testing.T) {
	rr := newVersionRoom(t, 2, KindGroup, 0)
	if err := rr.try("carol", &NodeAck{}); err != nil { // carol is readonly
		t.Fatalf("readonly member acknowledges: %v", err)
	}
	if err := rr.try("dave", &NodeAck{}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("non-member acknowledges: %v, want ErrNotMember", err)
	}
	if TypeNodeAck.IsControl() {
		t.Fatal("node.ack is a control event")
	}
}
