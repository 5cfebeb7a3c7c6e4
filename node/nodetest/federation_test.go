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

// state renders what every member node must agree on about a room.
func state(t testing.TB, nd *Node, as protocol.Handle, room protocol.RoomID) string {
	t.Helper()
	ctx := context.Background()
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

// awaitSame waits until every (node, account) view of room is identical.
func awaitSame(t testing.TB, timeout time.Duration, room protocol.RoomID, views map[*Node]protocol.Handle) {
	t.Helper()
	Await(t, timeout, func() (bool, string) {
		var first string
		var firstNode *Node
		for nd, as := range views {
			s := state(t, nd, as, room)
			if firstNode == nil {
				first, firstNode = s, nd
				continue
			}
			if s != first {
				return false, fmt.Sprintf("node %s:\n%.2000s\n--- node %s:\n%.2000s", firstNode.Name, first, nd.Name, s)
			}
		}
		return true, ""
	})
}

func TestThreeOrganizations(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	ctx := t.Context()
	a.User("alice")
	bob := b.User("bob")
	carol := cc.User("carol")

	ab, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "A × B", Members: []node.MemberSpec{{Account: bob}}})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "A × C", Members: []node.MemberSpec{{Account: carol}}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.Post(ctx, "alice", ab.ID, "hello B")
	if err != nil {
		t.Fatal(err)
	}
	Await(t, 20*time.Second, func() (bool, string) {
		ms, err := b.Messages(ctx, "bob", ab.ID, node.Page{})
		return err == nil && len(ms) == 1, fmt.Sprint("bob sees ", len(ms), " messages, err ", err)
	})
	// Both sides work: posts, an edit, a delete, a task and its completion.
	for i := range 10 {
		if _, err := a.Post(ctx, "alice", ab.ID, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Post(ctx, "bob", ab.ID, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.EditMessage(ctx, "alice", first.ID, "hello B, edited"); err != nil {
		t.Fatal(err)
	}
	reply, err := b.Post(ctx, "bob", ab.ID, "to be deleted")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteMessage(ctx, "bob", reply.ID); err != nil {
		t.Fatal(err)
	}
	task, err := b.CreateTask(ctx, "bob", ab.ID, node.NewTask{Body: "sign", Assignees: []protocol.AccountID{protocol.NewAccountID(a.ID(), "alice")}})
	if err != nil {
		t.Fatal(err)
	}
	Await(t, 20*time.Second, func() (bool, string) {
		_, err := a.Task(ctx, "alice", task.ID)
		return err == nil, fmt.Sprint("task on a: ", err)
	})
	done := protocol.TaskDone
	if _, err := a.UpdateTask(ctx, "alice", task.ID, node.TaskChange{Status: &done}); err != nil {
		t.Fatal(err)
	}
	Await(t, 20*time.Second, func() (bool, string) {
		_, err := cc.Room(ctx, "carol", ac.ID)
		return err == nil, fmt.Sprint("A × C on c: ", err)
	})
	if _, err := cc.Post(ctx, "carol", ac.ID, "hi from C"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Post(ctx, "alice", ac.ID, "welcome, C"); err != nil {
		t.Fatal(err)
	}
	awaitSame(t, 30*time.Second, ab.ID, map[*Node]protocol.Handle{a: "alice", b: "bob"})
	awaitSame(t, 30*time.Second, ac.ID, map[*Node]protocol.Handle{a: "alice", cc: "carol"})

	// C received nothing of the A–B room: not by gossip, not by sync.
	if rs := cc.Status(t).Network.Rooms[ab.ID]; rs.Received != 0 || rs.Validated != 0 || rs.Accepted != 0 {
		t.Errorf("c's pubsub delivered A–B room traffic: %+v", rs)
	}
	if _, err := cc.Room(ctx, "carol", ab.ID); err == nil {
		t.Error("c holds the A–B room")
	}
	// …while its pubsub does carry the room it shares (else the check
	// above would prove nothing).
	Await(t, 10*time.Second, func() (bool, string) {
		got := cc.Status(t).Network.Rooms[ac.ID]
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
	bob := b.User("bob")
	carol := cc.User("carol")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "A × B × C",
		Members: []node.MemberSpec{{Account: bob}, {Account: carol}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Post(ctx, "alice", room.ID, "before"); err != nil {
		t.Fatal(err)
	}
	views := map[*Node]protocol.Handle{a: "alice", b: "bob", cc: "carol"}
	awaitSame(t, 30*time.Second, room.ID, views)
	// Every node has told the room its members' names, so that nothing
	// but the removal is still to be gossiped on the room's topic. Sync
	// repairs lost gossip, as periodic sync would.
	Await(t, 20*time.Second, func() (bool, string) {
		for nd, as := range views {
			r, err := nd.Room(ctx, as, room.ID)
			if err != nil {
				return false, err.Error()
			}
			for _, m := range r.Members {
				if m.Name == "" || m.Org == "" {
					for _, from := range c.Nodes {
						if from != nd {
							nd.SyncRoomForTest(ctx, from.ID(), room.ID)
						}
					}
					return false, fmt.Sprintf("%s does not know the name of %s", nd.Name, m.Account)
				}
			}
		}
		return true, ""
	})
	before := b.Status(t).Network.Rooms[room.ID]

	b.Deafen()
	if err := a.RemoveMember(ctx, "alice", room.ID, bob); err != nil {
		t.Fatal(err)
	}
	var posts []protocol.EventID
	for i := range 20 {
		m, err := a.Post(ctx, "alice", room.ID, fmt.Sprint("after ", i))
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, m.ID)
	}
	delete(views, b)
	awaitSame(t, 30*time.Second, room.ID, views)
	for _, from := range []*Node{a, cc} {
		if err := b.SyncRoomForTest(ctx, from.ID(), room.ID); !errors.Is(err, p2p.ErrRefused) {
			t.Errorf("b's sync of the room with %s: %v, want p2p.ErrRefused", from.Name, err)
		}
	}

	// B's pubsub let through one message of the room since, the
	// removal, and no other (pubsub validates each message once).
	after := b.Status(t).Network.Rooms[room.ID]
	t.Logf("b's room gossip since the removal: %d received, %d validated", after.Received-before.Received, after.Validated-before.Validated)
	if got := after.Validated - before.Validated; got > 1 {
		t.Errorf("b's pubsub delivered %d messages of the room after the removal, want at most the removal", got)
	}
	if _, err := b.Room(ctx, "bob", room.ID); err != nil {
		// It can, by a sync that raced the removal.
		t.Logf("b learned of its removal: %v", err)
	}
	held := map[protocol.EventID]bool{}
	err = b.FederationForTest().Missing(ctx, room.ID, nil, func(w []byte) error {
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
	ctx := t.Context()
	a.User("alice")
	bob := b.User("bob")
	if err := a.RequestContact(ctx, "alice", bob, "Hello from Org A"); err != nil {
		t.Fatal(err)
	}
	var reqs []*node.ContactRequest
	Await(t, 20*time.Second, func() (bool, string) {
		var err error
		reqs, err = b.IncomingRequests(ctx, "bob")
		return err == nil && len(reqs) == 1 && reqs[0].Message != "", fmt.Sprintf("bob's requests %+v, %v", reqs, err)
	})
	if reqs[0].Message != "Hello from Org A" || reqs[0].From.Node() != a.ID() {
		t.Fatalf("request = %+v", reqs[0])
	}
	if cs, _ := b.Contacts(ctx, "bob"); len(cs) != 0 {
		t.Fatalf("bob lists %+v as contacts before answering", cs)
	}
	contact, err := b.AcceptRequest(ctx, "bob", reqs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Post(ctx, "bob", contact.Room, "Nice to meet you"); err != nil {
		t.Fatal(err)
	}
	if rs, _ := b.IncomingRequests(ctx, "bob"); len(rs) != 0 {
		t.Fatalf("request still listed after accepting: %+v", rs)
	}
	Await(t, 20*time.Second, func() (bool, string) {
		ms, err := a.Messages(ctx, "alice", contact.Room, node.Page{})
		return err == nil && len(ms) == 2, fmt.Sprint("alice sees ", len(ms), " messages in the direct chat")
	})
	if _, err := b.AcceptRequest(ctx, "bob", reqs[0].ID); err == nil {
		t.Fatal("accepted the same request twice")
	}
}
