package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	start := time.Now()
	for batches := 1; ; batches++ {
		done := false
		err := db.Update(func(txn *badger.Txn) error {
			item, err := txn.Get([]byte{pSlim})
			if errors.Is(err, badger.ErrKeyNotFound) {
				done = true
				return nil
			}
			var marker []byte
			if err == nil {
				marker, err = item.ValueCopy(nil)
			}
			if err != nil {
				return fmt.Errorf("read schema 11 marker: %w", err)
			}
			tx := &Tx{txn: txn, writable: true}
			phase, from := pEventSnap, []byte(nil)
			if len(marker) > 0 {
				phase, from = marker[0], marker[1:]
			}
			prefix := []byte{phase}
			var last []byte
			n := 0
			err = tx.scan(prefix, append(bytes.Clone(prefix), from...), false, func(k []byte, val func() ([]byte, error)) (bool, error) {
				if len(marker) > 1 && bytes.Equal(k, from) {
					return true, nil // dealt with by the batch before
				}
				if n == cleanupBatch || tx.size > slimBatchBytes {
					return false, nil
				}
				n++
				last = bytes.Clone(k)
				if phase == pEventSnap {
					return true, slimEvent(tx, k, val)
				}
				return true, slimRoomEvent(tx, k)
			})
			if err != nil {
				return fmt.Errorf("migrate to schema 11 %#x: %w", phase, err)
			}
			switch {
			case n > 0 && (n == cleanupBatch || tx.size > slimBatchBytes):
				err = tx.set([]byte{pSlim}, append([]byte{phase}, last...))
			case phase == pEventSnap:
				err = tx.set([]byte{pSlim}, []byte{pTimeline})
			default:
				done = true
				err = tx.delete([]byte{pSlim})
			}
			if err != nil {
				return err
			}
			return tx.flush(txn)
		})
		if err != nil {
			return err
		}
		if done {
			if batches > 1 {
				log.Info("store migration to schema 11 done", "commits", batches, "took", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if batches == 1 {
			log.Info("store migration to schema 11 under way: moving snapshot keys into event records, dropping by-depth keys of messages")
		}
		if slimInterruptForTest != nil {
			if err := slimInterruptForTest(batches); err != nil {
				return err
			}
		}
	}
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
