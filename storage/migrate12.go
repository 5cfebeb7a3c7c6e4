package storage

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Schema 12 keys each event's record (eventRecord, ~450 bytes) by an event
// sequence number the node hands out as it stores events (pEventBody), and
// the event's ID (pEvent) by that number alone, 8 bytes: see PutEvent for
// why. For the same reason it keys the count of this node's events kept
// for each of them (PutOwnCount) by room and chain position (pOwnCount),
// not by the event's ID (pAcked).
//
// The 11→12 migration rewrites every event record and own count, far more
// than one transaction holds, so it runs as the schema 11 one does
// (migrate11.go): migrations[11], inside Open's migration transaction,
// sets the schema version to 12 and the marker pBodies; moveEventBodies
// then works in batches, each a synced commit that moves the marker on,
// and deletes the marker with the last one. A process killed in between
// leaves schema 12 with the marker set, and the next Open goes on from it.
// The store reads right at every point: a pEvent value is a sequence
// number or, not yet moved, the record itself (Tx.eventValue tells them
// apart by length); own counts are read by the node only, which does not
// start before the migration is done. Builds of schema 11 refuse the store
// from the first step on.

// bodiesBatchBytes bounds what one commit of moveEventBodies writes.
const bodiesBatchBytes = 256 << 10

// bodiesInterruptForTest, if set, is called after each commit of
// moveEventBodies; an error from it stops the migration there, as a
// killed process would.
var bodiesInterruptForTest func(batches int) error

// startBodies is migrations[11]: it sets the marker, so that
// moveEventBodies runs once the schema version is set, if the store holds
// any event (a new store holds none).
func startBodies(txn *badger.Txn) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
	defer it.Close()
	if it.Rewind(); it.Valid() {
		return txn.Set([]byte{pBodies}, nil)
	}
	return nil
}

// moveEventBodies moves each event record from under its event ID
// (pEvent) to under the next event sequence number (pEventBody), leaving
// the number under the ID, in commits of their own, from where the marker
// pBodies says it stopped, and then deletes the marker. It does nothing if
// the marker is not set. Open runs it after slimEvents, before the writer
// starts.
func moveEventBodies(db *badger.DB, log *slog.Logger) error {
	r := rewrite{
		marker:   pBodies,
		phases:   [][]byte{{pEvent}, {pAcked}},
		maxBytes: bodiesBatchBytes,
		step: func(tx *Tx, phase int, k []byte, val func() ([]byte, error)) error {
			if phase == 1 {
				return moveOwnCount(tx, k, val)
			}
			v, err := val()
			if err != nil || len(v) == eventPointerLen {
				return err // moved already
			}
			seq, err := tx.nextEventSeq()
			if err != nil {
				return err
			}
			if err := tx.set(key(pEventBody, seq), v); err != nil {
				return err
			}
			// The record must not outlive its move under the old key: a
			// backup stops at this version, a compaction drops the older.
			return tx.setDiscard(key(pEvent, k), seq)
		},
		what:      "store migration to schema 12",
		doing:     "keying event records by sequence, and own counts by room and position",
		interrupt: bodiesInterruptForTest,
	}
	return r.run(db, log)
}

// moveOwnCount moves the entry of pAcked under event ID k, whose value
// val returns, to pOwnCount under the event's room and chain position,
// if it is one of this node's events (a 16-byte value: schema 6 stores
// also wrote 8 bytes for others' events, which nothing reads), and
// deletes it.
func moveOwnCount(tx *Tx, k []byte, val func() ([]byte, error)) error {
	v, err := val()
	if err != nil {
		return err
	}
	if len(v) == 16 && len(k) == len(protocol.EventID{}) {
		b, err := tx.eventValue(protocol.EventID(k))
		switch {
		case errors.Is(err, ErrNotFound):
			// No event: nothing reads its count.
		case err != nil:
			return err
		default:
			_, wire, _ := splitEvent(b)
			e, err := protocol.DecodeStored(wire)
			if err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			if err := tx.PutOwnCount(e.RoomID(), be64(v[:8]), be64(v[8:])); err != nil {
				return err
			}
		}
	}
	return tx.delete(key(pAcked, k))
}
