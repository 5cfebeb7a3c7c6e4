package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestHiddenForkConverges: a hostile partner signs two chains of its own
// in a room from the same position, eight events for a and five others
// for b, so that each honest node holds one side and sees no
// equivocation. A sync request names the requester's chain positions, and
// a responder sends nothing of a chain the requester says it holds, so
// each side could stay hidden from the other node for good. They must
// not: a and b each end up holding both sides, and count the
// equivocation.
func TestHiddenForkConverges(t *testing.T) {
	m := newMalloryRoom(t)
	a, b, room, key, evil := m.a, m.b, m.room, m.key, m.evil
	ctx := t.Context()
	held := func(nd *Node) map[protocol.EventID]bool {
		out := map[protocol.EventID]bool{}
		nd.FederationForTest().Missing(ctx, nd.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
			id, err := protocol.PeekID(w)
			out[id] = true
			return err
		})
		return out
	}
	// The newest event a holds, which b holds too once their sync
	// rounds are over.
	last := newest(t, a, room)
	Await(t, 30*time.Second, func() (bool, string) { return held(b)[last.ID], "b to hold a's newest event" })

	side := func(name string, n int) []*protocol.Signed {
		var out []*protocol.Signed
		prev := last
		for i := range n {
			ev := chained(ctx, a.FederationForTest(), room, evil, prev, out...)
			ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
			e, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: fmt.Sprintf("%s %d", name, i)})
			if err != nil {
				t.Fatal(err)
			}
			out, prev = append(out, e), e
		}
		return out
	}
	toA, toB := side("to a", 8), side("to b", 5)
	if toA[0].Seq != toB[0].Seq || toA[0].ID == toB[0].ID {
		t.Fatalf("the sides start at positions %d and %d", toA[0].Seq, toB[0].Seq)
	}
	for _, give := range []struct {
		nd     *Node
		events []*protocol.Signed
	}{{a, toA}, {b, toB}} {
		for i, err := range give.nd.FederationForTest().Accept(ctx, evil, room, give.events) {
			if err != nil {
				t.Fatalf("node %s: event %d: %v", give.nd.Name, i, err)
			}
		}
	}

	all := append(toA, toB...)
	for _, nd := range []*Node{a, b} {
		Await(t, time.Minute, func() (bool, string) {
			h := held(nd)
			lacks := 0
			for _, e := range all {
				if !h[e.ID] {
					lacks++
				}
			}
			st := nd.Status(t)
			return lacks == 0 && st.Equivocations > 0, fmt.Sprintf("node %s lacks %d of the hostile node's %d events, counts %d equivocations",
				nd.Name, lacks, len(all), st.Equivocations)
		})
	}
}

// TestForkedControlStaysVoid: mallory, an admin of a room, signs two
// control events at one chain position of its node (an equivocation),
// then more control events on top of both. Rule 0 of protocol.Resolve
// voids them all. Node a works out which control events take effect one
// event at a time and stores that with the room, so that a restart does
// not make it resolve the whole control history again: what it keeps must
// be what resolving the whole history gives, before and after a restart,
// and the void events change nothing.
func TestForkedControlStaysVoid(t *testing.T) {
	m := newMalloryRoom(t)
	a, room, key, evil := m.a, m.room, m.key, m.evil
	ctx := t.Context()
	m.alice.SetRole(room, m.mallory, protocol.RoleAdmin)
	// The forks build on a's newest event, which must have the role in its
	// past: an acknowledgement b made before it heard of the role, stored
	// after it, would not (the renames were refused in one run).
	m.alice.AwaitAcknowledged(room, m.b)
	accept := func(events ...*protocol.Signed) {
		t.Helper()
		for i, err := range a.FederationForTest().Accept(ctx, evil, room, events) {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	rename := func(ev protocol.Event, name string) *protocol.Signed {
		t.Helper()
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
		e, err := protocol.Sign(key, ev, &protocol.RoomUpdate{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	agrees := func(when string) {
		t.Helper()
		if err := a.AppliedAgreesForTest(room); err != nil {
			t.Errorf("%s: %v", when, err)
		}
		if got := m.alice.Room(room).Name; got != "Deal" {
			t.Errorf("%s: the room is named %q, want the void renames to change nothing", when, got)
		}
	}

	last := newest(t, a, room)
	left := rename(chained(ctx, a.FederationForTest(), room, evil, last), "Left")
	right := rename(chained(ctx, a.FederationForTest(), room, evil, last), "Right")
	if left.Seq != right.Seq {
		t.Fatalf("the forks are at positions %d and %d", left.Seq, right.Seq)
	}
	accept(left, right)
	// A removal makes a work out the applied control events (and store them).
	m.alice.RemoveMember(room, m.bob.ID())
	last = newest(t, a, room)
	on := func(parent *protocol.Signed, name string) *protocol.Signed {
		t.Helper()
		ev := protocol.ChainSuccessor(room, parent.Version, []protocol.Order{parent.Order()}, left.Order(), left.Seq)
		ev.Prev = append(ev.Prev, right.ID)
		slices.SortFunc(ev.Prev, protocol.EventID.Compare)
		return rename(ev, name)
	}
	third := on(last, "Third")
	accept(third)
	agrees("after the forks")

	a.Stop()
	a.Start()
	agrees("after a restart")
	ev := protocol.ChainSuccessor(room, third.Version, []protocol.Order{third.Order()}, third.Order(), third.Seq)
	accept(rename(ev, "Fourth"))
	agrees("after one more void rename")
}
