package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// SchemaVersion is the version of the key layout this code reads and
// writes. Open upgrades older stores by running migrations in order and
// refuses stores written by a newer version.
const SchemaVersion = 4

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
	3: removalIndex,
}

// removalIndex fills the removal index (pRemoval) of every room from the
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
		for _, id := range snap.History {
			b, err := read(key(pEvent, id[:]))
			if err != nil {
				return fmt.Errorf("room %s: read event %s: %w", r.ID, id, err)
			}
			e, err := protocol.DecodeStored(b)
			if err != nil {
				return fmt.Errorf("room %s: decode event %s: %w", r.ID, id, err)
			}
			if a, ok := Removed(e); ok {
				if err := txn.Set(key(pRemoval, r.ID[:], nodePart(a.Node()), id[:]), nil); err != nil {
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

// ErrNewerSchema is returned by Open for a store written by a newer Horenso.
var ErrNewerSchema = errors.New("store was written by a newer version of horenso")

func migrate(txn *badger.Txn) error {
	var have uint32
	item, err := txn.Get([]byte{pSchema})
	switch {
	case err == nil:
		v, err := item.ValueCopy(nil)
		if err == nil && len(v) != 4 {
			err = fmt.Errorf("value %x is not 4 bytes", v)
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		have = binary.BigEndian.Uint32(v)
	case !errors.Is(err, badger.ErrKeyNotFound):
		return fmt.Errorf("read schema version: %w", err)
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
