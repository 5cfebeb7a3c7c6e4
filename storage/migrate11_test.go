package storage

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// slimFixture is a store of schema 10 as it was written: every event's
// snapshot key under a key of its own (pEventSnap), its record the wire
// form alone, and every event in the by-depth index (pRoomEvent).
type slimFixture struct {
	room    protocol.RoomID
	order   []protocol.Order // every event, by depth
	wire    map[protocol.EventID][]byte
	snap    map[protocol.EventID]protocol.SnapshotKey
	shown   map[protocol.EventID]uint64 // messages with a timeline record, and their aliases
	unshown int                         // events without one: a hidden message, events that are not messages
	own     map[uint64]uint64           // own counts by chain position in room, as oldBodiesStore moved them (schema 11's pAcked)
}

// oldSlimStore writes n shown messages, a message hidden after the fact
// and three events without a timeline record into a store in dir with
// this build, then rewrites their records as a schema 10 build left them.
func oldSlimStore(t *testing.T, dir string, n int) *slimFixture {
	t.Helper()
	f := newSlimFixture(t, dir, n)
	rawWrite(t, dir, func(db *badger.DB, wb *badger.WriteBatch) error {
		// This build keyed the records by sequence (schema 12): drop those.
		err := db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEventBody}})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = wb.Delete(key(pCounter, []byte{eventSeqCounter}))
		}
		for _, o := range f.order {
			snap := f.snap[o.ID]
			for k, v := range map[string][]byte{
				string(key(pEvent, o.ID[:])):                              f.wire[o.ID],
				string(key(pEventSnap, o.ID[:])):                          snap[:],
				string(key(pRoomEvent, f.room[:], u64(o.Depth), o.ID[:])): nil,
			} {
				if err == nil {
					err = wb.Set([]byte(k), v)
				}
			}
		}
		if err == nil {
			err = wb.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 10))
		}
		return err
	})
	return f
}

// rawWrite opens the store in dir with Badger alone and calls fn with a
// write batch (which may hold more than one transaction), which it then
// flushes, unless fn failed; it fails t on any error.
func rawWrite(t *testing.T, dir string, fn func(db *badger.DB, wb *badger.WriteBatch) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	wb := db.NewWriteBatch()
	if err = fn(db, wb); err == nil {
		err = wb.Flush()
	} else {
		wb.Cancel()
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// newSlimFixture writes n shown messages, a message hidden after the fact
// and three events without a timeline record into a store in dir with
// this build, and closes it.
func newSlimFixture(t *testing.T, dir string, n int) *slimFixture {
	t.Helper()
	f := &slimFixture{room: protocol.RoomID{9}, wire: map[protocol.EventID][]byte{},
		snap: map[protocol.EventID]protocol.SnapshotKey{}, shown: map[protocol.EventID]uint64{}}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, sk, _ := ed25519.GenerateKey(nil)
	event := func(i int) *protocol.Signed {
		e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: f.room, Author: "a", Prev: []protocol.EventID{{1}}, Depth: uint64(i + 1), Time: int64(i)},
			&protocol.MessagePost{Body: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		f.order = append(f.order, protocol.Order{Depth: e.Depth, ID: e.ID})
		f.wire[e.ID] = e.Wire()
		// Snapshot keys differ from event to event, so that a mix-up shows.
		f.snap[e.ID] = protocol.SnapshotKey{0xab, byte(i), byte(i >> 8)}
		return e
	}
	put := func(tx *Tx, e *protocol.Signed, show bool) (*Message, error) {
		if err := tx.PutEvent(e, f.snap[e.ID]); err != nil || !show {
			return nil, err
		}
		m := &Message{Message: *protocol.NewMessage(e)}
		var err error
		if m.Alias, err = tx.Alias(AliasMessage, m.ID[:]); err != nil {
			return nil, err
		}
		f.shown[m.ID] = m.Alias
		return m, tx.PutMessage(f.room, m)
	}
	i := 0
	for from := 0; from < n; from += 500 {
		update(t, s, func(tx *Tx) error {
			for ; i < min(from+500, n); i++ {
				if _, err := put(tx, event(i), true); err != nil {
					return err
				}
				if i%1000 == 10 { // an event that is no message, now and then
					i++
					f.unshown++
					if _, err := put(tx, event(i), false); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	var hidden *Message
	update(t, s, func(tx *Tx) error {
		hidden, err = put(tx, event(i), true)
		return err
	})
	update(t, s, func(tx *Tx) error { return tx.DeleteMessage(f.room, hidden) })
	delete(f.shown, hidden.ID)
	f.unshown++
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// check checks that every read of f's events answers as before: the
// event, its wire form and snapshot key, the room's events by depth (each
// once), the messages.
func (f *slimFixture) check(t *testing.T, tx *Tx) {
	t.Helper()
	for _, o := range f.order {
		e, err := tx.Event(o.ID)
		if err != nil || e == nil || !bytes.Equal(e.Wire(), f.wire[o.ID]) {
			t.Fatalf("event %s = %v, %v; want it as stored", o.ID, e, err)
		}
		if w, err := tx.EventWire(o.ID); err != nil || !bytes.Equal(w, f.wire[o.ID]) {
			t.Fatalf("wire of %s = %x, %v; want %x", o.ID, w, err, f.wire[o.ID])
		}
		if k, err := tx.EventSnapshot(o.ID); err != nil || k != f.snap[o.ID] {
			t.Fatalf("snapshot of %s = %x, %v; want %x", o.ID, k, err, f.snap[o.ID])
		}
	}
	for _, from := range []int{0, len(f.order) / 2, len(f.order) - 1} {
		var got []protocol.Order
		err := tx.RoomEvents(f.room, f.order[from].Depth, func(depth uint64, id protocol.EventID) bool {
			got = append(got, protocol.Order{Depth: depth, ID: id})
			return true
		})
		if err != nil || !slices.Equal(got, f.order[from:]) {
			for i := range min(len(got), len(f.order[from:])) {
				if got[i] != f.order[from+i] {
					t.Logf("first difference at %d: %v, want %v; got %v, want %v", i, got[i], f.order[from+i], got[:4], f.order[from:from+4])
					break
				}
			}
			t.Fatalf("room events from depth %d: %d (%v), want %d", f.order[from].Depth, len(got), err, len(f.order[from:]))
		}
	}
	stop := 0
	if err := tx.RoomEvents(f.room, 0, func(uint64, protocol.EventID) bool { stop++; return stop < 3 }); err != nil || stop != 3 {
		t.Fatalf("room events stopped after %d (%v), want 3", stop, err)
	}
	for id, a := range f.shown {
		if _, m, err := tx.Message(id); err != nil || m == nil || m.Alias != a {
			t.Fatalf("message %s = %v, %v; want it with alias %d", id, m, err, a)
		}
	}
	ms, err := tx.Messages(f.room, protocol.Order{}, false, 3)
	if err != nil || len(ms) != 3 {
		t.Fatalf("newest messages = %v, %v; want 3", ms, err)
	}
}

// checkSlim checks that the store holds the schema 11 layout only: no
// snapshot keys of their own, every event record with its snapshot key,
// and by-depth keys for the events without a timeline record only.
func (f *slimFixture) checkSlim(t *testing.T, tx *Tx) {
	t.Helper()
	if n, err := tx.count([]byte{pEventSnap}); err != nil || n != 0 {
		t.Errorf("%d snapshot keys of their own left (%v), want none", n, err)
	}
	if n, err := tx.count(key(pRoomEvent, f.room[:])); err != nil || n != f.unshown {
		t.Errorf("%d by-depth keys (%v), want %d", n, err, f.unshown)
	}
	for _, o := range f.order {
		b, err := tx.eventValue(o.ID)
		if k, _, ok := splitEvent(b); err != nil || !ok || k != f.snap[o.ID] {
			t.Fatalf("record of %s holds snapshot key %x (%v, %v), want %x", o.ID, k, ok, err, f.snap[o.ID])
		}
	}
	if ok, err := tx.has([]byte{pSlim}); ok || err != nil {
		t.Errorf("schema 11 marker left: %v, %v", ok, err)
	}
}

// rawView runs fn on the store in dir with Badger alone: what a reader
// sees of a store Open would migrate further.
func rawView(t *testing.T, dir string, fn func(tx *Tx)) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(txn *badger.Txn) error { fn(&Tx{txn: txn}); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestSlimLayout checks the schema 11 layout as this build writes it: a
// message's event has no by-depth key, its timeline record stands for it;
// one hidden after the fact gets it back and is listed once when shown
// again; a redacted event keeps its snapshot key.
func TestSlimLayout(t *testing.T) {
	s := openTest(t, t.TempDir())
	e, m := secretPost(t) // of a room whose version lets a post be redacted
	room := e.RoomID()
	snap := protocol.SnapshotKey{0x5a}
	listed := func() []protocol.EventID {
		var ids []protocol.EventID
		view(t, s, func(tx *Tx) error {
			return tx.RoomEvents(room, 0, func(_ uint64, id protocol.EventID) bool { ids = append(ids, id); return true })
		})
		return ids
	}
	byDepth := func() int {
		var n int
		view(t, s, func(tx *Tx) (err error) { n, err = tx.count([]byte{pRoomEvent}); return err })
		return n
	}
	update(t, s, func(tx *Tx) error {
		if err := tx.PutEvent(e, snap); err != nil {
			return err
		}
		return tx.PutMessage(room, m)
	})
	if n := byDepth(); n != 0 {
		t.Errorf("%d by-depth keys for a shown message, want 0", n)
	}
	if ids := listed(); !slices.Equal(ids, []protocol.EventID{e.ID}) {
		t.Errorf("room events %v, want [%s]", ids, e.ID)
	}
	update(t, s, func(tx *Tx) error { return tx.DeleteMessage(room, m) })
	if n, ids := byDepth(), listed(); n != 1 || !slices.Equal(ids, []protocol.EventID{e.ID}) {
		t.Errorf("hidden: %d by-depth keys, room events %v; want 1, [%s]", n, ids, e.ID)
	}
	update(t, s, func(tx *Tx) error { return tx.PutMessage(room, m) })
	if ids := listed(); !slices.Equal(ids, []protocol.EventID{e.ID}) {
		t.Errorf("shown again: room events %v, want [%s] once", ids, e.ID)
	}
	update(t, s, func(tx *Tx) error {
		ok, err := tx.RedactEvent(e.ID)
		if err == nil && !ok {
			err = errors.New("not redacted")
		}
		return err
	})
	view(t, s, func(tx *Tx) error {
		if k, err := tx.EventSnapshot(e.ID); err != nil || k != snap {
			t.Errorf("snapshot of the redacted event = %x, %v; want %x", k, err, snap)
		}
		if got, err := tx.Event(e.ID); err != nil || got == nil || !got.Redacted() {
			t.Errorf("redacted event = %v, %v; want it redacted", got, err)
		}
		if n, err := tx.count([]byte{pEventSnap}); err != nil || n != 0 {
			t.Errorf("%d snapshot keys of their own (%v), want none", n, err)
		}
		return nil
	})
}

// TestMigrateSlim opens a schema 10 store of more events than one batch
// of the migration takes, and finds every read answered as before and
// the store in the schema 11 layout.
func TestMigrateSlim(t *testing.T) {
	dir := t.TempDir()
	f := oldSlimStore(t, dir, 2*cleanupBatch+7)
	rawView(t, dir, func(tx *Tx) { f.check(t, tx) })
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		f.check(t, tx)
		f.checkSlim(t, tx)
		return nil
	})
}

// TestMigrateSlimResumes interrupts the migration after each of its
// batches in turn: the store is of schema 11 with the marker set and reads
// as before in between, and the next Open goes on.
func TestMigrateSlimResumes(t *testing.T) {
	dir := t.TempDir()
	f := oldSlimStore(t, dir, 2*cleanupBatch+7)
	// At ~600 events a commit the snapshot keys take 7 commits, the
	// by-depth keys 3 more (2,000 a commit, and the last finds none).
	if opens := f.resumeEachCommit(t, dir, &slimInterruptForTest, pSlim); opens < 6 {
		t.Errorf("migration done in %d commits, want more", opens)
	}
}

// resumeEachCommit opens the store in dir with a migration's hook set to
// make Open fail after every commit but the last (each Open then does
// one), and checks with Badger alone between the opens that the store is
// of this schema, marker is set and f reads as before; once Open succeeds
// it checks f's reads and layout (checkSlimStore). It returns how many
// opens it took.
func (f *slimFixture) resumeEachCommit(t *testing.T, dir string, hook *func(int) error, marker byte) int {
	t.Helper()
	errStop := errors.New("stopped")
	t.Cleanup(func() { *hook = nil })
	*hook = func(int) error { return errStop }
	opens := 1
	for ; ; opens++ {
		s, err := Open(dir, Options{})
		if err == nil {
			f.checkSlimStore(t, s)
			break
		}
		if !errors.Is(err, errStop) {
			t.Fatalf("open with the migration interrupted: %v, want %v", err, errStop)
		}
		rawView(t, dir, func(tx *Tx) {
			if v, err := schemaVersion(tx.txn); err != nil || v != SchemaVersion {
				t.Fatalf("schema %d, %v; want %d", v, err, SchemaVersion)
			}
			if ok, err := tx.has([]byte{marker}); !ok || err != nil {
				t.Fatalf("no marker %#x after %d opens: %v, %v", marker, opens, ok, err)
			}
			f.check(t, tx)
		})
	}
	t.Logf("migration done in %d commits", opens)
	return opens
}

// checkSlimStore checks f's reads and layout on s, and closes it.
func (f *slimFixture) checkSlimStore(t *testing.T, s *Store) {
	t.Helper()
	view(t, s, func(tx *Tx) error {
		f.check(t, tx)
		f.checkSlim(t, tx)
		f.checkBodies(t, tx)
		return nil
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReplicaOfSchema10Records: a standby of schema 11 takes from its
// primary the records a schema 10 build writes (a primary upgraded after
// its standby), and reads them as before: events with their snapshot
// keys under pEventSnap, messages in both pRoomEvent and pTimeline.
func TestReplicaOfSchema10Records(t *testing.T) {
	src := t.TempDir()
	f := oldSlimStore(t, src, 300)
	var old []entry
	rawView(t, src, func(tx *Tx) {
		it := tx.txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if k[0] == pSchema || k[0] == pDirty {
				continue
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				t.Fatal(err)
			}
			old = append(old, entry{k: k, v: v})
		}
	})
	p := openTest(t, t.TempDir())
	err := p.db.Update(func(txn *badger.Txn) error { // as the schema 10 primary's commit
		for _, e := range old {
			if err := txn.Set(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(t.TempDir(), Options{Replica: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hold := p.Hold()
	defer hold.Release()
	var full bytes.Buffer
	if _, err := hold.WriteSince(&full, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyFull(t.Context(), &full, hold.Version()); err != nil {
		t.Fatal(err)
	}
	view(t, r, func(tx *Tx) error {
		if n, err := tx.count([]byte{pEventSnap}); err != nil || n != len(f.order) {
			t.Errorf("replica holds %d snapshot keys of their own (%v), want the primary's %d", n, err, len(f.order))
		}
		f.check(t, tx)
		return nil
	})
}
