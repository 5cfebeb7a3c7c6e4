package storage

import (
	"errors"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Schema 11 carries the random 32-byte event ID in two records fewer per
// message, each ~40 bytes on disk whatever else it holds
// (docs/PERFORMANCE.md, "Disk bytes per message"):
//
//   - The key of the control snapshot after an event is in the event's
//     record (pEvent, see eventRecord), not under a key of its own
//     (pEventSnap): one read gives both, as before.
//   - The room's by-depth index (pRoomEvent) leaves out the events that
//     have a timeline record (pTimeline): its key is the same room, depth
//     and event ID, and RoomEvents walks both prefixes in step.
//
// The 10→11 migration rewrites every event record and deletes a key or
// two per event, far more than one transaction holds, so it runs as the
// schema 10 cleanup does (migrate10.go): migrations[10], inside Open's
// migration transaction, sets the schema version to 11 and the marker
// pSlim; slimEvents then works in batches, each a synced commit that
// moves the marker on, and deletes the marker with the last one. A
// process killed in between leaves schema 11 with the marker set, and the
// next Open goes on from it. The store reads right at every point:
// EventSnapshot falls back to pEventSnap for a record without the
// snapshot key, and RoomEvents calls an event that is in both prefixes
// once. Builds of schema 10 refuse the store from the first step on.

// slimBatchBytes bounds what one commit of slimEvents writes (its
// transaction's estimated size), as cleanupBatch bounds the keys it looks
// at: an event record is rewritten whole (~450 bytes).
const slimBatchBytes = 256 << 10

// slimInterruptForTest, if set, is called after each commit of
// slimEvents; an error from it stops the migration there, as a killed
// process would.
var slimInterruptForTest func(batches int) error

// startSlim is migrations[10]: it sets the marker, so that slimEvents
// runs once the schema version is set, if the store holds any event
// snapshot key or timeline record (a new store holds neither).
func startSlim(txn *badger.Txn) error {
	for _, prefix := range []byte{pEventSnap, pTimeline} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefix}})
		it.Rewind()
		found := it.Valid()
		it.Close()
		if found {
			return txn.Set([]byte{pSlim}, nil)
		}
	}
	return nil
}

// slimEvents moves each event's snapshot key (pEventSnap) into its record
// (pEvent), then deletes the by-depth index keys (pRoomEvent) of events
// that have a timeline record, in commits of their own, from where the
// marker pSlim says it stopped, and then deletes the marker. It does
// nothing if the marker is not set. Open runs it after migrating, before
// the writer starts. The marker's value is the phase (pEventSnap or
// pTimeline) and the last key of it dealt with, without prefix; empty at
// the start.
func slimEvents(db *badger.DB, log *slog.Logger) error {
	r := rewrite{
		marker:   pSlim,
		phases:   [][]byte{{pEventSnap}, {pTimeline}},
		maxBytes: slimBatchBytes,
		step: func(tx *Tx, phase int, k []byte, val func() ([]byte, error)) error {
			if phase == 0 {
				return slimEvent(tx, k, val)
			}
			return slimRoomEvent(tx, k)
		},
		what:      "store migration to schema 11",
		doing:     "moving snapshot keys into event records, dropping by-depth keys of messages",
		interrupt: slimInterruptForTest,
	}
	return r.run(db, log)
}

// slimEvent moves the snapshot key k (an event ID) with the value val
// returns into the event's record, unless that holds one already, and
// deletes k.
func slimEvent(tx *Tx, k []byte, val func() ([]byte, error)) error {
	if len(k) == len(protocol.EventID{}) {
		snap, err := val()
		if err != nil {
			return err
		}
		b, err := tx.get(key(pEvent, k))
		switch {
		case errors.Is(err, ErrNotFound):
			// No event: nothing to move it to.
		case err != nil:
			return err
		case len(snap) == len(protocol.SnapshotKey{}):
			if _, wire, ok := splitEvent(b); !ok {
				// The bare record must not outlive the new one: a backup
				// stops at this version, a compaction drops the older.
				if err := tx.setDiscard(key(pEvent, k), eventRecord(protocol.SnapshotKey(snap), wire)); err != nil {
					return err
				}
			}
		}
	}
	return tx.delete(key(pEventSnap, k))
}

// slimRoomEvent deletes the by-depth index key of the event whose
// timeline record's key is k (room, depth, event ID), if there is one.
func slimRoomEvent(tx *Tx, k []byte) error {
	rk := key(pRoomEvent, k)
	ok, err := tx.has(rk)
	if err != nil || !ok {
		return err
	}
	return tx.delete(rk)
}
