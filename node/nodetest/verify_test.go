package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestVerifyAndRepair: a node that lost the gossip of a post (and syncs
// only hourly) differs from its partner; verify names the difference on
// both sides, partner health shows the lag, and repair pulls what was
// missing.
func TestVerifyAndRepair(t *testing.T) {
	c := NewCluster(t, 2, Options{SyncInterval: time.Hour})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("A × B", bob.ID())
	alice.Post(room, "first")
	bob.AwaitMessages(room, "first")
	// Gossip alone carries events here, and the first of b's (its
	// profile, its acknowledgements) may go out before a's subscription
	// reaches b: sync both ways until the two agree.
	Await(t, 30*time.Second, func() (bool, string) {
		checks, err := a.VerifyRoom(t.Context(), room, "")
		if err == nil && len(checks) == 1 && checks[0].Result == node.CheckSame {
			return true, ""
		}
		a.SyncRoomForTest(t.Context(), b.ID(), room)
		b.SyncRoomForTest(t.Context(), a.ID(), room)
		return false, fmt.Sprintf("checks %+v, %v; want %s", checks, err, node.CheckSame)
	})
	// b's member profile names its organization in the room.
	Await(t, 30*time.Second, func() (bool, string) {
		hs, err := a.PartnerHealth(t.Context())
		return err == nil && len(hs) == 1 && hs[0].Org == "Org B", fmt.Sprintf("partner health %+v, %v", hs, err)
	})

	b.Deafen()
	// A pull already due may still bring b a's post: b pulls back, once,
	// a room a named in a sync request before b held it, and under load
	// that request is served late. Post again until b lacks a post.
	shown := []string{"first"}
	for attempt := 1; ; attempt++ {
		if attempt > 5 {
			t.Fatalf("b caught up on each of %d posts while deaf to gossip", attempt-1)
		}
		body := fmt.Sprint("lost in gossip ", attempt)
		alice.Post(room, body)
		shown = append(shown, body)
		checks := awaitCheck(t, a, room, node.CheckDiffer, node.CheckSame)
		if checks[0].Result == node.CheckSame {
			continue // pulled
		}
		if cmp := checks[0].Compared; len(cmp.Lacking) == 0 || len(cmp.Missing) != 0 {
			t.Fatalf("a's view: %+v; want b lacking a's heads", cmp)
		}
		checks, err := b.VerifyRoom(t.Context(), room, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(checks) == 1 && checks[0].Result == node.CheckSame {
			continue // pulled since
		}
		if len(checks) != 1 || checks[0].Result != node.CheckDiffer || len(checks[0].Compared.Missing) == 0 || checks[0].Hint == "" {
			t.Fatalf("b's view: %+v; want a's heads missing, with a hint", checks)
		}
		break
	}

	// a sees b behind in the room.
	hs, err := a.PartnerHealth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Org != "Org B" || hs[0].Rooms != 1 || hs[0].Unacked == 0 || len(hs[0].Behind) != 1 ||
		hs[0].Behind[0].Room != room || !hs[0].Connected || hs[0].Health.LastSeen.IsZero() {
		t.Fatalf("a's partner health: %+v", hs[0])
	}

	checks, err := b.RepairRoom(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].Result != node.CheckSame || checks[0].Repair != "" {
		t.Fatalf("after repair: %+v", checks)
	}
	bob.AwaitMessages(room, shown...)

	// A node that is not a partner is named as such.
	c.Unlink(a, b)
	checks, err = a.VerifyRoom(t.Context(), room, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].Result != node.CheckUnknown || checks[0].Problem == "" || checks[0].Hint == "" {
		t.Fatalf("verify with an unlinked node: %+v", checks)
	}
}

// awaitCheck waits until a's verify of room with its one other member
// node has one of the results want.
func awaitCheck(t *testing.T, a *Node, room protocol.RoomID, want ...string) []node.RoomCheck {
	t.Helper()
	var checks []node.RoomCheck
	Await(t, 30*time.Second, func() (bool, string) {
		var err error
		checks, err = a.VerifyRoom(t.Context(), room, "")
		if err != nil {
			return false, err.Error()
		}
		return len(checks) == 1 && slices.Contains(want, checks[0].Result), fmt.Sprintf("checks %+v, want %s", checks, want)
	})
	return checks
}

// TestRenameOrgReachesPartners: renaming an organization renames its
// accounts, and partners see the new name on its members.
func TestRenameOrgReachesPartners(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("A × B", bob.ID())
	bob.AwaitRoom(room)
	if err := a.RenameOrg(t.Context(), "Acme Corp"); err != nil {
		t.Fatal(err)
	}
	if a.Node.Org() != "Acme Corp" {
		t.Fatalf("org after rename: %q", a.Node.Org())
	}
	Await(t, 30*time.Second, func() (bool, string) {
		hs, err := b.PartnerHealth(t.Context())
		return err == nil && len(hs) == 1 && hs[0].Org == "Acme Corp", fmt.Sprintf("b's partner health %+v, %v", hs, err)
	})
	for _, m := range bob.AwaitMembers(room, alice.ID(), bob.ID()) {
		if m.Account == alice.ID() && m.Org != "Acme Corp" {
			t.Fatalf("alice's org as bob sees it: %q", m.Org)
		}
	}
}
