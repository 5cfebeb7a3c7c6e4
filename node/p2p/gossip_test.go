package p2p

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// publish has h's node take in es, as the origin does, and publishes them.
func publish(t *testing.T, h *testHost, es ...*protocol.Signed) {
	t.Helper()
	for _, e := range es {
		h.fake.add(t, e)
		if err := h.Publish(t.Context(), e.RoomID(), e.Wire()); err != nil {
			t.Fatalf("%s: publish: %v", h.name, err)
		}
	}
}

// TestGossipOnlyReachesSharingNodes runs three partners: a and b host
// members of a room, c does not, though c believes it does and subscribes
// to the room's topic. a and b exchange the room's events by gossip; c
// receives none of them, by gossip or by sync.
func TestGossipOnlyReachesSharingNodes(t *testing.T) {
	ka, kb, kc := keyOf("a"), keyOf("b"), keyOf("c")
	ida, idb, idc := idOf(ka), idOf(kb), idOf(kc)
	create := newRoom(t, ka, 1, idb)
	room := create.RoomID()
	fa, fb, fc := newFakeNode(ida), newFakeNode(idb), newFakeNode(idc)
	fa.view(room, ida, idb)
	fb.view(room, ida, idb)
	fc.view(room, ida, idb, idc)
	fa.add(t, create)
	fb.add(t, create)

	a, b, c := startHost(t, "a", fa), startHost(t, "b", fb), startHost(t, "c", fc)
	pair(t, a, b, "quic-v1")
	pair(t, a, c, "tcp")
	pair(t, b, c, "tcp")
	waitFor(t, "a and b subscribed to each other", func() bool {
		_, ab := a.sees(room, b.self)
		_, ba := b.sees(room, a.self)
		return ab && ba
	})
	waitFor(t, "a and b refusing c's subscription", func() bool {
		return a.Stats().RefusedSubscriptions > 0 && b.Stats().RefusedSubscriptions > 0
	})

	// A burst of a chain of posts: children are validated concurrently
	// with their parents.
	publish(t, a, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 50)...)
	waitFor(t, "b to hold a's posts", func() bool {
		st := b.Stats()
		return fb.count(room) == 51 && st.GossipAccepted+st.GossipAdopted+st.GossipIgnored == 50
	})
	publish(t, b, posts(t, kb, "bob", room, fb.heads(room), 5)...)
	waitFor(t, "a to hold b's posts", func() bool { return fa.count(room) == 56 })

	if st := b.Stats(); st.GossipRejected != 0 || st.Rooms[room].Validated != 50 {
		t.Errorf("b's gossip stats: %+v", st)
	}
	if st := a.Stats(); st.GossipRejected != 0 || st.Rooms[room].Validated != 5 {
		t.Errorf("a's gossip stats: %+v", st)
	}
	if err := c.SyncRoom(t.Context(), a.ID(), room); !errors.Is(err, ErrRefused) {
		t.Errorf("c's sync of the room: %v, want ErrRefused", err)
	}
	st := c.Stats()
	if got := st.Rooms[room]; got != (RoomStats{}) {
		t.Errorf("c received gossip of a room it has no member in: %+v", got)
	}
	if st.GossipReceived != 0 || st.SyncEvents != 0 || fc.count(room) != 0 {
		t.Errorf("c received events of a room it has no member in: %+v, holds %d", st, fc.count(room))
	}
}

// TestOrphanWaitsForParent publishes a child before its parent: the
// receiver keeps the child until the parent arrives by gossip, then
// accepts both, without a sync round.
func TestOrphanWaitsForParent(t *testing.T) {
	create, fa, fb := sharedRoom(t, 3)
	room := create.RoomID()
	// b's orphans wait as long as the test may take: it asserts that the
	// parent, not a sync, completes the child.
	patient := func(c *Config) { c.OrphanWait = time.Hour }
	a, b := startHost(t, "a", fa), startHost(t, "b", fb, patient)
	pair(t, a, b, "tcp")
	settle(t, a, b, room)

	// Not added to a's store: a sync round still under way from the
	// connection would otherwise bring b both posts.
	es := posts(t, a.key, "alice", room, []protocol.Order{create.Order()}, 2)
	rounds := b.Stats().SyncRounds
	if err := a.Publish(t.Context(), room, es[1].Wire()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to keep the orphan", func() bool { return b.Stats().GossipOrphaned == 1 })
	if err := a.Publish(t.Context(), room, es[0].Wire()); err != nil {
		t.Fatal(err)
	}
	// The fake's replica stores the parked child with its parent, just
	// before the host counts the adoption: wait for both.
	waitFor(t, "b to hold both posts and adopt the child", func() bool {
		return fb.count(room) == 3 && b.Stats().GossipAdopted > 0
	})
	st := b.Stats()
	if st.GossipAccepted != 1 || st.GossipAdopted != 1 || st.GossipIgnored != 0 || st.SyncRounds != rounds {
		t.Errorf("b's stats: %+v (rounds before: %d); want the parent accepted, the child adopted, no sync", st, rounds)
	}
}

// TestMissingParentsTriggerSync publishes an event whose parent the
// receiver lacks and never gossips it: the receiver keeps it for a while,
// then syncs the room with the sender and ends up with both.
//
// A sync round of b can be answered after the parent was stored on a and
// bring it before the child is gossiped; the child then has nothing to
// wait for. The test waits for b's rounds in flight to end before each
// pair, and posts the next pair until the child arrived an orphan (rarely
// more than once).
func TestMissingParentsTriggerSync(t *testing.T) {
	create, fa, fb := sharedRoom(t, 2)
	room := create.RoomID()
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	settle(t, a, b, room) // so that the connection's sync rounds cannot carry the parent

	head := create.Order()
	for attempt := 1; ; attempt++ {
		es := posts(t, a.key, "alice", room, []protocol.Order{head}, 2)
		head = es[1].Order()
		// A round b has begun counts in before; one begun later counts
		// after it, whatever it brings.
		waitFor(t, "b's pulls in flight to end", func() bool {
			b.pulling.mu.Lock()
			defer b.pulling.mu.Unlock()
			return len(b.pulling.busy) == 0
		})
		before := b.Stats()
		fa.add(t, es[0])
		publish(t, a, es[1])
		want := 1 + 2*attempt
		waitFor(t, "b to hold both posts", func() bool { return fb.count(room) == want })
		if b.Stats().GossipOrphaned == before.GossipOrphaned {
			if attempt == 5 {
				t.Fatalf("b held the parent before the child came, 5 times: %+v", b.Stats())
			}
			continue
		}
		// The orphan is ignored once its wait ends, or adopted if the sync
		// brings its parent first: on a loaded machine, either.
		waitFor(t, "b to adopt or drop the orphan", func() bool {
			st := b.Stats()
			return st.GossipIgnored+st.GossipAdopted > before.GossipIgnored+before.GossipAdopted
		})
		st := b.Stats()
		if st.GossipOrphaned != before.GossipOrphaned+1 || st.GossipIgnored+st.GossipAdopted != before.GossipIgnored+before.GossipAdopted+1 ||
			st.GossipRejected != 0 || st.SyncRounds <= before.SyncRounds || st.SyncEvents <= before.SyncEvents {
			t.Errorf("b's stats: %+v; before: %+v", st, before)
		}
		return
	}
}

// TestResubscribe: a dropped c's subscription while it did not know c
// shares the room; once it knows, c's sync rounds tell c to announce it
// again, and gossip flows to c.
func TestResubscribe(t *testing.T) {
	ka, kc := keyOf("a"), keyOf("c")
	ida, idc := idOf(ka), idOf(kc)
	create := newRoom(t, ka, 3, idc)
	room := create.RoomID()
	fa, fc := newFakeNode(ida), newFakeNode(idc)
	fa.view(room, ida)
	fc.view(room, ida, idc)
	fa.add(t, create)
	fc.add(t, create)
	a := startHost(t, "a", fa)
	c := startHost(t, "c", fc, func(cfg *Config) { cfg.SyncInterval = 200 * time.Millisecond })
	pair(t, a, c, "tcp")
	waitFor(t, "a refusing c's subscription", func() bool { return a.Stats().RefusedSubscriptions > 0 })

	fa.view(room, ida, idc)                              // c's member was added, as far as a knows,
	if err := a.Join(room, fa.nodes(room)); err != nil { // and a's node moves to the room's new topic.
		t.Fatal(err)
	}
	waitFor(t, "c to re-announce, and a to see it", func() bool {
		_, ok := a.sees(room, c.self)
		return ok && c.Stats().Reannounced > 0
	})
	publish(t, a, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 1)...)
	waitFor(t, "c to receive gossip", func() bool { return c.Stats().Rooms[room].Validated > 0 })
}

// TestResubscribeForEachPeer: a and b both dropped c's subscription while
// they did not know c shares the room, and learn it one after the other,
// within a minute; c announces its subscription again for each, so both
// see it, not only the first.
func TestResubscribeForEachPeer(t *testing.T) {
	ka, kb, kc := keyOf("a"), keyOf("b"), keyOf("c")
	ida, idb, idc := idOf(ka), idOf(kb), idOf(kc)
	create := newRoom(t, ka, 4, idb, idc)
	room := create.RoomID()
	fa, fb, fc := newFakeNode(ida), newFakeNode(idb), newFakeNode(idc)
	fa.view(room, ida, idb)
	fb.view(room, ida, idb)
	fc.view(room, ida, idb, idc)
	for _, f := range []*fakeNode{fa, fb, fc} {
		f.add(t, create)
	}
	a := startHost(t, "a", fa)
	b := startHost(t, "b", fb)
	c := startHost(t, "c", fc, func(cfg *Config) { cfg.SyncInterval = 200 * time.Millisecond })
	pair(t, a, c, "tcp")
	pair(t, b, c, "tcp")
	waitFor(t, "a and b refusing c's subscription", func() bool {
		return a.Stats().RefusedSubscriptions > 0 && b.Stats().RefusedSubscriptions > 0
	})

	fa.view(room, ida, idb, idc) // c's member was added, as far as a knows
	if err := a.Join(room, fa.nodes(room)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c to re-announce for a, and a to see it", func() bool {
		_, ok := a.sees(room, c.self)
		return ok && c.Stats().Reannounced > 0
	})
	if _, ok := b.sees(room, c.self); ok {
		t.Fatal("b sees c's subscription before it knows c shares the room")
	}
	fb.view(room, ida, idb, idc) // and now as far as b knows
	if err := b.Join(room, fb.nodes(room)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c to re-announce for b, and b to see it", func() bool {
		_, ok := b.sees(room, c.self)
		return ok
	})
	if n := c.Stats().Reannounced; n != 2 {
		t.Fatalf("c re-announced %d times, want 2: once for each", n)
	}
}

// TestJoinLeave checks that leaving a room's topic stops its gossip, and
// joining again resumes it.
func TestJoinLeave(t *testing.T) {
	ka, kb := keyOf("a"), keyOf("b")
	ida, idb := idOf(ka), idOf(kb)
	create := newRoom(t, ka, 6, idb)
	room := create.RoomID()
	fa, fb := newFakeNode(ida), newFakeNode(idb)
	fa.view(room, ida, idb)
	fb.view(room, ida, idb)
	fa.add(t, create)
	fb.add(t, create)
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	waitFor(t, "a to see b's subscription", func() bool { _, ok := a.sees(room, b.self); return ok })

	if err := b.Leave(room); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b leave", func() bool { _, ok := a.sees(room, b.self); return !ok })
	if err := b.Publish(t.Context(), room, create.Wire()); !errors.Is(err, ErrNotJoined) {
		t.Errorf("Publish after Leave: %v, want ErrNotJoined", err)
	}
	if err := b.Join(room, fb.nodes(room)); err != nil {
		t.Fatal(err)
	}
	if err := b.Join(room, fb.nodes(room)); err != nil {
		t.Fatalf("second Join: %v", err)
	}
	waitFor(t, "a to see b again", func() bool { _, ok := a.sees(room, b.self); return ok })
	before := b.Stats().Rooms[room].Validated
	publish(t, a, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 1)...)
	waitFor(t, "b to receive gossip again", func() bool { return b.Stats().Rooms[room].Validated > before })
	if err := a.Publish(t.Context(), protocol.RoomID{9}, create.Wire()); !errors.Is(err, ErrNotJoined) {
		t.Errorf("Publish in a room not joined: %v, want ErrNotJoined", err)
	}
}

// TestAloneRoomHasNoTopic: a room whose member nodes are a's alone has no
// topic on a, from the start and after the last other node leaves it, and
// publishing to it does nothing; once b shares it, a joins its topic and
// b receives a's gossip.
func TestAloneRoomHasNoTopic(t *testing.T) {
	ka, kb := keyOf("a"), keyOf("b")
	ida, idb := idOf(ka), idOf(kb)
	create := newRoom(t, ka, 9, idb)
	room := create.RoomID()
	fa, fb := newFakeNode(ida), newFakeNode(idb)
	fa.view(room, ida)
	fb.view(room, ida, idb)
	fa.add(t, create)
	fb.add(t, create)
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	if subscribed, _ := a.sees(room, b.self); subscribed {
		t.Fatal("a is on a topic of a room no other node shares")
	}
	publish(t, a, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 1)...)

	fa.view(room, ida, idb) // b's member was added, as far as a knows
	if err := a.Join(room, fa.nodes(room)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a and b to see each other on the room's topic", func() bool {
		_, ab := a.sees(room, b.self)
		_, ba := b.sees(room, a.self)
		return ab && ba
	})
	publish(t, a, posts(t, ka, "alice", room, fa.heads(room), 1)...)
	waitFor(t, "b to receive a's gossip", func() bool { return b.Stats().Rooms[room].Validated > 0 })

	fa.view(room, ida) // and removed again
	if err := a.Join(room, fa.nodes(room)); err != nil {
		t.Fatal(err)
	}
	if subscribed, _ := a.sees(room, b.self); subscribed {
		t.Error("a stayed on the room's topic after the last other node left it")
	}
	waitFor(t, "b to see a leave", func() bool { _, ok := b.sees(room, a.self); return !ok })
	if err := a.Publish(t.Context(), room, create.Wire()); err != nil {
		t.Errorf("Publish in a room no other node shares: %v, want nil", err)
	}
}

// TestRemovedNodeLosesTopic: a, b and c share a room; b's last member is
// removed, a and c learn it and move to the room's topic for {a, c}, and b
// never learns it, so it stays subscribed to the old topic. a's flood
// publishing reaches c and nothing reaches b: not by gossip, and not by
// sync, which a and c refuse b.
func TestRemovedNodeLosesTopic(t *testing.T) {
	ka, kb, kc := keyOf("a"), keyOf("b"), keyOf("c")
	ida, idb, idc := idOf(ka), idOf(kb), idOf(kc)
	create := newRoom(t, ka, 7, idb, idc)
	room := create.RoomID()
	fa, fb, fc := newFakeNode(ida), newFakeNode(idb), newFakeNode(idc)
	for _, f := range []*fakeNode{fa, fb, fc} {
		f.view(room, ida, idb, idc)
		f.add(t, create)
	}
	fast := func(cfg *Config) { cfg.SyncInterval = 100 * time.Millisecond }
	a, b, c := startHost(t, "a", fa, fast), startHost(t, "b", fb, fast), startHost(t, "c", fc, fast)
	pair(t, a, b, "tcp")
	pair(t, a, c, "tcp")
	pair(t, b, c, "tcp")
	waitFor(t, "a to see b's and c's subscriptions", func() bool {
		_, sb := a.sees(room, b.self)
		_, sc := a.sees(room, c.self)
		return sb && sc
	})

	for _, h := range []*testHost{a, c} {
		h.fake.view(room, ida, idc)
		if err := h.Join(room, h.fake.nodes(room)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a and c to see each other on the new topic", func() bool {
		_, ac := a.sees(room, c.self)
		_, ca := c.sees(room, a.self)
		return ac && ca
	})
	if _, seen := a.sees(room, b.self); seen {
		t.Fatal("a sees b on the room's new topic")
	}
	received := b.Stats().Rooms[room].Received
	rounds := b.Stats().SyncRounds
	publish(t, a, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 5)...)
	waitFor(t, "c to receive the posts", func() bool { return fc.count(room) == 6 })
	waitFor(t, "b to try a few sync rounds", func() bool { return b.Stats().SyncRounds >= rounds+4 })
	if got := b.Stats().Rooms[room].Received; got != received {
		t.Errorf("b's pubsub received %d messages of the room after its removal", got-received)
	}
	if got := fb.count(room); got != 1 {
		t.Errorf("b holds %d events of the room, want only the first", got)
	}
	if a.Stats().TopicMoves != 1 || c.Stats().TopicMoves != 1 {
		t.Errorf("topic moves: a %d, c %d; want 1 each", a.Stats().TopicMoves, c.Stats().TopicMoves)
	}
}

// TestGossipFromNonMemberRejected: in a's view, b hosts no member of a
// room (it was removed), but b computes the topic a is on and publishes a
// valid event there. a's validator rejects it for coming from a node not
// in the room, before its node sees it.
func TestGossipFromNonMemberRejected(t *testing.T) {
	create, fa, fb := sharedRoom(t, 8)
	room := create.RoomID()
	ida, idb := fa.self, fb.self
	fa.view(room, ida)
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	// a is on the topic b computes; b sees a's subscription.
	if err := a.Join(room, []protocol.NodeID{ida, idb}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to see a's subscription", func() bool { _, ok := b.sees(room, a.self); return ok })
	calls := fa.acceptCalls()
	publish(t, b, posts(t, b.key, "bob", room, []protocol.Order{create.Order()}, 1)...)
	waitFor(t, "a to reject b's gossip", func() bool { return a.Stats().GossipNotMember > 0 })
	if st := a.Stats(); st.GossipAccepted != 0 || fa.count(room) != 1 || fa.acceptCalls() != calls {
		t.Errorf("a took in gossip from a node not in the room: %+v, holds %d events", st, fa.count(room))
	}
}

// TestLocalErrorsAreNotMisbehaviour: an event the node cannot store for a
// reason of its own (a full disk, a broken store, its own deadline) is
// ignored by gossip and ends a sync pull, but is never held against the
// peer that sent it; sync brings the event once the node can store again.
// A rule violation still is (TestHostileSync).
func TestLocalErrorsAreNotMisbehaviour(t *testing.T) {
	for i, tc := range []struct {
		name string
		err  error
	}{
		{"full disk", fmt.Errorf("accept: %w: %w", ErrNotStored, errors.New("disk full"))},
		{"store read error", fmt.Errorf("check event: load parent: %w", errors.New("badger: file does not exist for table 7"))},
		{"store deadline", fmt.Errorf("accept events: %w", context.DeadlineExceeded)},
		{"transaction too big", errors.New("Txn is too big to fit into one request")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			create, fa, fb := sharedRoom(t, byte(20+i))
			room := create.RoomID()
			a, b := startHost(t, "a", fa), startHost(t, "b", fb)
			pair(t, a, b, "tcp")
			settle(t, b, a, room)
			fa.mu.Lock()
			fa.fail = tc.err
			fa.mu.Unlock()
			es := posts(t, b.key, "bob", room, []protocol.Order{create.Order()}, 2)
			publish(t, b, es[0])
			waitFor(t, "a to ignore what it cannot store", func() bool { return a.Stats().GossipNotStored == 1 })
			fb.add(t, es[1])
			if err := a.SyncRoom(t.Context(), b.ID(), room); err == nil || errors.Is(err, ErrMisbehaved) {
				t.Errorf("sync while a cannot store: %v, want an error that is not ErrMisbehaved", err)
			}
			if st := a.Stats(); st.GossipRejected != 0 || st.SyncMisbehaved != 0 {
				t.Fatalf("a blamed b for its own error: %+v", st)
			}
			fa.mu.Lock()
			fa.fail = nil
			fa.mu.Unlock()
			if err := a.SyncRoom(t.Context(), b.ID(), room); err != nil {
				t.Fatal(err)
			}
			if n := fa.count(room); n != 3 {
				t.Fatalf("a holds %d events after sync, want 3", n)
			}
		})
	}
}
