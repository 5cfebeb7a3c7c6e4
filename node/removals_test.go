package node

import (
	"fmt"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestRemovalsCostTheSame takes a room's members out one at a time, as an
// admin emptying a room of thousands does: each removal asks which
// control events take effect (removalsOf), and only the first may resolve
// the room's control history for it; the others follow from the one
// before (protocol.AppliedAfter). Resolving at each removal cost seconds
// in a room of 4,750 members with 250 removals before. The removed stay
// removed, and the others members.
func TestRemovalsCostTheSame(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	var specs []MemberSpec
	var accounts []protocol.AccountID
	for i := range 60 {
		a := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: protocol.Handle(fmt.Sprintf("m%02d", i))})).ID
		specs = append(specs, MemberSpec{Account: a})
		accounts = append(accounts, a)
	}
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "All hands", Members: specs})).ID
	before := n.resolvedApplied.Load()
	for _, a := range accounts[:40] {
		if err := n.RemoveMember(ctx, "alice", room, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.resolvedApplied.Load() - before; got > 1 {
		t.Errorf("40 removals resolved the room's control history %d times, want at most once", got)
	}
	got := roles(t, n, "alice", room)
	if len(got) != 21 {
		t.Errorf("%d members after 40 of 61 removed, want 21", len(got))
	}
	for i, a := range accounts {
		if _, in := got[a]; in != (i >= 40) {
			t.Errorf("member %d in the room: %v", i, in)
		}
	}
}
