package storage

import (
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Schema 13 keys the removal index by account (pRemovalOf: room, node,
// handle, event), not by node alone (pRemoval: room, node, event), so that
// a removal finds the earlier removals of its account without going over
// those of every account of its node (see PutRemoval).
//
// A store holds a key per removal, which may be more than a transaction
// holds, so the move runs as the schema 12 one does (migrate12.go):
// migrations[12] sets the marker pRemovals if the store has a pRemoval key;
// moveRemovals then moves them in batches, each a synced commit that moves
// the marker on, and deletes the marker with the last one. Nothing but
// Open reads the index before it is done. Builds of schema 12 would read
// no removal, hence the new version.

// removalsInterruptForTest, if set, is called after each commit of
// moveRemovals; an error from it stops the migration there, as a killed
// process would.
var removalsInterruptForTest func(batches int) error

// startRemovals is migrations[12]: it sets the marker, so that
// moveRemovals runs once the schema version is set, if the store holds
// any removal in the old layout.
func startRemovals(txn *badger.Txn) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pRemoval}})
	defer it.Close()
	if it.Rewind(); it.Valid() {
		return txn.Set([]byte{pRemovals}, nil)
	}
	return nil
}

// moveRemovals moves each removal index entry from pRemoval to
// pRemovalOf, in commits of their own, from where the marker pRemovals
// says it stopped, and then deletes the marker. An entry of a build that
// did not keep the removed account's handle in it gets it from its event.
// It does nothing if the marker is not set. Open runs it after
// moveEventBodies, before the writer starts.
func moveRemovals(db *badger.DB, log *slog.Logger) error {
	r := rewrite{
		marker: pRemovals,
		phases: [][]byte{{pRemoval}},
		step: func(tx *Tx, _ int, k []byte, val func() ([]byte, error)) error {
			v, err := val()
			if err != nil {
				return err
			}
			if err := moveRemoval(tx, k, v); err != nil {
				return fmt.Errorf("removal %x: %w", k, err)
			}
			return tx.delete(key(pRemoval, k))
		},
		what:      "store migration to schema 13",
		doing:     "keying the removal index by account",
		interrupt: removalsInterruptForTest,
	}
	return r.run(db, log)
}

// moveRemoval writes the pRemovalOf entry of the pRemoval entry k (room,
// node, 0x00, event ID) with value v (reach, then the handle if kept),
// unless it is there already: the schema 7 migration of this build writes
// the new layout, with the reach, over a schema 5 store's entries without.
func moveRemoval(tx *Tx, k, v []byte) error {
	rl, il := len(protocol.RoomID{}), len(protocol.EventID{})
	if len(k) < rl+1+il || k[len(k)-il-1] != 0 {
		return fmt.Errorf("bad key")
	}
	room, node, id := protocol.RoomID(k[:rl]), protocol.NodeID(k[rl:len(k)-il-1]), protocol.EventID(k[len(k)-il:])
	var reach uint64
	var handle protocol.Handle
	if len(v) >= 8 {
		reach, handle = be64(v), protocol.Handle(v[8:])
	}
	if handle == "" {
		e, err := tx.Event(id)
		if err != nil {
			return err
		}
		if e == nil {
			return nil // nothing to say what it removed, nor to hide
		}
		a, ok := Removed(e)
		if !ok || a.Node() != node {
			return fmt.Errorf("event %s removes no account of %s", id, node.Short())
		}
		handle = a.Handle()
	}
	a := protocol.NewAccountID(node, handle)
	if ok, err := tx.has(removalKey(room, a, id)); ok || err != nil {
		return err
	}
	return tx.putRemovalEntry(room, a, id, reach)
}
