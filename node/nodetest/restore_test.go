package nodetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestRestoredNodeCatchesUpBeforeControl: a is restored from a backup
// older than its own latest events in a version 2 room, which b holds.
// Until a has synced the room with b, it refuses its members' events
// there, which would fork its chain (and, for control events, void its
// control events in the room for good). Once linked and synced, a
// continues its chain after its lost events: no equivocation anywhere, and
// both nodes end with the same room.
func TestRestoredNodeCatchesUpBeforeControl(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	a.User("carol")
	a.User("dave")
	b.User("bob")
	alice, carol, dave, bob := a.As("alice"), a.As("carol"), a.As("dave"), b.As("bob")
	room := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitMembers(room, alice.ID(), bob.ID())

	backup := a.SaveBackup()
	// After the backup: a's events that only b will remember.
	alice.AddMember(room, carol.ID(), protocol.RoleMember)
	alice.Post(room, "after the backup")
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	bob.AwaitMessages(room, "after the backup")

	c.Unlink(a, b)
	a.Restore(backup)
	err := a.AddMember(t.Context(), "alice", room, node.MemberSpec{Account: dave.ID(), Role: protocol.RoleMember})
	if !errors.Is(err, node.ErrCatchingUp) {
		t.Fatalf("a control event before catching up: %v, want ErrCatchingUp", err)
	}
	if _, err := a.Post(t.Context(), "alice", room, "while catching up"); !errors.Is(err, node.ErrCatchingUp) {
		t.Fatalf("a post before catching up: %v, want ErrCatchingUp", err)
	}

	c.Link(a, b)
	Await(t, 30*time.Second, func() (bool, string) {
		err := a.AddMember(t.Context(), "alice", room, node.MemberSpec{Account: dave.ID(), Role: protocol.RoleMember})
		return err == nil, fmt.Sprintf("adding dave: %v", err)
	})
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID(), dave.ID())
	alice.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID(), dave.ID())
	awaitSame(t, 30*time.Second, room, alice, bob)
	for _, nd := range []*Node{a, b} {
		st, err := nd.Node.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Equivocations != 0 {
			t.Errorf("node %s holds %d equivocations after a's restore", nd.Name, st.Equivocations)
		}
	}
}
