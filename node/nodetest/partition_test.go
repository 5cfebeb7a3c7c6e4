package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// roomMembers returns the members of room with their roles as nd holds it,
// whoever may see it there (an admin's view), or why it cannot.
func roomMembers(nd *Node, room protocol.RoomID) (string, error) {
	rs, err := nd.AllRooms(nd.c.t.Context())
	if err != nil {
		return "", err
	}
	for _, r := range rs {
		if r.ID == room {
			var ms []string
			for _, m := range r.Members {
				ms = append(ms, fmt.Sprintf("%s:%s", m.Account, m.Role))
			}
			slices.Sort(ms)
			return fmt.Sprint(ms), nil
		}
	}
	return "", fmt.Errorf("node %s does not hold room %s", nd.Name, room)
}

// awaitMembers waits until each of nodes holds room with the members
// want, as roomMembers prints them.
func awaitMembers(t *testing.T, room protocol.RoomID, want string, nodes ...*Node) {
	t.Helper()
	for _, nd := range nodes {
		Await(t, 30*time.Second, func() (bool, string) {
			got, err := roomMembers(nd, room)
			return err == nil && got == want, fmt.Sprintf("%s holds members %s (%v), want %s", nd.Name, got, err, want)
		})
	}
}

// holds reports whether nd holds every event of ids.
func holds(nd *Node, ids ...protocol.EventID) bool {
	for _, ok := range nd.FederationForTest().Held(nd.c.t.Context(), ids, nil) {
		if !ok {
			return false
		}
	}
	return true
}

// listed reports whether as's room list on nd has room.
func listed(t *testing.T, nd *Node, as protocol.Handle, room protocol.RoomID) bool {
	t.Helper()
	rs, err := nd.Rooms(t.Context(), as)
	if err != nil {
		t.Fatalf("node %s: rooms of %s: %v", nd.Name, as, err)
	}
	return slices.ContainsFunc(rs, func(r *node.Room) bool { return r.ID == room })
}

// TestPartitionConverges: a hosts alice (the creator) and carol, b hosts
// bob; bob and carol are admins, bob the more senior. During a partition
// alice demotes bob while bob removes carol, and both sides keep posting.
// After relinking they exchange everything: alice's demotion of bob
// stands (she is senior to him), so bob's concurrent removal of carol is
// void (a room of version 1 would keep both), and both nodes end with the
// same members and messages. TestPartitionRemovalWins is the case where a
// node's last member is removed, which sync used to refuse to tell it.
func TestPartitionConverges(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	a.User("carol")
	b.User("bob")
	alice, carol, bob := a.As("alice"), a.As("carol"), b.As("bob")
	room := alice.CreateRoom("Deal")
	alice.AddMember(room, bob.ID(), protocol.RoleAdmin)
	alice.AddMember(room, carol.ID(), protocol.RoleAdmin)
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	alice.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	alice.Post(room, "before")
	bob.AwaitMessages(room, "before")

	c.Unlink(a, b)
	alice.SetRole(room, bob.ID(), protocol.RoleMember)
	bob.RemoveMember(room, carol.ID())
	alice.Post(room, "alice alone")
	bob.Post(room, "bob alone")
	c.Link(a, b)

	alice.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	awaitSame(t, 30*time.Second, room, alice, bob, carol)
	if r := bob.Room(room); r.Role != protocol.RoleMember {
		t.Fatalf("bob is %s after the partition, want member", r.Role)
	}
	// Both partition posts are shown, on both nodes, in the same order.
	ms, err := b.Messages(t.Context(), "bob", room, node.Page{})
	ms = slices.DeleteFunc(ms, func(m *node.Message) bool { return m.Notice != "" }) // system messages aside
	if err != nil || len(ms) != 3 {
		t.Fatalf("bob sees %d messages (%v), want 3", len(ms), err)
	}
	alice.Post(room, "after")
	Await(t, 30*time.Second, func() (bool, string) {
		ms, err := b.Messages(t.Context(), "bob", room, node.Page{})
		ms = slices.DeleteFunc(ms, func(m *node.Message) bool { return m.Notice != "" })
		return err == nil && len(ms) == 4 && ms[3].Body == "after", fmt.Sprintf("bob sees %d messages (%v)", len(ms), err)
	})
	awaitSame(t, 30*time.Second, room, alice, bob)
}

// TestPartitionRemovalWins: during a partition alice (on a) removes bob,
// b's only member, while bob demotes carol (on a) and posts. After
// relinking, a serves b the room up to bob's removal, and pulls back bob's
// events: his demotion of carol is void (revocation wins) and his post is
// stored but hidden (soft-failed). Both nodes end with the same members;
// b hosts no member and shows the room to no one.
func TestPartitionRemovalWins(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	a.User("carol")
	b.User("bob")
	alice, carol, bob := a.As("alice"), a.As("carol"), b.As("bob")
	room := alice.CreateRoom("Deal", carol.ID())
	alice.AddMember(room, bob.ID(), protocol.RoleAdmin)
	bob.AwaitMembers(room, alice.ID(), carol.ID(), bob.ID())
	alice.AwaitMembers(room, alice.ID(), carol.ID(), bob.ID())

	c.Unlink(a, b)
	alice.RemoveMember(room, bob.ID())
	alice.Post(room, "bob is gone")
	bob.SetRole(room, carol.ID(), protocol.RoleReadonly)
	hidden := bob.Post(room, "carol is readonly now")
	c.Link(a, b)

	want := fmt.Sprint([]string{string(alice.ID()) + ":admin", string(carol.ID()) + ":member"})
	awaitMembers(t, room, want, a, b)
	Await(t, 30*time.Second, func() (bool, string) {
		return holds(a, hidden), "a has not pulled back bob's post"
	})
	carol.AwaitMessages(room, "bob is gone")
	if ms := alice.AwaitMessages(room, "bob is gone"); len(ms) != 1 {
		t.Fatalf("alice sees %d messages", len(ms))
	}
	if listed(t, b, "bob", room) {
		t.Error("bob's room list still has the room")
	}
	if _, err := b.Messages(t.Context(), "bob", room, node.Page{}); err == nil {
		t.Error("b still shows bob the room's messages")
	}
}

// TestVoidRemovalNoNotice: during a partition alice (on a) demotes bob
// (on b), an admin, while bob removes carol (on a). Once linked again,
// alice's demotion stands (she is senior) and voids bob's concurrent
// removal: carol stays. No node's timeline may say bob removed her: the
// notice of a control event that does not take effect is not shown.
func TestVoidRemovalNoNotice(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	a.User("carol")
	b.User("bob")
	alice, carol, bob := a.As("alice"), a.As("carol"), b.As("bob")
	room := alice.CreateRoom("Deal", carol.ID())
	alice.AddMember(room, bob.ID(), protocol.RoleAdmin)
	bob.AwaitMembers(room, alice.ID(), carol.ID(), bob.ID())

	c.Unlink(a, b)
	alice.SetRole(room, bob.ID(), protocol.RoleMember)
	bob.RemoveMember(room, carol.ID())
	bob.Post(room, "carol is out")
	c.Link(a, b)

	want := fmt.Sprint([]string{string(alice.ID()) + ":admin", string(bob.ID()) + ":member", string(carol.ID()) + ":member"})
	awaitMembers(t, room, want, a, b)
	for _, u := range []*Actor{alice, bob} {
		u.AwaitMessageSet(room, "carol is out")
		ms, err := u.Node().Messages(t.Context(), u.Handle, room, node.Page{Limit: node.MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Notice == node.NoticeMemberRemoved {
				t.Errorf("%s's timeline says %q, though the removal is void", u, m.Body)
			}
		}
	}
}

// TestVoidAddIsLearned: a partition keeps a (alice, the creator) and c
// (carol) apart from b (bob, admin) and d (dave). Alice demotes bob while
// bob adds dave. Carol's node receives the demotion first, so it does not
// settle bob's add without it (finality), and the demotion, which stands
// (alice is senior), voids the concurrent add: dave was never a member.
// Once the sides are linked again every node agrees, d included: sync
// serves a node whose account was added by a void add the revocations
// that void it, so dave's room list no longer has the room. Before, d
// believed dave a member forever, and no node would tell it otherwise.
func TestVoidAddIsLearned(t *testing.T) {
	c := NewCluster(t, 4, Options{})
	a, b, cn, d := c.Nodes[0], c.Nodes[1], c.Nodes[2], c.Nodes[3]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	d.User("dave")
	alice, bob, carol, dave := a.As("alice"), b.As("bob"), cn.As("carol"), d.As("dave")
	room := alice.CreateRoom("Deal", carol.ID())
	alice.AddMember(room, bob.ID(), protocol.RoleAdmin)
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())

	for _, x := range []*Node{a, cn} {
		for _, y := range []*Node{b, d} {
			c.Unlink(x, y)
		}
	}
	alice.SetRole(room, bob.ID(), protocol.RoleMember)
	carol.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	Await(t, 30*time.Second, func() (bool, string) {
		r := carol.Room(room)
		for _, m := range r.Members {
			if m.Account == bob.ID() {
				return m.Role == protocol.RoleMember, fmt.Sprintf("carol sees bob as %s", m.Role)
			}
		}
		return false, "carol does not see bob"
	})
	bob.AddMember(room, dave.ID(), protocol.RoleMember)
	dave.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID(), dave.ID())

	for _, x := range []*Node{a, cn} {
		for _, y := range []*Node{b, d} {
			c.Link(x, y)
		}
	}
	want := fmt.Sprint([]string{string(alice.ID()) + ":admin", string(bob.ID()) + ":member", string(carol.ID()) + ":member"})
	awaitMembers(t, room, want, a, b, cn, d)
	Await(t, 30*time.Second, func() (bool, string) {
		return !listed(t, d, "dave", room), "dave's room list still has the room"
	})
}

// TestProfileSettlesNothing: a hosts alice (the creator), b bob, c
// carol. While a is cut off from b and c, bob's node publishes his new
// organization, which carol's node acknowledges (carol posts after it),
// and alice removes bob. Once linked again every node agrees that bob is
// removed: his profile needs no admin rights, so its acknowledgement does
// not make the removal reach back too far (finality, room version 4).
// Before, the removal was void on every node, and a hostile node could
// keep its account in a room by publishing profiles.
func TestProfileSettlesNothing(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal", bob.ID(), carol.ID())
	for _, x := range []*Actor{alice, bob, carol} {
		x.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	}
	org := func(ac *Actor, of protocol.AccountID) string {
		for _, m := range ac.Room(room).Members {
			if m.Account == of {
				return m.Org
			}
		}
		return ""
	}

	c.Unlink(a, b)
	c.Unlink(a, cn)
	if err := b.RenameOrg(t.Context(), "Bob's new company"); err != nil {
		t.Fatal(err)
	}
	Await(t, 30*time.Second, func() (bool, string) {
		o := org(carol, bob.ID())
		return o == "Bob's new company", fmt.Sprintf("carol sees bob's organization as %q", o)
	})
	carol.Post(room, "bob moved")
	alice.RemoveMember(room, bob.ID())
	c.Link(a, b)
	c.Link(a, cn)

	want := fmt.Sprint([]string{string(alice.ID()) + ":admin", string(carol.ID()) + ":member"})
	awaitMembers(t, room, want, a, b, cn)
	Await(t, 30*time.Second, func() (bool, string) {
		return !listed(t, b, "bob", room), "bob's room list still has the room"
	})
}

// TestRemovedWhileDown: a, b and c share a room; b is down while alice
// removes bob, b's only member, and posts. When b starts again it learns
// of its removal from a or c, which serve it the room up to the removal
// (before issue 13 they refused it, and bob stayed a member forever), and
// shows bob the room no more.
func TestRemovedWhileDown(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cc.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cc.As("carol")
	room := alice.CreateRoom("Deal", bob.ID(), carol.ID())
	for _, x := range []*Actor{alice, bob, carol} {
		x.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	}

	b.Stop()
	alice.RemoveMember(room, bob.ID())
	after := alice.Post(room, "after bob left")
	carol.AwaitMessages(room, "after bob left")
	b.Start()
	Await(t, 30*time.Second, func() (bool, string) {
		return !listed(t, b, "bob", room), "bob's room list still has the room"
	})
	if holds(b, after) {
		t.Error("b holds alice's post made after its removal")
	}
	if _, err := b.Post(t.Context(), "bob", room, "still here?"); err == nil {
		t.Error("bob posted in a room he was removed from")
	}
}

// TestAddedBackAfterRemovedWhileDown: b is down while alice removes bob;
// when b starts, bob (not knowing yet) posts, then b learns of the
// removal. alice adds bob back: b, which hosts no member of the room any
// more and so neither names it in sync rounds nor listens on its topic,
// must still learn of the add and catch up, and bob's posts must reach
// alice again.
func TestAddedBackAfterRemovedWhileDown(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitMembers(room, alice.ID(), bob.ID())

	c.Unlink(a, b)
	b.Stop()
	alice.RemoveMember(room, bob.ID())
	alice.Post(room, "while bob was out")
	b.Start()
	if _, err := b.Post(t.Context(), "bob", room, "unaware"); err != nil {
		t.Fatalf("bob posts before b learns of his removal: %v", err)
	}
	c.Link(a, b)
	Await(t, 30*time.Second, func() (bool, string) {
		return !listed(t, b, "bob", room), "bob's room list still has the room"
	})

	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	bob.AwaitMembers(room, alice.ID(), bob.ID())
	alice.Post(room, "welcome back")
	awaitBody(bob, room, "welcome back")
	bob.Post(room, "thanks")
	awaitBody(alice, room, "thanks")
}

// awaitBody waits until ac sees a message with body in room.
func awaitBody(ac *Actor, room protocol.RoomID, body string) {
	ac.t.Helper()
	ac.await(func() (bool, string) {
		ms, err := ac.nd.Messages(ac.t.Context(), ac.Handle, room, node.Page{Limit: node.MaxPage})
		if err != nil {
			return false, fmt.Sprintf("cannot read room %s: %v", room, err)
		}
		return slices.ContainsFunc(ms, func(m *node.Message) bool { return m.Body == body }),
			fmt.Sprintf("does not see %q in room %s", body, room)
	})
}
