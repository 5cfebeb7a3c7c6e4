package node

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

func TestChangeFeed(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	for _, h := range []protocol.Handle{"alice", "bob", "carol"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	bob := protocol.NewAccountID(n.ID(), "bob")
	start := n.LastChange()

	// A waiter wakes when a change commits.
	woke := make(chan error, 1)
	go func() { woke <- n.WaitChange(ctx, start) }()
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Plans", Members: []MemberSpec{{Account: bob}}}))
	if err := <-woke; err != nil {
		t.Fatalf("WaitChange: %v", err)
	}
	m := must[*Message](t)(n.Post(ctx, "alice", room.ID, "hello"))
	if err := n.EditMessage(ctx, "alice", m.ID, "hello!"); err != nil {
		t.Fatal(err)
	}
	task := must[*Task](t)(n.CreateTask(ctx, "alice", room.ID, NewTask{Body: "review", Assignees: []protocol.AccountID{bob}}))
	if _, _, err := n.MarkRead(ctx, "bob", room.ID, protocol.EventID{}); err != nil {
		t.Fatal(err)
	}
	if err := n.RemoveMember(ctx, "alice", room.ID, bob); err != nil {
		t.Fatal(err)
	}

	kinds := func(cs []Change) []ChangeKind {
		var ks []ChangeKind
		for _, c := range cs {
			ks = append(ks, c.Kind)
		}
		return ks
	}
	alice := must[[]Change](t)(n.Changes(ctx, "alice", start, 0))
	// The task and the removal make system messages: each has a notice
	// change naming its event, right after its own change.
	want := []ChangeKind{ChangeRoom, ChangeMessage, ChangeMessageUpdated, ChangeTask, ChangeNotice, ChangeMembers, ChangeNotice}
	if got := kinds(alice); !slices.Equal(got, want) {
		t.Fatalf("alice's changes %v, want %v (no one else's read marker)", got, want)
	}
	if alice[2].Event != m.ID || alice[3].Event != task.ID || alice[4].Event != task.ID || alice[5].Account != bob ||
		alice[6].Event == (protocol.EventID{}) {
		t.Errorf("changes name the wrong things: %+v", alice)
	}
	if nm := must[*Message](t)(n.Message(ctx, "alice", alice[6].Event)); nm.Notice != NoticeMemberRemoved {
		t.Errorf("the removal's notice change names %+v", nm)
	}
	// The new message's change records its depth, so the search indexer
	// and webhooks read its timeline record at once (ChangedMessage).
	if err := n.store.View(func(tx *storage.Tx) error {
		e, err := tx.Event(m.ID)
		if err != nil {
			return err
		}
		return tx.Changes(alice[1].Seq-1, func(_ uint64, c *storage.Change) bool {
			if c.Event != m.ID || c.Depth == 0 || c.Depth != e.Depth {
				t.Errorf("the new message's stored change %+v, want depth %d", c, e.Depth)
			}
			return false
		})
	}); err != nil {
		t.Fatal(err)
	}
	// Bob, removed, no longer sees the room's changes, but sees his own
	// read marker and his removal.
	if got := kinds(must[[]Change](t)(n.Changes(ctx, "bob", start, 0))); !slices.Equal(got, []ChangeKind{ChangeRead, ChangeMembers}) {
		t.Errorf("bob's changes %v, want read, members", got)
	}
	if got := must[[]Change](t)(n.Changes(ctx, "carol", start, 0)); len(got) != 0 {
		t.Errorf("carol, never a member, sees %v", got)
	}
	// Resuming from a sequence number returns only what came after it, and
	// the numbering survives a restart.
	if got := must[[]Change](t)(n.Changes(ctx, "alice", alice[2].Seq, 1)); len(got) != 1 || got[0].Seq != alice[3].Seq {
		t.Errorf("resume after %d = %+v, want seq %d", alice[2].Seq, got, alice[3].Seq)
	}
	last := n.LastChange()
	n.Close()
	n = newTestNode(t, dir)
	if n.LastChange() != last {
		t.Errorf("LastChange after restart = %d, want %d", n.LastChange(), last)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := n.WaitChange(ctx2, last); err == nil {
		t.Error("WaitChange with nothing new returned without its context ending")
	}
}

func TestFetchMessages(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob"}))
	bot1 := must[string](t)(n.CreateToken(ctx, "bob", "bot 1"))
	bot2 := must[string](t)(n.CreateToken(ctx, "bob", "bot 2"))
	alice := must[string](t)(n.CreateToken(ctx, "alice", "alice"))
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Plans",
		Members: []MemberSpec{{Account: protocol.NewAccountID(n.ID(), "bob")}}}))
	for i := range 105 {
		must[*Message](t)(n.Post(ctx, "alice", room.ID, string(rune('a'+i%26))))
	}
	first := must[[]*Message](t)(n.FetchMessages(ctx, "bob", bot1, room.ID))
	if len(first) != 100 {
		t.Fatalf("first fetch: %d messages, want the newest 100", len(first))
	}
	if got := must[[]*Message](t)(n.FetchMessages(ctx, "bob", bot1, room.ID)); len(got) != 0 {
		t.Fatalf("second fetch with nothing new: %d messages", len(got))
	}
	m := must[*Message](t)(n.Post(ctx, "alice", room.ID, "new"))
	got := must[[]*Message](t)(n.FetchMessages(ctx, "bob", bot1, room.ID))
	if len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("fetch after a post = %v, want just it", got)
	}
	// Each token has its own cursor, also two of one account.
	if got := must[[]*Message](t)(n.FetchMessages(ctx, "bob", bot2, room.ID)); len(got) != 100 || got[99].ID != m.ID {
		t.Fatalf("bob's second token's first fetch: %d messages", len(got))
	}
	if got := must[[]*Message](t)(n.FetchMessages(ctx, "alice", alice, room.ID)); len(got) != 100 || got[99].ID != m.ID {
		t.Fatalf("alice's first fetch: %d messages", len(got))
	}
	if _, err := n.FetchMessages(ctx, "bob", alice, room.ID); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("fetch with another account's token: %v, want ErrUnauthorized", err)
	}
	// A revoked token's cursors go with it.
	if err := n.RevokeToken(ctx, bot1); err != nil {
		t.Fatal(err)
	}
	if _, err := n.FetchMessages(ctx, "bob", bot1, room.ID); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("fetch with a revoked token: %v, want ErrUnauthorized", err)
	}
}
