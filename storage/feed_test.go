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
