package storage

import (
	"crypto/ed25519"
	"reflect"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// reactEvent signs a reaction by handle h, of one node, at depth d.
func reactEvent(t *testing.T, h protocol.Handle, msg protocol.EventID, r protocol.Reaction, remove bool, d uint64, tm int64) *protocol.Signed {
	t.Helper()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	e, err := protocol.Sign(key, protocol.Event{Version: 1, Room: protocol.RoomID{1}, Prev: []protocol.EventID{{2}}, Depth: d, Author: h, Time: tm},
		&protocol.MessageReact{Message: msg, Reaction: r, Remove: remove})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReactionIndex(t *testing.T) {
	s := openTest(t, t.TempDir())
	msg, other := protocol.EventID{9}, protocol.EventID{10}
	bobYes := reactEvent(t, "bob", msg, protocol.ReactionYes, false, 5, 1)
	bobYesOff := reactEvent(t, "bob", msg, protocol.ReactionYes, true, 7, 2)
	bobYesOld := reactEvent(t, "bob", msg, protocol.ReactionYes, false, 6, 3) // arrives last, but sorts before the removal
	carolYes := reactEvent(t, "carol", msg, protocol.ReactionYes, false, 5, 4)
	carolRoger := reactEvent(t, "carol", msg, protocol.ReactionRoger, false, 5, 5)
	daveOther := reactEvent(t, "dave", other, protocol.ReactionBow, false, 5, 6)
	for _, e := range []*protocol.Signed{bobYes, bobYesOff, bobYesOld, carolYes, carolRoger, daveOther} {
		update(t, s, func(tx *Tx) error { return tx.PutReaction(e) })
	}
	got := func(id protocol.EventID) []ReactionOf {
		var rs []ReactionOf
		view(t, s, func(tx *Tx) error {
			var err error
			rs, err = tx.Reactions(id)
			return err
		})
		return rs
	}
	want := []ReactionOf{{protocol.ReactionRoger, carolRoger.AuthorID()}, {protocol.ReactionYes, carolYes.AuthorID()}}
	if rs := got(msg); !reflect.DeepEqual(rs, want) {
		t.Fatalf("reactions = %v, want %v", rs, want)
	}
	// Hiding the removal brings bob's reaction back.
	update(t, s, func(tx *Tx) error { return tx.DeleteReaction(bobYesOff) })
	want = []ReactionOf{{protocol.ReactionRoger, carolRoger.AuthorID()}, {protocol.ReactionYes, bobYes.AuthorID()}, {protocol.ReactionYes, carolYes.AuthorID()}}
	if rs := got(msg); !reflect.DeepEqual(rs, want) {
		t.Fatalf("after hiding the removal: %v, want %v", rs, want)
	}
	if rs := got(other); len(rs) != 1 || rs[0].Reaction != protocol.ReactionBow {
		t.Fatalf("other message: %v", rs)
	}
}

func TestBookmarksAndPins(t *testing.T) {
	s := openTest(t, t.TempDir())
	alice, bob := protocol.AccountID("alice@12D3KooWnode"), protocol.AccountID("bob@12D3KooWnode")
	b1 := &Bookmark{Message: protocol.EventID{1}, Room: protocol.RoomID{7}, Time: 10}
	b2 := &Bookmark{Message: protocol.EventID{2}, Room: protocol.RoomID{7}, Time: 20}
	update(t, s, func(tx *Tx) error {
		for _, b := range []*Bookmark{b1, b2} {
			if err := tx.PutBookmark(alice, b); err != nil {
				return err
			}
		}
		if err := tx.PinRoom(alice, protocol.RoomID{7}, 30); err != nil {
			return err
		}
		return tx.PinRoom(alice, protocol.RoomID{8}, 40)
	})
	update(t, s, func(tx *Tx) error {
		if err := tx.DeleteBookmark(alice, b1.Message); err != nil {
			return err
		}
		return tx.UnpinRoom(alice, protocol.RoomID{8})
	})
	view(t, s, func(tx *Tx) error {
		bs, err := tx.Bookmarks(alice)
		if err != nil || len(bs) != 1 || !reflect.DeepEqual(bs[0], b2) {
			t.Errorf("alice's bookmarks = %v, %v; want just %v", bs, err, b2)
		}
		if bs, err := tx.Bookmarks(bob); err != nil || len(bs) != 0 {
			t.Errorf("bob's bookmarks = %v, %v; want none", bs, err)
		}
		if ok, err := tx.HasBookmark(alice, b2.Message); err != nil || !ok {
			t.Errorf("HasBookmark = %v, %v", ok, err)
		}
		pins, err := tx.PinnedRooms(alice)
		if err != nil || !reflect.DeepEqual(pins, map[protocol.RoomID]int64{{7}: 30}) {
			t.Errorf("pinned = %v, %v", pins, err)
		}
		return nil
	})
}
