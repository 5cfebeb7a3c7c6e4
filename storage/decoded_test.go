package storage

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestDecodedRecords: a Room record and a room's heads, which an Update
// keeps decoded until it is written, read back within the Update as what
// was written (not as the caller changed its value afterwards, and not
// changed by what a reader does with its copy), and are stored as the
// last value written, for the next Update, a View after the commit and the same
// Update's own reads of its bytes and scans.
func TestDecodedRecords(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, posts := testRoom(t, 3)
	id := create.RoomID()
	room := &Room{ID: id, Kind: protocol.KindGroup, Created: 1, Version: 3}
	update(t, s, func(tx *Tx) error {
		for i, e := range append([]*protocol.Signed{create}, posts...) {
			room.Events = uint64(i + 1)
			if err := tx.PutRoom(room); err != nil {
				return err
			}
			tip, err := tx.Tip(id)
			if err != nil {
				return err
			}
			tip.Seq = uint64(i + 1)
			if err := tx.AdvanceHeads(e, tip); err != nil {
				return err
			}
		}
		room.Events = 99 // after PutRoom: not stored
		got, err := tx.Room(id)
		if err != nil {
			return err
		}
		if got.Events != 4 {
			t.Errorf("Room within the Update: %d events, want 4 (the value put, not changed after)", got.Events)
		}
		got.Messages = 7
		if again, _ := tx.Room(id); again.Messages != 0 {
			t.Errorf("Room within the Update: %d messages after a reader changed its copy, want 0", again.Messages)
		}
		tip, err := tx.Tip(id)
		if err != nil {
			return err
		}
		if len(tip.Heads) != 1 || tip.Heads[0] != posts[2].Order() || tip.Seq != 4 {
			t.Errorf("Tip within the Update = %+v, want the last post at seq 4", tip)
		}
		tip.Heads[0] = create.Order()
		if again, _ := tx.Tip(id); again.Heads[0] != posts[2].Order() {
			t.Errorf("Tip within the Update: a reader's change of its copy's heads showed: %v", again.Heads)
		}
		return nil
	})
	want := *room
	want.Events = 4
	// check runs in the writer's goroutine too, so it must not stop it
	// with t.Fatal.
	check := func(tx *Tx, when string) error {
		got, err := tx.Room(id)
		if err != nil {
			return fmt.Errorf("%s: %w", when, err)
		}
		if *got != want {
			t.Errorf("%s: Room = %+v, want %+v", when, *got, want)
		}
		tip, err := tx.Tip(id)
		if err != nil {
			return fmt.Errorf("%s: %w", when, err)
		}
		if !reflect.DeepEqual(tip, Tip{Heads: []protocol.Order{posts[2].Order()}, Seq: 4}) {
			t.Errorf("%s: Tip = %+v", when, tip)
		}
		return nil
	}
	update(t, s, func(tx *Tx) error { return check(tx, "the next Update") })
	view(t, s, func(tx *Tx) error { return check(tx, "a View") })
	// The Update's own byte reads and scans get the records encoded.
	update(t, s, func(tx *Tx) error {
		room.Events = 5
		if err := tx.PutRoom(room); err != nil {
			return err
		}
		if err := tx.AdvanceHeads(posts[2], Tip{Seq: 5}); err != nil {
			return err
		}
		b, err := tx.get(key(pRoom, id[:]))
		if err != nil {
			return err
		}
		var raw Room
		if err := protocol.DecodeRecord(b, &raw); err != nil || raw.Events != 5 {
			t.Errorf("bytes of the Room record within the Update: %+v, %v", raw, err)
		}
		entries, err := tx.list([]byte{pHeads})
		if err != nil {
			return err
		}
		if len(entries) != 1 {
			return fmt.Errorf("scan of the heads within the Update: %d entries, want 1", len(entries))
		}
		var scanned Tip
		if err := protocol.DecodeRecord(entries[0].v, &scanned); err != nil || scanned.Seq != 5 {
			t.Errorf("scanned heads within the Update: %+v, %v", scanned, err)
		}
		return nil
	})
}

// TestDecodedRecordsBounded: what an Update counts for a record it keeps
// decoded is at least what its encoding takes, so the writer never packs
// more into a Badger transaction than it holds.
func TestDecodedRecordsBounded(t *testing.T) {
	var id protocol.EventID
	for i := range id {
		id[i] = 0xff
	}
	last := protocol.Order{Depth: math.MaxUint64, ID: id}
	room := &Room{ID: protocol.RoomID(id), Kind: protocol.KindGroup, Control: protocol.SnapshotKey(id),
		Created: math.MinInt64, LastPost: math.MinInt64, Events: math.MaxUint64, Messages: math.MaxUint64,
		Tasks: math.MaxUint64, Files: math.MaxUint64, Version: math.MaxUint16, Seq: math.MaxUint64, Last: last,
		Own: math.MaxUint64, Restricted: true, Arrived: math.MaxUint64, Uncounted: math.MaxUint64}
	heads := make([]protocol.Order, 300)
	for i := range heads {
		heads[i] = last
	}
	for _, rec := range []decoded{room, &Room{}, &Tip{Heads: heads, Version: math.MaxUint16, Seq: math.MaxUint64, Last: last}, &Tip{}} {
		b, err := protocol.EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > rec.maxEncodedSize() {
			t.Errorf("%T encodes to %d bytes, more than its bound %d", rec, len(b), rec.maxEncodedSize())
		}
	}
}
