package storage

import (
	"errors"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

func TestChangeFeed(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	room := protocol.RoomID{1}
	var seqs []uint64
	for i, kind := range []string{"message", "task", "members"} {
		update(t, s, func(tx *Tx) error {
			seq, err := tx.AppendChange(Change{Kind: kind, Room: room, Event: protocol.EventID{byte(i)}})
			seqs = append(seqs, seq)
			return err
		})
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("sequence numbers %v, want 1 2 3", seqs)
	}
	// A failed Update hands out no number.
	err := s.Update(t.Context(), func(tx *Tx) error {
		if _, err := tx.AppendChange(Change{Kind: "lost", Room: room}); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("failing update succeeded")
	}
	s.Close()
	s = openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		last, err := tx.LastChange()
		if err != nil || last != 3 {
			t.Errorf("LastChange = %d, %v; want 3", last, err)
		}
		var kinds []string
		err = tx.Changes(1, func(seq uint64, c *Change) bool {
			kinds = append(kinds, c.Kind)
			return true
		})
		if err != nil || !slices.Equal(kinds, []string{"task", "members"}) {
			t.Errorf("Changes after 1 = %v, %v; want task, members", kinds, err)
		}
		return nil
	})
}

func TestAfterCommit(t *testing.T) {
	s := openTest(t, t.TempDir())
	var ran []string
	update(t, s, func(tx *Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "first") })
		tx.AfterCommit(func() { ran = append(ran, "second") })
		return tx.PutReadMarker("a@b", protocol.RoomID{}, ReadMarker{Unread: 1})
	})
	if !slices.Equal(ran, []string{"first", "second"}) {
		t.Fatalf("hooks ran %v, want first, second", ran)
	}
	ran = nil
	err := s.Update(t.Context(), func(tx *Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "failed") })
		return errors.New("boom")
	})
	if err == nil || ran != nil {
		t.Fatalf("failed update: err %v, hooks ran %v; want an error and no hooks", err, ran)
	}
}

// TestChangeByAlias checks that a change about an event whose message
// alias the same Update handed out is stored by the alias, not the
// event ID, and reads back with the event ID; a change about an older
// event is stored with its ID.
func TestChangeByAlias(t *testing.T) {
	s := openTest(t, t.TempDir())
	room := protocol.RoomID{1}
	post, old := protocol.EventID{0xa1}, protocol.EventID{0xb2}
	update(t, s, func(tx *Tx) error {
		_, err := tx.Alias(AliasMessage, old[:])
		return err
	})
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Alias(AliasMessage, post[:]); err != nil {
			return err
		}
		for _, c := range []Change{{Kind: "message", Room: room, Event: post}, {Kind: "updated", Room: room, Event: old}} {
			if _, err := tx.AppendChange(c); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Tx) error {
		var stored []Change
		err := tx.scan([]byte{pChange}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
			var c Change
			b, err := val()
			if err == nil {
				err = protocol.DecodeRecord(b, &c)
			}
			stored = append(stored, c)
			return err == nil, err
		})
		want := []Change{{Kind: "message", Room: room, Alias: 2}, {Kind: "updated", Room: room, Event: old}}
		if err != nil || !slices.Equal(stored, want) {
			t.Errorf("stored changes %+v, %v; want %+v", stored, err, want)
		}
		var got []Change
		err = tx.Changes(0, func(_ uint64, c *Change) bool { got = append(got, *c); return true })
		want = []Change{{Kind: "message", Room: room, Event: post}, {Kind: "updated", Room: room, Event: old}}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("changes %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
}

// TestLookupHandedAlias: the alias an Update just handed out to a new
// message is found by LookupAlias in the same Update, before anything
// (its timeline record) holds it, without a read of the store.
func TestLookupHandedAlias(t *testing.T) {
	s := openTest(t, t.TempDir())
	post := protocol.EventID{0xa1}
	update(t, s, func(tx *Tx) error {
		n, err := tx.NewMessageAlias(post)
		if err != nil {
			return err
		}
		got, err := tx.LookupAlias(AliasMessage, post[:])
		if err != nil || got != n {
			t.Errorf("LookupAlias in the Update that handed out alias %d: %d, %v", n, got, err)
		}
		return nil
	})
}

// TestChangedMessage checks that ChangedMessage reads the message of a
// change that records its depth from the timeline record alone, as
// Message finds it from its event; that a change without a depth is
// answered by Message; that the depth survives the feed; and that a
// message taken out of its timeline is not found either way.
func TestChangedMessage(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, posts := testRoom(t, 3)
	room := create.RoomID()
	// posts[2] gets a timeline record but no event: only a read that
	// goes by the depth finds it.
	lone := &Message{Message: *protocol.NewMessage(posts[2]), Alias: 99}
	update(t, s, func(tx *Tx) error {
		k, err := tx.PutSnapshot(protocol.After(nil, create))
		if err != nil {
			return err
		}
		for _, e := range []*protocol.Signed{create, posts[0], posts[1]} {
			if err := tx.PutEvent(e, k); err != nil {
				return err
			}
			if e.Type == protocol.TypeMessagePost {
				if err := putTimelineRecord(tx, room, e); err != nil {
					return err
				}
			}
		}
		if err := tx.PutMessage(room, lone); err != nil {
			return err
		}
		_, err = tx.AppendChange(Change{Kind: "message", Room: room, Event: posts[1].ID, Depth: posts[1].Depth})
		return err
	})
	view(t, s, func(tx *Tx) error {
		var got []Change
		if err := tx.Changes(0, func(_ uint64, c *Change) bool { got = append(got, *c); return true }); err != nil {
			return err
		}
		if len(got) != 1 || got[0].Event != posts[1].ID || got[0].Depth != posts[1].Depth {
			t.Errorf("Changes = %+v; want posts[1] at depth %d", got, posts[1].Depth)
		}
		for _, p := range posts[:2] {
			wantRoom, want, err := tx.Message(p.ID)
			if err != nil {
				return err
			}
			for _, c := range []Change{{Room: room, Event: p.ID, Depth: p.Depth}, {Room: room, Event: p.ID}} {
				r, m, err := tx.ChangedMessage(&c)
				if err != nil || r != wantRoom || m.Body != want.Body || m.Alias != want.Alias || m.Depth != want.Depth {
					t.Errorf("ChangedMessage(%+v) = %v, %+v, %v; want %v, %+v", c, r, m, err, wantRoom, want)
				}
			}
		}
		r, m, err := tx.ChangedMessage(&Change{Room: room, Event: posts[2].ID, Depth: posts[2].Depth})
		if err != nil || r != room || m.Body != lone.Body || m.Alias != 99 {
			t.Errorf("ChangedMessage by depth, no event = %v, %+v, %v; want the timeline record", r, m, err)
		}
		if _, _, err := tx.ChangedMessage(&Change{Room: room, Event: posts[2].ID}); !errors.Is(err, ErrNotFound) {
			t.Errorf("ChangedMessage without a depth, no event: %v; want ErrNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx *Tx) error {
		_, m, err := tx.Message(posts[0].ID)
		if err != nil {
			return err
		}
		return tx.DeleteMessage(room, m)
	})
	view(t, s, func(tx *Tx) error {
		for _, c := range []Change{{Room: room, Event: posts[0].ID, Depth: posts[0].Depth}, {Room: room, Event: posts[0].ID}} {
			if _, _, err := tx.ChangedMessage(&c); !errors.Is(err, ErrNotFound) {
				t.Errorf("ChangedMessage(%+v) of a message taken out: %v; want ErrNotFound", c, err)
			}
		}
		return nil
	})
}
