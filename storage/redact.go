package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Dropping text: when a message is deleted, edited or expires in a room of
// version 3 or later, the node replaces the stored event (its record under
// pEventBody, or pEvent before the schema 12 migration) with its
// redacted form (RedactEvent) and the message's timeline record with one
// without the text (PutMessage). Badger does not overwrite: a new value is
// a new version of the key, and the old one stays in the memtable, its
// write-ahead file (.mem) and the table files until a compaction that
// holds both versions drops the older (NumVersionsToKeep is 1). And
// Badger's backup streams every version it still holds, not only the
// latest. So both writes set the discard-earlier-versions bit
// (setDiscard): a backup stops at that version, and any compaction drops
// the older ones. Purge forces what is left: it flushes the memtables and
// compacts every level into one, after which no file of the store holds
// the old values.

// RedactEvent replaces the stored event id with its redacted form (see
// protocol.Signed.Redact), with its earlier versions to be discarded. It
// reports whether anything changed: false if the store does not hold the
// event, it is redacted already, or its payload may not be dropped (a
// room of version 1 or 2, or a type whose payload rooms depend on).
func (tx *Tx) RedactEvent(id protocol.EventID) (bool, error) {
	k := key(pEvent, id[:])
	b, err := tx.get(k)
	if err == nil && len(b) == eventPointerLen {
		k = key(pEventBody, b) // schema 12 on: the record is there
		b, err = tx.get(k)
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redact event %s: %w", id, err)
	}
	snap, wire, header := splitEvent(b)
	e, err := protocol.DecodeStored(wire)
	if err != nil {
		return false, fmt.Errorf("redact event %s: %w", id, err)
	}
	if e.Redacted() || !e.Redactable() {
		return false, nil
	}
	r, err := e.Redact()
	if err != nil {
		return false, fmt.Errorf("redact event: %w", err)
	}
	v := r.Wire()
	if header {
		v = eventRecord(snap, v)
	}
	delete(tx.stored, id)
	return true, wrap("redact event", tx.setDiscard(k, v))
}

// Purge makes what RedactEvent and PutMessage replaced leave the store's
// files: it flushes Badger's memtables (whose write-ahead files hold the
// old values) by dropping a marker key written for the purpose, then
// compacts every level of the tree into one, which drops every version a
// newer one replaced. Writes wait while the memtables are flushed, and
// the compaction rewrites the whole store: run it seldom (the node does
// after its retention job redacted something, at most once a day).
// Deleted files may still sit in free blocks of the filesystem.
func (s *Store) Purge() error {
	if !s.space.ok() {
		return fmt.Errorf("purge store: %w", ErrDiskFull)
	}
	// DropPrefix refuses writes while it flushes the memtables (leaving
	// out the prefix) and then compacts level 0 into the base level,
	// dropping replaced versions there: it runs on the writer, so that
	// Updates wait for it rather than fail. Flatten, which merges the
	// deeper levels, lets writes go on.
	err := s.exclusively(context.Background(), func() error {
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte{pPurge}, nil) }); err != nil {
			return err
		}
		return s.db.DropPrefix([]byte{pPurge})
	})
	if err == nil {
		err = s.db.Flatten(1)
	}
	if err == nil {
		// Message text lives in the tree, not the value log, which
		// holds only large rooms' full control snapshots, never deleted:
		// this finds nothing to rewrite, but keeps it so should that
		// change.
		if err = s.db.RunValueLogGC(0.5); errors.Is(err, badger.ErrNoRewrite) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("purge store: %w", err)
	}
	return nil
}
