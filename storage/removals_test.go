package storage

import (
	"crypto/ed25519"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestRemovalSaysWho: a removal entry says whether the account revoked
// itself (a leave) or was removed by another, so that soft-fail does not
// read every earlier removal's event at each new one; an entry of an
// older build, with the reach alone, does not say until written anew.
func TestRemovalSaysWho(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	nd := protocol.NodeIDFromKey(sk.Public().(ed25519.PublicKey))
	room := protocol.RoomID{7}
	bob := protocol.NewAccountID(nd, "bob")
	sign := func(author protocol.Handle, depth uint64, c protocol.Content) *protocol.Signed {
		e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: room, Author: author, Prev: []protocol.EventID{{1}}, Depth: depth, Time: 1}, c)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	removed := sign("alice", 2, &protocol.MemberRemove{Account: bob})
	left := sign("bob", 3, &protocol.MemberLeave{})
	older := sign("alice", 4, &protocol.MemberRemove{Account: bob})
	s := openTest(t, t.TempDir())
	update(t, s, func(tx *Tx) error {
		if err := tx.PutRemoval(room, removed, 1); err != nil {
			return err
		}
		if err := tx.PutRemoval(room, left, 2); err != nil {
			return err
		}
		if err := tx.PutRemoval(room, sign("alice", 5, &protocol.MessagePost{Body: "x"}), 3); err == nil {
			t.Error("a post recorded as a removal")
		}
		return tx.putRemovalEntry(room, bob, older.ID, 3)
	})
	want := []Removal{
		{ID: removed.ID, Reach: 1, Account: bob, SelfKnown: true},
		{ID: left.ID, Reach: 2, Account: bob, Self: true, SelfKnown: true},
		{ID: older.ID, Reach: 3, Account: bob},
	}
	sortRemovals := func(rs []Removal) {
		slices.SortFunc(rs, func(a, b Removal) int { return a.ID.Compare(b.ID) })
	}
	sortRemovals(want)
	check := func(when string) {
		t.Helper()
		view(t, s, func(tx *Tx) error {
			got, err := tx.RemovalsOf(room, bob)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: removals of bob = %v, %v; want %v", when, got, err, want)
			}
			return nil
		})
	}
	check("written")
	update(t, s, func(tx *Tx) error { return tx.PutRemoval(room, older, 3) })
	for i := range want {
		if want[i].ID == older.ID {
			want[i].SelfKnown = true
		}
	}
	check("the older entry written anew")
}
