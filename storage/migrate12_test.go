package storage

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// oldBodiesStore writes f's events into a store in dir with this build,
// then rewrites them as a schema 11 build left them: each event's record
// under its ID, no event sequence.
func oldBodiesStore(t *testing.T, dir string, n int) *slimFixture {
	t.Helper()
	f := newSlimFixture(t, dir, n)
	rawWrite(t, dir, func(db *badger.DB, wb *badger.WriteBatch) error {
		err := db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				seq, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if len(seq) != eventPointerLen {
					return fmt.Errorf("this build wrote a record of %d bytes under an event ID", len(seq))
				}
				item, err := txn.Get(key(pEventBody, seq))
				if err != nil {
					return err
				}
				body, err := item.ValueCopy(nil)
				if err == nil {
					err = wb.Set(it.Item().KeyCopy(nil), body)
				}
				if err == nil {
					err = wb.Delete(key(pEventBody, seq))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = wb.Delete(key(pCounter, []byte{eventSeqCounter}))
		}
		// Own counts as schema 11 kept them, by event ID: of this node's
		// events (16 bytes: chain position, count), and, as schema 6
		// stores also wrote, of others' (8 bytes), which nothing reads.
		f.own = map[uint64]uint64{}
		for i, o := range f.order {
			switch {
			case err != nil:
			case i%3 == 0:
				seq, own := uint64(i+1), uint64(i/2)
				f.own[seq] = own
				err = wb.Set(key(pAcked, o.ID[:]), append(u64(seq), u64(own)...))
			case i%5 == 0:
				err = wb.Set(key(pAcked, o.ID[:]), u64(uint64(i)))
			}
		}
		if err == nil {
			err = wb.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 11))
		}
		return err
	})
	return f
}

// checkBodies checks the schema 12 layout of f's events: under each ID
// an event sequence number, each its own, under which the event's record
// is; the counter at the highest; no marker left.
func (f *slimFixture) checkBodies(t *testing.T, tx *Tx) {
	t.Helper()
	seqs := map[uint64]bool{}
	var most uint64
	for _, o := range f.order {
		seq, err := tx.get(key(pEvent, o.ID[:]))
		if err != nil || len(seq) != eventPointerLen {
			t.Fatalf("event %s's ID holds %x (%v), want an event sequence number", o.ID, seq, err)
		}
		n := be64(seq)
		if seqs[n] {
			t.Fatalf("event sequence %d given to two events", n)
		}
		seqs[n], most = true, max(most, n)
		b, err := tx.get(key(pEventBody, seq))
		if snap, wire, ok := splitEvent(b); err != nil || !ok || snap != f.snap[o.ID] || !bytes.Equal(wire, f.wire[o.ID]) {
			t.Fatalf("record %d of %s: %v, %v, snapshot %x; want it as stored", n, o.ID, err, ok, snap)
		}
	}
	if n, err := tx.count([]byte{pEventBody}); err != nil || n != len(f.order) {
		t.Errorf("%d event records (%v), want %d", n, err, len(f.order))
	}
	// The counter's record may lease numbers ahead (counters.go), never
	// fewer than were given.
	if c, err := tx.get(key(pCounter, []byte{eventSeqCounter})); err != nil || be64(c) < most {
		t.Errorf("event sequence counter %x (%v), want at least the highest given, %d", c, err, most)
	}
	if ok, err := tx.has([]byte{pBodies}); ok || err != nil {
		t.Errorf("schema 12 marker left: %v, %v", ok, err)
	}
	if n, err := tx.count([]byte{pAcked}); err != nil || n != 0 {
		t.Errorf("%d own counts by event ID left (%v), want none", n, err)
	}
	for seq, want := range f.own {
		if own, ok, err := tx.OwnCount(f.room, seq); err != nil || !ok || own != want {
			t.Fatalf("own count at %d = %d, %v, %v; want %d", seq, own, ok, err, want)
		}
	}
	if n, err := tx.count([]byte{pOwnCount}); err != nil || n != len(f.own) {
		t.Errorf("%d own counts (%v), want %d", n, err, len(f.own))
	}
}

// TestMigrateEventBodies migrates a store of schema 11 to 12: every event
// reads as before, its record is keyed by a sequence number of its own,
// and an event stored after the migration takes the next one, leaving the
// others as they were, also after a reopen.
func TestMigrateEventBodies(t *testing.T) {
	dir := t.TempDir()
	f := oldBodiesStore(t, dir, 1200)
	rawView(t, dir, func(tx *Tx) { f.check(t, tx) })
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		f.check(t, tx)
		f.checkBodies(t, tx)
		return nil
	})
	_, sk, _ := ed25519.GenerateKey(nil)
	e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: f.room, Author: "a", Prev: []protocol.EventID{f.order[len(f.order)-1].ID},
		Depth: uint64(len(f.order) + 1), Time: 1}, &protocol.MessagePost{Body: "after"})
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error { return tx.PutEvent(e, protocol.SnapshotKey{0xcd}) })
	f.order = append(f.order, protocol.Order{Depth: e.Depth, ID: e.ID})
	f.wire[e.ID], f.snap[e.ID] = e.Wire(), protocol.SnapshotKey{0xcd}
	f.unshown++
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		f.check(t, tx)
		f.checkBodies(t, tx)
		return nil
	})
}

// TestMigrateEventBodiesResumes interrupts the migration after each of
// its batches in turn: the store is of schema 12 with the marker set and
// reads as before in between, and the next Open goes on.
func TestMigrateEventBodiesResumes(t *testing.T) {
	dir := t.TempDir()
	f := oldBodiesStore(t, dir, 2*cleanupBatch+7)
	// A commit writes 256 KiB at most: 4,007 small records take 6, their
	// own counts one more.
	if opens := f.resumeEachCommit(t, dir, &bodiesInterruptForTest, pBodies); opens < 6 {
		t.Errorf("migration done in %d commits, want more", opens)
	}
}
