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
