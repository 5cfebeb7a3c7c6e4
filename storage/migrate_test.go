package storage

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// TestMigrateHeadsRecord opens a schema 1 store, whose heads are a key per
// head, and finds them as one record per room.
func TestMigrateHeadsRecord(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	room := protocol.RoomID{7}
	want := []protocol.Order{{Depth: 3, ID: protocol.EventID{1}}, {Depth: 4, ID: protocol.EventID{2}}}
	err = db.Update(func(txn *badger.Txn) error {
		for _, h := range want {
			if err := txn.Set(key(pOldHead, room[:], h.ID[:]), u64(h.Depth)); err != nil {
				return err
			}
		}
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		got, err := tx.Heads(room)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("heads after migration = %v, %v; want %v", got, err, want)
		}
		if ok, _ := tx.has(key(pOldHead, room[:], want[0].ID[:])); ok {
			t.Error("old head keys left behind")
		}
		return nil
	})
}
