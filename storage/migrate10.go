package storage

import (
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Schema 10 keeps what a message's post event and timeline record hold
// once: the alias index (pAlias) no longer holds the aliases of messages
// whose timeline record does (see timelineAlias), and the message
// locations (pMessage, room and depth) are gone, since the post event
// holds both (see messageKey). That is two keys of ~40 bytes on disk
// less per message (docs/PERFORMANCE.md, "Disk bytes per message").
//
// The 9→10 migration deletes those keys, two per message, which for a
// large store is far more than one transaction holds. So it runs in two
// steps. migrations[9], inside Open's migration transaction, sets the
// schema version to 10 and the cleanup marker (pCleanup), whose value is
// the last key dealt with (none at first). Then cleanupAliases deletes
// the keys in batches, each its own synced commit that also moves the
// marker on, and deletes the marker with the last batch. A process killed
// in between leaves schema 10 with the marker set: the next Open goes on
// from the marker. Either way the store is readable at any point, since
// schema 10 reads a message's alias from its timeline record first and
// from the alias index otherwise, and never reads pMessage; and builds of schema 9, which would miss
// the deleted keys, refuse it from the first step on.

// cleanupBatch is how many alias keys a cleanup commit looks at: with
// its deletions, well within what a transaction holds at the smallest
// memtable (about 15% of it; a deletion costs ~70 bytes).
const cleanupBatch = 2000

// cleanupInterruptForTest, if set, is called after each cleanup commit;
// an error from it stops the cleanup there, as a killed process would.
var cleanupInterruptForTest func(batches int) error

// startCleanup is migrations[9]: it sets the cleanup marker, so that
// cleanupAliases runs once the schema version is set, if the store holds
// any message location or message alias (a new store holds neither).
func startCleanup(txn *badger.Txn) error {
	for _, prefix := range [][]byte{{pMessage}, key(pAlias, []byte{byte(AliasMessage)})} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		it.Rewind()
		found := it.Valid()
		it.Close()
		if found {
			return txn.Set([]byte{pCleanup}, nil)
		}
	}
	return nil
}

// cleanupAliases deletes, in batches of commits of their own, first the
// alias index entries of messages whose timeline record holds the same
// alias, then every message location (pMessage), from where the cleanup
// marker says it stopped, and then the marker. It does nothing if the
// marker is not set. Open runs it after migrating, before the writer
// starts. The marker's value is the phase (pAlias or pMessage) and the
// last key of it dealt with, without prefix; empty at the start.
func cleanupAliases(db *badger.DB, log *slog.Logger) error {
	r := rewrite{
		marker: pCleanup,
		phases: [][]byte{key(pAlias, []byte{byte(AliasMessage)}), {pMessage}},
		step: func(tx *Tx, phase int, k []byte, val func() ([]byte, error)) error {
			if phase == 1 {
				return tx.delete(key(pMessage, k))
			}
			return cleanupAlias(tx, k, val)
		},
		what:      "store cleanup of schema 10",
		doing:     "deleting the copies of message aliases and locations",
		interrupt: cleanupInterruptForTest,
	}
	return r.run(db, log)
}

// cleanupAlias deletes the alias index entry k (an event ID) with the
// value val returns if the event's timeline record holds the same alias.
func cleanupAlias(tx *Tx, k []byte, val func() ([]byte, error)) error {
	if len(k) != len(protocol.EventID{}) {
		return nil // not an event's: keep it
	}
	v, err := val()
	if err != nil {
		return err
	}
	alias, err := tx.timelineAlias(protocol.EventID(k))
	if err != nil {
		return err
	}
	if len(v) == 8 && alias == be64(v) {
		return tx.delete(key(pAlias, []byte{byte(AliasMessage)}, k))
	}
	return nil
}
