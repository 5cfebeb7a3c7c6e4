package node

import (
	"fmt"
	"maps"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestConfirmationsGrow checks that the confirmations of a room's snapshot
// worked out from an earlier snapshot's (confirmedBy) are those read from
// every event of the snapshot, as members are added one at a time, change
// roles and are removed.
func TestConfirmationsGrow(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "All hands"})).ID
	// A partner's accounts the partner never confirms: added by alice's
	// node, they stay unconfirmed.
	partner := protocol.NewAccountID(protocol.NodeID("12D3KooWPartnerThatNeverAnswersxxxxxxxxxxxxxxxxxxxxx"), "pat")
	check := func(step string) {
		t.Helper()
		err := n.store.View(func(tx *storage.Tx) error {
			r, err := tx.Room(room)
			if err != nil {
				return err
			}
			s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
			if err != nil {
				return err
			}
			got, err := n.confirmedBy(tx, s)
			if err != nil {
				return err
			}
			fresh := &Node{}
			fresh.hosting.confirmations.max = 1
			want, err := fresh.confirmedBy(tx, s)
			if err != nil {
				return err
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: confirmed %v, want %v", step, got, want)
			}
			if got[partner] {
				t.Errorf("%s: the partner's account confirmed", step)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("created")
	var added []protocol.AccountID
	for i := range 12 {
		a := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: protocol.Handle(fmt.Sprintf("m%d", i))})).ID
		if err := n.SetMember(ctx, "alice", room, a, protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
		added = append(added, a)
		check(fmt.Sprintf("member %d added", i))
		switch i {
		case 3:
			if err := n.SetMember(ctx, "alice", room, partner, protocol.RoleMember); err != nil {
				t.Fatal(err)
			}
			check("partner's account added")
		case 5:
			if err := n.SetMember(ctx, "alice", room, added[1], protocol.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			check("member 1 made admin")
		case 8:
			if err := n.RemoveMember(ctx, "alice", room, added[2]); err != nil {
				t.Fatal(err)
			}
			check("member 2 removed")
		}
	}
}
