package node

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestRemovalsCostTheSame takes a room's members out one at a time, as an
// admin emptying a room of thousands does: each removal asks which
// control events take effect (removalsOf), and only the first may resolve
// the room's control history for it; the others follow from the one
// before (protocol.AppliesAfter), also past the 64 snapshots the cache of
// applied sets holds before it starts afresh. Resolving at each removal cost
// seconds in a room of 4,750 members with 250 removals before. The removed
// stay removed, and the others members.
func TestRemovalsCostTheSame(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	specs, accounts := aliceAndMembers(t, n, 200)
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "All hands", Members: specs})).ID
	before := n.resolvedApplied.Load()
	for _, a := range accounts[:150] {
		if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.resolvedApplied.Load() - before; got > 1 {
		t.Errorf("150 removals resolved the room's control history %d times, want at most once", got)
	}
	got := roles(t, n, "alice", room)
	if len(got) != 51 {
		t.Errorf("%d members after 150 of 201 removed, want 51", len(got))
	}
	for i, a := range accounts {
		if _, in := got[a]; in != (i >= 150) {
			t.Errorf("member %d in the room: %v", i, in)
		}
	}
}

// TestRemovalsAfterRejoin takes a room's members out, adds them back and
// takes them out again, as a room emptied twice: each removal goes over
// its node's chain from the first removal of its account, past the
// thousands of events of the others, and reading each of those events for
// each removal took minutes for 5,000 members. Those positions are read
// from the store once (chainAuthors). A member's message posted while it
// was back stays shown: its removal saw it.
func TestRemovalsAfterRejoin(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	const members = 40
	specs, _ := aliceAndMembers(t, n, members)
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Twice emptied", Members: specs})).ID
	alice := map[protocol.AccountID]protocol.Role{protocol.NewAccountID(n.ID(), "alice"): protocol.RoleAdmin}
	if err := n.SetMembers(ctx, "alice", room, alice); err != nil {
		t.Fatal(err)
	}
	if err := n.AddMembers(ctx, "alice", room, specs); err != nil {
		t.Fatal(err)
	}
	post := must[*Message](t)(n.Post(ctx, "m007", room, "back again"))
	before := n.chainReads.Load()
	if err := n.SetMembers(ctx, "alice", room, alice); err != nil {
		t.Fatal(err)
	}
	// Each removal reads the positions after the one before it; without
	// chainAuthors, each read the positions of all removals since the
	// first round (members²).
	if got := n.chainReads.Load() - before; got > 4*members {
		t.Errorf("the second round of %d removals read %d chain positions, want at most %d", members, got, 4*members)
	}
	if got := roles(t, n, "alice", room); len(got) != 1 {
		t.Errorf("%d members after the second round, want alice alone", len(got))
	}
	msgs := must[[]*Message](t)(n.Messages(ctx, "alice", room, Page{}))
	if !slices.ContainsFunc(msgs, func(m *Message) bool { return m.ID == post.ID }) {
		t.Errorf("m007's message posted while back is not shown after its removal")
	}
}

// TestPartnerRemovalsWalkOnce takes out, one at a time, 40 accounts of a
// partner's node that has signed nothing in the room: each removal's
// index entry records the reach of that node's chain in its past, and
// finding there is none walked the room's whole history, for each
// removal. Only the first walks now; the others follow from it
// (chainReach).
func TestPartnerRemovalsWalkOnce(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	_, key, _ := ed25519.GenerateKey(nil)
	partner := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	var specs []MemberSpec
	for i := range 40 {
		specs = append(specs, MemberSpec{Account: protocol.NewAccountID(partner, protocol.Handle(fmt.Sprintf("x%02d", i)))})
	}
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "With a quiet partner", Members: specs})).ID
	for i := range 20 {
		must[*Message](t)(n.Post(ctx, "alice", room, fmt.Sprint("history ", i)))
	}
	before := n.reachWalks.Load()
	for _, m := range specs {
		if err := n.RemoveMember(ctx, "alice", room, m.Account); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.reachWalks.Load() - before; got > 1 {
		t.Errorf("40 removals walked the room's past %d times, want at most once", got)
	}
	if got := roles(t, n, "alice", room); len(got) != 1 {
		t.Errorf("%d members left, want alice alone", len(got))
	}
}

// TestAppliedAfterRestart takes members out of a room before and after a
// restart: the node stores which control events take effect in the
// room's current state, so no removal resolves the room's control history
// for them, not even the first after the restart (which took 44 s and
// half a gigabyte in a room of 45,000 control events).
func TestAppliedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	specs, accounts := aliceAndMembers(t, n, 40)
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "All hands"})).ID
	for _, s := range specs[:20] { // one at a time, then the rest at once
		if err := n.AddMembers(ctx, "alice", room, []MemberSpec{s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.AddMembers(ctx, "alice", room, specs[20:]); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts[:10] {
		if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.resolvedApplied.Load(); got != 0 {
		t.Errorf("a room built and emptied one event at a time resolved its control history %d times, want 0", got)
	}
	n.Close()

	n = newTestNode(t, dir)
	for _, a := range accounts[10:20] {
		if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.resolvedApplied.Load(); got != 0 {
		t.Errorf("10 removals after a restart resolved the room's control history %d times, want 0", got)
	}
	if err := n.AppliedAgreesForTest(room); err != nil {
		t.Error(err)
	}
	got := roles(t, n, "alice", room)
	for i, a := range accounts {
		if _, in := got[a]; in != (i >= 20) {
			t.Errorf("member %d in the room: %v", i, in)
		}
	}
}

// TestRemoveMembersShareCommits empties a room of 300 with one SetMembers:
// the removals, an event each, share durable commits (a batch of
// maxPublishBatch each), where they waited for a commit each; every one
// is made, and each member is out. A removal of an account that is no
// longer a member is skipped.
func TestRemoveMembersShareCommits(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	specs, accounts := aliceAndMembers(t, n, 300)
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "All hands", Members: specs})).ID
	alice := protocol.NewAccountID(n.ID(), "alice")
	commits := n.store.Stats().Commits
	if err := n.SetMembers(ctx, "alice", room, map[protocol.AccountID]protocol.Role{alice: protocol.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if got := n.store.Stats().Commits - commits; got > 300/maxPublishBatch+2 {
		t.Errorf("300 removals took %d commits, want at most %d", got, 300/maxPublishBatch+2)
	}
	if got := roles(t, n, "alice", room); len(got) != 1 {
		t.Errorf("%d members after emptying, want alice alone", len(got))
	}
	for _, a := range accounts[:3] {
		if err := n.RemoveMember(ctx, "alice", room, a); err == nil {
			t.Errorf("%s removed twice", a)
		}
	}

	if err := n.AddMembers(ctx, "alice", room, specs); err != nil {
		t.Fatal(err)
	}
	// The list names an account twice, and one that left meanwhile: a
	// removal of a non-member is skipped when its turn comes, and the rest
	// are made.
	if err := n.LeaveRoom(ctx, "m299", room); err != nil {
		t.Fatal(err)
	}
	out := slices.Concat(accounts[:2*maxPublishBatch], accounts[:1], accounts[299:])
	if err := n.RemoveMembers(ctx, "alice", room, out); err != nil {
		t.Fatal(err)
	}
	err := n.store.View(func(tx *storage.Tx) error {
		for _, c := range []struct {
			a    protocol.AccountID
			want int
		}{{accounts[0], 2}, {accounts[1], 2}, {accounts[299], 2}} { // each emptying's, or its leave
			if rs, err := tx.RemovalsOf(room, c.a); err != nil || len(rs) != c.want {
				t.Errorf("%s: %d removals (%v), want %d", c.a.Handle(), len(rs), err, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := roles(t, n, "alice", room); len(got) != 1+299-2*maxPublishBatch {
		t.Errorf("%d members after the removals, want %d", len(got), 1+299-2*maxPublishBatch)
	}
}

// aliceAndMembers makes account alice on n, and count accounts m000, m001,
// … to add to a room of hers; it returns them as member specs and IDs.
func aliceAndMembers(t *testing.T, n *Node, count int) ([]MemberSpec, []protocol.AccountID) {
	t.Helper()
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	specs := make([]MemberSpec, count)
	accounts := make([]protocol.AccountID, count)
	for i := range count {
		accounts[i] = must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: protocol.Handle(fmt.Sprintf("m%03d", i))})).ID
		specs[i] = MemberSpec{Account: accounts[i]}
	}
	return specs, accounts
}

// TestRemovalsKeepOneRun takes out, one at a time, accounts never removed
// before and accounts removed before, in turn, after the room's chain grew
// past what the node remembers of it: each removal of an account never
// removed starts at the chain's end, and one of an account removed before
// at its first removal. Reading on from the end of what is remembered
// keeps it one run; starting a run apart replaced it each time the chain
// had grown (a post between), and the next removal of the other kind read
// the chain again from its first removal.
func TestRemovalsKeepOneRun(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	specs, accounts := aliceAndMembers(t, n, 40)
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Mixed", Members: specs})).ID
	for _, a := range accounts[:20] {
		if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.AddMembers(ctx, "alice", room, specs[:20]); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		must[*Message](t)(n.Post(ctx, "alice", room, fmt.Sprint("news ", i)))
	}
	before := n.chainReads.Load()
	for i := range 20 {
		must[*Message](t)(n.Post(ctx, "alice", room, fmt.Sprint("more news ", i))) // the chain grows unread
		for _, a := range []protocol.AccountID{accounts[20+i], accounts[i]} {
			if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := n.chainReads.Load() - before; got > 150 {
		t.Errorf("40 removals read %d chain positions, want at most 150", got)
	}
	if got := roles(t, n, "alice", room); len(got) != 1 {
		t.Errorf("%d members left, want alice alone", len(got))
	}
}
