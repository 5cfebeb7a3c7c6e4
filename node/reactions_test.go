package node

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestReactRules: what a local account may react to, and that reacting
// twice or taking back a reaction not given publishes nothing.
func TestReactRules(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	for _, h := range []protocol.Handle{"alice", "bob", "carol"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	bob, carol := protocol.NewAccountID(n.ID(), "bob"), protocol.NewAccountID(n.ID(), "carol")
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Room", Members: []MemberSpec{{Account: bob, Role: protocol.RoleReadonly}}}))
	before := must[*Message](t)(n.Post(ctx, "alice", room.ID, "before carol"))
	gone := must[*Message](t)(n.Post(ctx, "alice", room.ID, "to be deleted"))
	if err := n.DeleteMessage(ctx, "alice", gone.ID); err != nil {
		t.Fatal(err)
	}
	joined := protocol.VisibilityJoined
	if err := n.SetHistory(ctx, "alice", room.ID, HistoryChange{Visibility: &joined}); err != nil {
		t.Fatal(err)
	}
	hidden := must[*Message](t)(n.Post(ctx, "alice", room.ID, "under joined, before carol"))
	if err := n.AddMember(ctx, "alice", room.ID, MemberSpec{Account: carol}); err != nil {
		t.Fatal(err)
	}

	// A read-only member reacts; twice is once.
	rs := must[[]Reaction](t)(n.React(ctx, "bob", before.ID, protocol.ReactionBow, false))
	if len(rs) != 1 || rs[0].Reaction != protocol.ReactionBow || len(rs[0].Accounts) != 1 || rs[0].Accounts[0] != bob {
		t.Fatalf("bob's reaction: %+v", rs)
	}
	last := n.LastChange()
	must[[]Reaction](t)(n.React(ctx, "bob", before.ID, protocol.ReactionBow, false))
	must[[]Reaction](t)(n.React(ctx, "carol", before.ID, protocol.ReactionBow, true))
	if n.LastChange() != last {
		t.Fatalf("a reaction given again or one never given taken back changed the feed: %d → %d", last, n.LastChange())
	}
	// Carol reads what was posted before the setting, not what was posted
	// under it before she joined.
	must[[]Reaction](t)(n.React(ctx, "carol", before.ID, protocol.ReactionYes, false))
	for _, c := range []struct {
		name string
		as   protocol.Handle
		id   protocol.EventID
		r    protocol.Reaction
		want error
	}{
		{"a message before she joined, under joined", "carol", hidden.ID, protocol.ReactionYes, ErrNotFound},
		{"a deleted message", "bob", gone.ID, protocol.ReactionYes, ErrInvalid},
		{"an unknown reaction", "bob", before.ID, "poop", ErrInvalid},
		{"an unknown message", "bob", protocol.EventID{9}, protocol.ReactionYes, ErrNotFound},
	} {
		if _, err := n.React(ctx, c.as, c.id, c.r, false); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := n.MessageReactions(ctx, "carol", hidden.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("carol reads the reactions of a message she may not read: %v", err)
	}
	rs = must[[]Reaction](t)(n.MessageReactions(ctx, "alice", before.ID))
	if len(rs) != 2 || rs[0].Reaction != protocol.ReactionBow || rs[1].Reaction != protocol.ReactionYes || rs[1].Accounts[0] != carol {
		t.Fatalf("reactions in ChatWork's order: %+v", rs)
	}
}
