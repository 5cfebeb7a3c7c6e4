package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// SchemaVersion is the version of the key layout this code reads and
// writes. Open upgrades older stores by running migrations in order and
// refuses stores written by a newer version.
const SchemaVersion = 14

// migrations[i] upgrades a store from schema version i to i+1. Version 0
// is an empty store, so migrations[0] sets up a new one.
var migrations = []func(txn *badger.Txn) error{
	0: func(*badger.Txn) error { return nil }, // nothing to set up: every index starts empty
	1: headsRecord,
	// Schema 3 timeline records hold the message's alias and leave out
	// its ID and depth, which their key holds. Schema 2 records are read
	// as they are (timelineEntry) and rewritten when their message is
	// next edited; rewriting them all here could exceed what one
	// transaction may hold. Builds of schema 2 must not read schema 3
	// records, hence the new version.
	2: func(*badger.Txn) error { return nil },
	// Schema 4 room records hold the room's version (Room.Version), so
	// that the node signs each event with it without reading the create.
	3: roomVersions,
	// Schema 5 adds the removal index (pRemoval), filled from each
	// room's control history, and the hidden-event keys (pHidden),
	// which start empty.
	4: removalIndex,
	// Schema 6 adds the chain positions (pChain) and equivocations
	// (pFork) of rooms of version 2, and the node's own chain position in
	// room records (Room.Seq, Room.Last). They start empty: version 2
	// events made before chains have no position, and such rooms (made by
	// development builds) are not supported. Version 1 rooms have no
	// chains. Builds of schema 5 would not keep the index, hence the new
	// version.
	5: func(*badger.Txn) error { return nil },
	// Schema 7 adds what deciding soft-fail from the events alone needs
	// in rooms of version 2: each removal's reach (the pRemoval value),
	// the hidden events by author (pHiddenOf) and the changes of each
	// message and task (pRef), filled here from the hidden events and the
	// events of version 2 rooms.
	6: visibilityIndexes,
	// Schema 8 keys the unforced message list's cursors by token
	// (pCursor), as ChatWork does, instead of by account (pFetched): each
	// token of an account starts from the account's old cursor. And each
	// task has a message alias (its ChatWork message_id), handed out here
	// to the tasks the store holds, in the order of their task aliases.
	7: func(txn *badger.Txn) error {
		if err := tokenCursors(txn); err != nil {
			return err
		}
		return taskMessageAliases(txn)
	},
	// Schema 9 stores control snapshots as deltas from a base snapshot
	// (storage/snapshots.go). Full records keep their format and read as
	// before, so nothing is rewritten; builds of schema 8 would read a
	// delta as a whole snapshot, hence the new version.
	8: func(*badger.Txn) error { return nil },
	// Schema 10 keeps a message's alias in its timeline record only, not
	// also in the alias index: this sets the marker of the cleanup that
	// deletes the index's copies in batches after it (migrate10.go).
	9: startCleanup,
	// Schema 11 keeps an event's snapshot key in its record, and leaves
	// a message's event out of the by-depth index, whose key its
	// timeline record's repeats: this sets the marker of the migration
	// that moves and deletes the keys in batches after it (migrate11.go).
	10: startSlim,
	// Schema 12 keys each event's record by an event sequence number
	// (pEventBody), and its ID by that number (pEvent): this sets the
	// marker of the migration that moves the records in batches after it
	// (migrate12.go).
	11: startBodies,
	// Schema 13 keys the removal index by account (pRemovalOf): this sets
	// the marker of the migration that moves its entries in batches after
	// it (migrate13.go).
	12: startRemovals,
	// Schema 14's removal entries (pRemovalOf) say, after the reach,
	// whether the account revoked itself (PutRemoval). Entries written
	// before are read as they are and written anew when a removal of
	// their account reads them; builds of schema 13 refuse an entry with
	// that byte, hence the new version. Schema 14 also adds the applied
	// control events of each room's current snapshot (pApplied), which
	// start empty.
	13: func(*badger.Txn) error { return nil },
}

// tokenCursors moves each account's fetch cursors (pFetched) to every
// token the account has (pCursor, web sessions included), so that each
// integration goes on where the shared cursor was: it is not sent again
// what was fetched, and loses nothing not yet fetched by anyone. A cursor
// of an account without tokens is dropped: a token made later starts
// afresh, as a new token does. One key per account, room and token, so it
// fits a transaction.
func tokenCursors(txn *badger.Txn) error {
	tx := &Tx{txn: txn, writable: true}
	var old []entry
	err := tx.scan([]byte{pFetched}, nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		old = append(old, entry{k: bytes.Clone(k), v: v})
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("list fetch cursors: %w", err)
	}
	for _, e := range old {
		account, room, ok := bytes.Cut(e.k, []byte{0})
		if !ok || len(room) != len(protocol.RoomID{}) {
			return fmt.Errorf("bad fetch cursor key %x", e.k)
		}
		h := protocol.AccountID(account).Handle()
		toks, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range toks {
			if err := tx.set(key(pCursor, t.Hash[:], room), e.v); err != nil {
				return wrap("move fetch cursor", err)
			}
		}
		if err := tx.delete(key(pFetched, e.k)); err != nil {
			return wrap("move fetch cursor", err)
		}
	}
	return tx.flush(txn)
}

// roomVersions sets each room record's version to its create's, which is
// the event whose ID is the room's. Version 1 is the only one stores of
// schema 3 can hold, but the create says so. One record per room, so it
// fits a transaction.
func roomVersions(txn *badger.Txn) error {
	type update struct{ k, v []byte }
	var ups []update
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pRoom}, PrefetchValues: true})
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return fmt.Errorf("read room %x: %w", k, err)
		}
		ups = append(ups, update{k, v})
	}
	it.Close()
	for _, u := range ups {
		var r Room
		if err := protocol.DecodeRecord(u.v, &r); err != nil {
			return fmt.Errorf("room %x: %w", u.k[1:], err)
		}
		b, err := readEvent(txn, protocol.EventID(r.ID))
		if err != nil {
			return fmt.Errorf("room %s: read create: %w", r.ID, err)
		}
		_, b, _ = splitEvent(b) // written by this build's PutEvent in tests
		create, err := protocol.DecodeStored(b)
		if err != nil {
			return fmt.Errorf("room %s: %w", r.ID, err)
		}
		r.Version = create.Version
		v, err := protocol.EncodeRecord(&r)
		if err != nil {
			return err
		}
		if err := txn.Set(u.k, v); err != nil {
			return err
		}
	}
	return nil
}

// removalIndex fills the removal index (pRemovalOf; pRemoval then) of every room from the
// control events in the history of its current snapshot, which holds every
// control event the node accepted in the room. Rooms have few control
// events, and the index one key per removal, so this fits one transaction.
func removalIndex(txn *badger.Txn) error {
	var rooms []*Room
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pRoom}})
	for it.Rewind(); it.Valid(); it.Next() {
		r := new(Room)
		err := it.Item().Value(func(v []byte) error { return protocol.DecodeRecord(v, r) })
		if err != nil {
			it.Close()
			return fmt.Errorf("read room %x: %w", it.Item().KeyCopy(nil), err)
		}
		rooms = append(rooms, r)
	}
	it.Close()
	read := func(k []byte) ([]byte, error) {
		item, err := txn.Get(k)
		if err != nil {
			return nil, err
		}
		return item.ValueCopy(nil)
	}
	for _, r := range rooms {
		b, err := read(key(pSnapshot, r.Control[:]))
		if err != nil {
			return fmt.Errorf("room %s: read its snapshot: %w", r.ID, err)
		}
		var snap protocol.Snapshot
		if err := protocol.DecodeRecord(b, &snap); err != nil {
			return fmt.Errorf("room %s: decode its snapshot: %w", r.ID, err)
		}
		for id := range snap.History.All() {
			b, err := readEvent(txn, id)
			if err != nil {
				return fmt.Errorf("room %s: read event %s: %w", r.ID, id, err)
			}
			_, b, _ = splitEvent(b)
			e, err := protocol.DecodeStored(b)
			if err != nil {
				return fmt.Errorf("room %s: decode event %s: %w", r.ID, id, err)
			}
			if a, ok := Removed(e); ok {
				if err := txn.Set(removalKey(r.ID, a, id), u64(0)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// headsRecord moves each room's heads from a key per head (pOldHead) to
// one record per room (pHeads).
func headsRecord(txn *badger.Txn) error {
	heads := map[protocol.RoomID][]protocol.Order{}
	var old [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pOldHead}, PrefetchValues: true})
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		v, err := it.Item().ValueCopy(nil)
		if err == nil && (len(k) != 65 || len(v) != 8) {
			err = fmt.Errorf("%d-byte key, %d-byte value, want 65 and 8", len(k), len(v))
		}
		if err != nil {
			it.Close()
			return fmt.Errorf("read head %x: %w", k, err)
		}
		var room protocol.RoomID
		var o protocol.Order
		copy(room[:], k[1:33])
		copy(o.ID[:], k[33:])
		o.Depth = be64(v)
		heads[room] = append(heads[room], o)
		old = append(old, k)
	}
	it.Close()
	for room, hs := range heads {
		b, err := protocol.EncodeRecord(hs)
		if err != nil {
			return err
		}
		if err := txn.Set(key(pHeads, room[:]), b); err != nil {
			return err
		}
	}
	for _, k := range old {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// visibilityIndexes fills removals' reach, pHiddenOf and pRef (see
// SchemaVersion 7). Rooms of version 2 are young (development builds
// made them since schema 6), so their events fit one transaction.
func visibilityIndexes(txn *badger.Txn) error {
	tx := &Tx{txn: txn, writable: true}
	var rooms []*Room
	err := tx.Rooms(func(r *Room) bool {
		if r.Version >= 2 {
			rooms = append(rooms, r)
		}
		return true
	})
	if err != nil {
		return err
	}
	var hidden []protocol.EventID
	err = tx.scan([]byte{pHidden}, nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		var id protocol.EventID
		copy(id[:], k)
		hidden = append(hidden, id)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("list hidden events: %w", err)
	}
	for _, id := range hidden {
		e, err := tx.Event(id)
		if err != nil || e == nil {
			return fmt.Errorf("hidden event %s: %w", id, errors.Join(err, ErrNotFound))
		}
		if err := tx.Hide(e); err != nil {
			return err
		}
	}
	for _, r := range rooms {
		var ids []protocol.EventID
		if err := tx.RoomEvents(r.ID, 0, func(_ uint64, id protocol.EventID) bool {
			ids = append(ids, id)
			return true
		}); err != nil {
			return err
		}
		for _, id := range ids {
			e, err := tx.Event(id)
			if err != nil || e == nil {
				return fmt.Errorf("room %s: event %s: %w", r.ID, id, errors.Join(err, ErrNotFound))
			}
			if target, ok := protocol.Ref(e); ok {
				if err := tx.PutRef(target, id); err != nil {
					return err
				}
			}
			if a, ok := Removed(e); ok {
				reach, err := tx.ChainReach(e, a.Node())
				if err != nil {
					return fmt.Errorf("room %s: %w", r.ID, err)
				}
				if err := tx.PutRemoval(r.ID, e, reach); err != nil {
					return err
				}
			}
		}
	}
	return tx.flush(txn)
}

// ErrNewerSchema is returned by Open for a store written by a newer Horenso.
var ErrNewerSchema = errors.New("store was written by a newer version of horenso")

// schemaVersion returns the store's schema version: 0 for a new store.
func schemaVersion(txn *badger.Txn) (uint32, error) {
	item, err := txn.Get([]byte{pSchema})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	var v []byte
	if err == nil {
		v, err = item.ValueCopy(nil)
	}
	if err == nil && len(v) != 4 {
		err = fmt.Errorf("value %x is not 4 bytes", v)
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return binary.BigEndian.Uint32(v), nil
}

func migrate(txn *badger.Txn) error {
	have, err := schemaVersion(txn)
	if err != nil {
		return err
	}
	if have > SchemaVersion {
		return fmt.Errorf("%w: schema %d, this build reads up to %d", ErrNewerSchema, have, SchemaVersion)
	}
	for v := have; v < SchemaVersion; v++ {
		if err := migrations[v](txn); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, SchemaVersion))
}

// taskMessageAliases gives every task without one an alias in the message
// ID space (AliasMessage), in the order of the tasks' own aliases: three
// keys per task, so it fits a transaction.
func taskMessageAliases(txn *badger.Txn) error {
	tx := &Tx{txn: txn, writable: true}
	var ids [][]byte
	err := tx.scan(key(pAliasOf, []byte{byte(AliasTask)}), nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		ids = append(ids, v)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.Alias(AliasMessage, id); err != nil {
			return fmt.Errorf("task %x: %w", id, err)
		}
	}
	return tx.flush(txn)
}

// readEvent returns the record of event id in an Open's migration
// transaction, as Tx.eventValue does: a store of an old schema holds it
// under pEvent, but tests write such stores with this build's PutEvent.
func readEvent(txn *badger.Txn, id protocol.EventID) ([]byte, error) {
	get := func(k []byte) ([]byte, error) {
		item, err := txn.Get(k)
		if err != nil {
			return nil, err
		}
		return item.ValueCopy(nil)
	}
	b, err := get(key(pEvent, id[:]))
	if err != nil || len(b) != eventPointerLen {
		return b, err
	}
	return get(key(pEventBody, b))
}
