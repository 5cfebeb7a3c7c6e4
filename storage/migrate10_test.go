package storage

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// aliasFixture is a store of schema 9 as it was written: every message's
// alias in both its timeline record and the alias index.
type aliasFixture struct {
	room     protocol.RoomID
	messages map[protocol.EventID]uint64 // shown messages and their aliases
	kept     map[protocol.EventID]uint64 // aliases the index must keep: a task's, a hidden message's, a schema 2 record's
}

// oldAliasStore writes n messages, a task alias, a hidden message and a
// schema 2 timeline record into a store in dir, then puts every
// message's alias back into the alias index and the schema version back
// to 9, as a schema 9 build left them.
func oldAliasStore(t *testing.T, dir string, n int) *aliasFixture {
	t.Helper()
	f := &aliasFixture{room: protocol.RoomID{7}, messages: map[protocol.EventID]uint64{}, kept: map[protocol.EventID]uint64{}}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, sk, _ := ed25519.GenerateKey(nil)
	events := map[*Message]*protocol.Signed{}
	depths := map[protocol.EventID]uint64{}
	msg := func(i int) *Message {
		e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: f.room, Author: "a", Prev: []protocol.EventID{{1}}, Depth: uint64(i + 1), Time: int64(i)},
			&protocol.MessagePost{Body: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		m := &Message{Message: *protocol.NewMessage(e)}
		events[m] = e
		return m
	}
	for from := 0; from < n; from += 500 {
		var ms []*Message
		for i := from; i < min(from+500, n); i++ {
			ms = append(ms, msg(i))
		}
		update(t, s, func(tx *Tx) error {
			for _, m := range ms {
				if err := tx.PutEvent(events[m], protocol.SnapshotKey{}); err != nil {
					return err
				}
				var err error
				if m.Alias, err = tx.Alias(AliasMessage, m.ID[:]); err != nil {
					return err
				}
				f.messages[m.ID] = m.Alias
				depths[m.ID] = m.Depth
				if err := tx.PutMessage(f.room, m); err != nil {
					return err
				}
			}
			return nil
		})
	}
	task := protocol.EventID{0xee, 1}
	hidden := msg(n + 1)
	update(t, s, func(tx *Tx) error {
		a, err := tx.Alias(AliasMessage, task[:])
		f.kept[task] = a
		if err != nil {
			return err
		}
		if err := tx.PutEvent(events[hidden], protocol.SnapshotKey{}); err != nil {
			return err
		}
		if hidden.Alias, err = tx.Alias(AliasMessage, hidden.ID[:]); err != nil {
			return err
		}
		f.kept[hidden.ID] = hidden.Alias
		return tx.PutMessage(f.room, hidden)
	})
	update(t, s, func(tx *Tx) error { return tx.DeleteMessage(f.room, hidden) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	old := msg(n + 2) // schema 2: the record holds no alias
	f.kept[old.ID] = 999_999
	v, err := protocol.EncodeRecord(&old.Message)
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string][]byte{
		string(key(pEvent, old.ID[:])):                               events[old].Wire(),
		string(key(pTimeline, f.room[:], u64(old.Depth), old.ID[:])): v,
		string(key(pMessage, old.ID[:])):                             append(f.room[:], u64(old.Depth)...),
		string(key(pAlias, []byte{byte(AliasMessage)}, old.ID[:])):   u64(999_999),
		string(key(pSchema)):                                         binary.BigEndian.AppendUint32(nil, 9),
	}
	for id, a := range f.messages {
		sets[string(key(pAlias, []byte{byte(AliasMessage)}, id[:]))] = u64(a)
		sets[string(key(pMessage, id[:]))] = append(f.room[:], u64(depths[id])...)
	}
	rawWrite(t, dir, func(_ *badger.DB, wb *badger.WriteBatch) error {
		for k, v := range sets {
			if err := wb.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

// check checks that every alias of f reads as before, both ways, and
// that the alias index holds the kept ones and want others.
func (f *aliasFixture) check(t *testing.T, s *Store, want int) {
	t.Helper()
	view(t, s, func(tx *Tx) error {
		for _, m := range []map[protocol.EventID]uint64{f.messages, f.kept} {
			for id, a := range m {
				if got, err := tx.LookupAlias(AliasMessage, id[:]); err != nil || got != a {
					t.Fatalf("alias of %s = %d, %v; want %d", id, got, err, a)
				}
				if a == 999_999 {
					continue // written without its pAliasOf key
				}
				if got, err := tx.Resolve(AliasMessage, a); err != nil || protocol.EventID(got) != id {
					t.Fatalf("alias %d resolves to %x, %v; want %s", a, got, err, id)
				}
			}
		}
		for id, a := range f.kept {
			if b, err := tx.get(key(pAlias, []byte{byte(AliasMessage)}, id[:])); err != nil || be64(b) != a {
				t.Errorf("alias index of %s = %x, %v; want %d kept", id, b, err, a)
			}
		}
		if n, err := tx.count([]byte{pMessage}); err != nil || n != 0 {
			t.Errorf("%d message locations left (%v), want none", n, err)
		}
		for id := range f.messages {
			if _, m, err := tx.Message(id); err != nil || m.ID != id || m.Alias != f.messages[id] {
				t.Fatalf("message %s = %v, %v; want it with alias %d", id, m, err, f.messages[id])
			}
		}
		if n, err := tx.count(key(pAlias, []byte{byte(AliasMessage)})); err != nil || n != want+len(f.kept) {
			t.Errorf("alias index holds %d message aliases (%v), want %d", n, err, want+len(f.kept))
		}
		ms, err := tx.Messages(f.room, protocol.Order{}, false, 3)
		if err != nil || len(ms) != 3 || ms[2].Alias != 999_999 {
			t.Errorf("newest messages = %v, %v; want 3, the newest with alias 999999", ms, err)
		}
		return nil
	})
}

// TestMigrateMessageAliases opens a schema 9 store of more messages than
// one cleanup batch takes, and finds the alias index holding only the
// aliases no timeline record holds, every alias reading as before.
func TestMigrateMessageAliases(t *testing.T) {
	dir := t.TempDir()
	f := oldAliasStore(t, dir, 2*cleanupBatch+7)
	s := openTest(t, dir)
	f.check(t, s, 0)
	view(t, s, func(tx *Tx) error {
		if ok, err := tx.has([]byte{pCleanup}); ok || err != nil {
			t.Errorf("cleanup marker left: %v, %v", ok, err)
		}
		return nil
	})
}

// TestMigrateMessageAliasesResumes interrupts the cleanup after its first
// batch (its hook makes Open fail there) and opens the store again: the
// store is of schema 10 and readable in between, and the second Open
// finishes the cleanup.
func TestMigrateMessageAliasesResumes(t *testing.T) {
	dir := t.TempDir()
	f := oldAliasStore(t, dir, 2*cleanupBatch+7)
	errStop := errors.New("stopped")
	cleanupInterruptForTest = func(int) error { return errStop }
	_, err := Open(dir, Options{})
	cleanupInterruptForTest = nil
	if !errors.Is(err, errStop) {
		t.Fatalf("open with the cleanup interrupted: %v, want %v", err, errStop)
	}
	f.checkRaw(t, dir)
	s := openTest(t, dir)
	f.check(t, s, 0)
}

// checkRaw checks, with Badger alone, that the store in dir is of this
// build's schema (10 or later: Open migrates on) with the cleanup under way, and that only some message aliases
// are gone from the index, at least a batch of them.
func (f *aliasFixture) checkRaw(t *testing.T, dir string) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		tx := &Tx{txn: txn}
		v, err := schemaVersion(txn)
		if err != nil || v != SchemaVersion {
			t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion)
		}
		if ok, err := tx.has([]byte{pCleanup}); !ok || err != nil {
			t.Errorf("no cleanup marker: %v, %v", ok, err)
		}
		n, err := tx.count(key(pAlias, []byte{byte(AliasMessage)}))
		left := n - len(f.kept)
		if gone := len(f.messages) - left; err != nil || left <= 0 || gone < cleanupBatch-len(f.kept) {
			t.Errorf("%d message aliases left in the index (%v) of %d, want some, and a batch of %d gone", left, err, len(f.messages), cleanupBatch)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMessageAliasOnce checks that a message's alias is kept in its
// timeline record only, reads the same through every path, survives the
// message being hidden and shown again, and is not handed out twice.
func TestMessageAliasOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	room := protocol.RoomID{3}
	_, sk, _ := ed25519.GenerateKey(nil)
	e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: room, Author: "a", Prev: []protocol.EventID{{1}}, Depth: 2}, &protocol.MessagePost{Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{Message: *protocol.NewMessage(e)}
	mk := key(pAlias, []byte{byte(AliasMessage)}, m.ID[:])
	update(t, s, func(tx *Tx) error {
		if err := tx.PutEvent(e, protocol.SnapshotKey{}); err != nil {
			return err
		}
		var err error
		if m.Alias, err = tx.Alias(AliasMessage, m.ID[:]); err != nil {
			return err
		}
		if err := tx.PutMessage(room, m); err != nil {
			return err
		}
		if got, err := tx.LookupAlias(AliasMessage, m.ID[:]); err != nil || got != m.Alias {
			t.Errorf("alias in the same update = %d, %v; want %d", got, err, m.Alias)
		}
		return nil
	})
	aliasIs := func(when string, inIndex bool) {
		t.Helper()
		update(t, s, func(tx *Tx) error {
			if got, err := tx.Alias(AliasMessage, m.ID[:]); err != nil || got != m.Alias {
				t.Errorf("%s: Alias = %d, %v; want %d", when, got, err, m.Alias)
			}
			if ok, err := tx.has(mk); ok != inIndex || err != nil {
				t.Errorf("%s: in the alias index: %v (%v), want %v", when, ok, err, inIndex)
			}
			return nil
		})
		view(t, s, func(tx *Tx) error {
			if got, err := tx.LookupAlias(AliasMessage, m.ID[:]); err != nil || got != m.Alias {
				t.Errorf("%s: LookupAlias = %d, %v; want %d", when, got, err, m.Alias)
			}
			if got, err := tx.Resolve(AliasMessage, m.Alias); err != nil || protocol.EventID(got) != m.ID {
				t.Errorf("%s: Resolve = %x, %v; want %s", when, got, err, m.ID)
			}
			return nil
		})
	}
	aliasIs("posted", false)
	update(t, s, func(tx *Tx) error { return tx.DeleteMessage(room, m) })
	aliasIs("hidden", true)
	update(t, s, func(tx *Tx) error { return tx.PutMessage(room, m) })
	aliasIs("shown again", true)
	update(t, s, func(tx *Tx) error {
		next := protocol.EventID{10}
		n, err := tx.Alias(AliasMessage, next[:])
		if err == nil && n != m.Alias+1 {
			t.Errorf("next alias %d, want %d", n, m.Alias+1)
		}
		return err
	})
}
