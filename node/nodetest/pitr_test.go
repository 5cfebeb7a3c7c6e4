package nodetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// afterBackup waits until nd's continuous backups hold everything done so
// far, and then until a second has passed since, so that a restore to
// one second before the next action finds it all.
func afterBackup(t *testing.T, nd *Node) {
	t.Helper()
	last := nd.AwaitBackup(time.Now())
	Await(t, 5*time.Second, func() (bool, string) {
		return time.Since(last) > time.Second, "the clock has not passed the backup by a second"
	})
}

// TestRestoreAtBringsBackDeletedRoom: alice deletes a room by mistake at
// T; the node restored to T−1s has the room, its members and messages,
// and a restore to after T does not: the backup holds the deletion too.
func TestRestoreAtBringsBackDeletedRoom(t *testing.T) {
	c := NewCluster(t, 1, Options{Backup: true})
	a := c.Nodes[0]
	a.User("alice")
	a.User("carol")
	alice, carol := a.As("alice"), a.As("carol")
	room := alice.CreateRoom("Plans", carol.ID())
	alice.Post(room, "one")
	carol.Post(room, "two")
	afterBackup(t, a)

	mistake := time.Now()
	if err := a.DeleteRoom(t.Context(), "alice", room); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Room(t.Context(), "carol", room); err == nil {
		t.Fatal("carol still sees the deleted room")
	}
	a.AwaitBackup(time.Now())

	p := a.RestoreAt(mistake.Add(-time.Second))
	if p.Time.After(mistake.Add(-time.Second)) {
		t.Errorf("restored to %s, after the moment asked for", p.Time)
	}
	a.Start()
	carol.AwaitMembers(room, alice.ID(), carol.ID())
	alice.AwaitMessages(room, "one", "two")
	carol.AwaitMessages(room, "one", "two")
	// Rooms of one node alone are not held up after a restore.
	alice.Post(room, "recovered")

	a.Stop()
	after := a.RestoreAt(time.Now())
	if after.Version <= p.Version {
		t.Errorf("restore to now reached version %d, not after %d", after.Version, p.Version)
	}
	a.Start()
	if r, err := a.Room(t.Context(), "carol", room); err != nil {
		t.Fatalf("restored to now, carol cannot see the room posted in after the first restore: %v", err)
	} else if r.Messages == 0 {
		t.Fatal("restored to now: no messages")
	}
	alice.AwaitMessages(room, "one", "two", "recovered")
}

// TestRestoreAtLearnsRemovalFromPartners: alice (on a) removes dave (on
// b) from a room shared with b at T. a, restored to T−1s, holds the room
// with dave still in it; running again, it learns of its own removal of
// dave from b before it changes the room (the restored-node guard), so
// its chain continues after the removal: no fork, no equivocation, and
// posts flow both ways.
func TestRestoreAtLearnsRemovalFromPartners(t *testing.T) {
	c := NewCluster(t, 2, Options{Backup: true})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	b.User("dave")
	alice, bob, dave := a.As("alice"), b.As("bob"), b.As("dave")
	room := alice.CreateRoom("Deal", bob.ID(), dave.ID())
	bob.AwaitMembers(room, alice.ID(), bob.ID(), dave.ID())
	alice.Post(room, "before")
	bob.AwaitMessages(room, "before")
	afterBackup(t, a)

	removal := time.Now()
	alice.RemoveMember(room, dave.ID())
	bob.AwaitMembers(room, alice.ID(), bob.ID())

	a.RestoreAt(removal.Add(-time.Second))
	a.Offline(func(n *node.Node) {
		r, err := n.Room(t.Context(), "alice", room)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(r.Members, func(m node.Member) bool { return m.Account == dave.ID() }) {
			t.Fatal("the restored node already knows dave was removed: the restore was not to before the removal")
		}
	})
	a.Start()
	alice.AwaitMembers(room, alice.ID(), bob.ID())
	Await(t, 30*time.Second, func() (bool, string) {
		_, err := a.Post(t.Context(), "alice", room, "after the restore")
		return err == nil, fmt.Sprintf("posting after the restore: %v", err)
	})
	bob.AwaitMessages(room, "before", "after the restore")
	bob.Post(room, "welcome back")
	alice.AwaitMessages(room, "before", "after the restore", "welcome back")
	if _, err := a.Post(t.Context(), "alice", room, "x"); errors.Is(err, node.ErrCatchingUp) {
		t.Fatal("still catching up after the room synced")
	}
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
