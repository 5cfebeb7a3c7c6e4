package nodetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// state renders what every member node must agree on about a room, as ac
// sees it.
func state(ac *Actor, room protocol.RoomID) string {
	ctx := context.Background()
	nd, as := ac.Node(), ac.Handle
	r, err := nd.Room(ctx, as, room)
	if err != nil {
		return "error: " + err.Error()
	}
	var members []string
	for _, m := range r.Members {
		members = append(members, fmt.Sprintf("%s:%s", m.Account, m.Role))
	}
	slices.Sort(members)
	s := fmt.Sprintf("%q %v", r.Name, members)
	ms, err := nd.Messages(ctx, as, room, node.Page{Limit: node.MaxPage})
	if err != nil {
		return "error: " + err.Error()
	}
	s += fmt.Sprintf(" %d messages", len(ms))
	for _, m := range ms {
		s += fmt.Sprintf("\n%s %s %q %d %v", m.ID, m.Author, m.Body, m.EditedAt, m.Deleted)
	}
	ts, err := nd.Tasks(ctx, as, room, node.TaskFilter{})
	if err != nil {
		return "error: " + err.Error()
	}
	for _, tk := range ts {
		s += fmt.Sprintf("\ntask %s %q %s %v", tk.ID, tk.Body, tk.Status, tk.Assignees)
	}
	return s
}

// awaitSame waits until every view of room is identical.
func awaitSame(t testing.TB, timeout time.Duration, room protocol.RoomID, views ...*Actor) {
	t.Helper()
	Await(t, timeout, func() (bool, string) {
		first := state(views[0], room)
		for _, v := range views[1:] {
			if s := state(v, room); s != first {
				return false, fmt.Sprintf("%s sees:\n%.2000s\n--- %s sees:\n%.2000s", views[0], first, v, s)
			}
		}
		return true, ""
	})
}

func TestThreeOrganizations(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cc.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cc.As("carol")

	ab := alice.CreateRoom("A × B", bob.ID())
	ac := alice.CreateRoom("A × C", carol.ID())
	first := alice.Post(ab, "hello B")
	bob.AwaitMessages(ab, "hello B")
	// Both sides work: posts, an edit, a delete, a task and its completion.
	for i := range 10 {
		alice.Post(ab, fmt.Sprint("a", i))
		bob.Post(ab, fmt.Sprint("b", i))
	}
	alice.Edit(first, "hello B, edited")
	reply := bob.Post(ab, "to be deleted")
	bob.Delete(reply)
	task := bob.CreateTask(ab, "sign", alice.ID())
	alice.AwaitTask(task)
	alice.CompleteTask(task)
	carol.AwaitRoom(ac)
	carol.Post(ac, "hi from C")
	alice.Post(ac, "welcome, C")
	awaitSame(t, 30*time.Second, ab, alice, bob)
	awaitSame(t, 30*time.Second, ac, alice, carol)

	// C received nothing of the A–B room: not by gossip, not by sync.
	if rs := cc.Status(t).Network.Rooms[ab]; rs.Received != 0 || rs.Validated != 0 || rs.Accepted != 0 {
		t.Errorf("c's pubsub delivered A–B room traffic: %+v", rs)
	}
	if _, err := cc.Room(t.Context(), "carol", ab); err == nil {
		t.Error("c holds the A–B room")
	}
	// …while its pubsub does carry the room it shares (else the check
	// above would prove nothing).
	Await(t, 10*time.Second, func() (bool, string) {
		got := cc.Status(t).Network.Rooms[ac]
		return got.Received > 0, fmt.Sprintf("c's pubsub delivered no A–C gossip: %+v", got)
	})
}

// Status returns the node's status.
func (nd *Node) Status(t testing.TB) *node.Status {
	t.Helper()
	st, err := nd.Node.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRemovedOrganizationStopsReceiving: A, B and C share a room; A
// removes B's only member. B loses all gossip from then on, so it does not
// learn of its removal by gossip and stays subscribed to the room's topic
// (periodic sync is off, and the test makes B's sync rounds itself): B's
// pubsub delivers none of the room's new events, B's sync is refused, and
// B stores none of them, while C gets them all.
func TestRemovedOrganizationStopsReceiving(t *testing.T) {
	c := NewCluster(t, 3, Options{SyncInterval: time.Hour})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	ctx := t.Context()
	a.User("alice")
	b.User("bob")
	cc.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cc.As("carol")
	room := alice.CreateRoom("A × B × C", bob.ID(), carol.ID())
	alice.Post(room, "before")
	awaitSame(t, 30*time.Second, room, alice, bob, carol)
	// Every node has told the room its members' names, so that nothing
	// but the removal is still to be gossiped on the room's topic. Sync
	// repairs lost gossip, as periodic sync would.
	everyone := []protocol.AccountID{alice.ID(), bob.ID(), carol.ID()}
	Await(t, 20*time.Second, func() (bool, string) {
		for _, x := range []*Actor{alice, bob, carol} {
			if _, ok, why := x.hasMembers(room, everyone); !ok {
				for _, from := range c.Nodes {
					if from != x.Node() {
						x.Node().SyncRoomForTest(ctx, from.ID(), room)
					}
				}
				return false, fmt.Sprintf("%s %s", x, why)
			}
		}
		return true, ""
	})
	before := b.Status(t).Network.Rooms[room]

	b.Deafen()
	alice.RemoveMember(room, bob.ID())
	var posts []protocol.EventID
	for i := range 20 {
		posts = append(posts, alice.Post(room, fmt.Sprint("after ", i)))
	}
	awaitSame(t, 30*time.Second, room, alice, carol)
	for _, from := range []*Node{a, cc} {
		if err := b.SyncRoomForTest(ctx, from.ID(), room); !errors.Is(err, p2p.ErrRefused) {
			t.Errorf("b's sync of the room with %s: %v, want p2p.ErrRefused", from.Name, err)
		}
	}

	// B's pubsub let through the removal and none of the 20 posts after
	// it (pubsub validates each message once). Gossip of events from
	// before the removal can still be on its way when the count starts
	// (a node.ack made up to 2 s after the names arrived, a copy of what
	// sync repaired): under load a few such messages were counted, so the
	// count may pass the removal by a few, but not by the posts.
	after := b.Status(t).Network.Rooms[room]
	t.Logf("b's room gossip since the removal: %d received, %d validated", after.Received-before.Received, after.Validated-before.Validated)
	if got := after.Validated - before.Validated; got > 1+uint64(len(posts))/4 {
		t.Errorf("b's pubsub delivered %d messages of the room after the removal, want the removal and none of the %d posts after it", got, len(posts))
	}
	if _, err := b.Room(ctx, "bob", room); err != nil {
		// It can, by a sync that raced the removal.
		t.Logf("b learned of its removal: %v", err)
	}
	held := map[protocol.EventID]bool{}
	err := b.FederationForTest().Missing(ctx, b.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		e, err := protocol.DecodeStored(w)
		if err == nil {
			held[e.ID] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range posts {
		if held[id] {
			t.Errorf("b holds %s, posted after its removal", id)
		}
	}
}

// TestContactsAcrossNodes sends a contact request to an account on a
// partner's node, which accepts it there.
func TestContactsAcrossNodes(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")

	alice.RequestContact(bob.ID(), "Hello from Org A")
	req := bob.AwaitRequest(alice.ID(), "Hello from Org A")
	if rs := bob.Requests(); len(rs) != 1 {
		t.Fatalf("bob's requests = %+v, want only alice's", rs)
	}
	if cs := bob.Contacts(); len(cs) != 0 {
		t.Fatalf("bob lists %+v as contacts before answering", cs)
	}
	contact := bob.AcceptRequest(req.ID)
	bob.Post(contact.Room, "Nice to meet you")
	if rs := bob.Requests(); len(rs) != 0 {
		t.Fatalf("request still listed after accepting: %+v", rs)
	}
	alice.AwaitMessages(contact.Room, "Hello from Org A", "Nice to meet you")
	if _, err := b.AcceptRequest(t.Context(), "bob", req.ID); err == nil {
		t.Fatal("accepted the same request twice")
	}
}
