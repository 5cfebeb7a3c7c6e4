package storage

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkEventSnapshot measures reading the snapshot keys of 50 random
// events of a store of 20,000 (what a page of messages does for history
// visibility, node.textReadable), in a View, the schema 11 way (the head
// of the event's record, "record") and the schema 10 way (a key of its
// own, "own-key", written beside for the comparison), in one store opened
// with the Store's options, its tables on disk.
func BenchmarkEventSnapshot(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	_, sk, _ := ed25519.GenerateKey(nil)
	room := protocol.RoomID{4}
	var ids []protocol.EventID
	for from := 0; from < 20_000; from += 1000 {
		err := s.Update(b.Context(), func(tx *Tx) error {
			for i := from; i < from+1000; i++ {
				e, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: room, Author: "a", Prev: []protocol.EventID{{1}}, Depth: uint64(i + 1), Time: int64(i)},
					&protocol.MessagePost{Body: fmt.Sprintf("%0100d", i)})
				if err != nil {
					return err
				}
				ids = append(ids, e.ID)
				snap := protocol.SnapshotKey{byte(i % 7)}
				if err := tx.PutEvent(e, snap); err != nil {
					return err
				}
				if err := tx.set(key(pEventSnap, e.ID[:]), snap[:]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.db.Flatten(1); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	page := func() []protocol.EventID {
		out := make([]protocol.EventID, 50)
		for i := range out {
			out[i] = ids[r.IntN(len(ids))]
		}
		return out
	}
	for _, way := range []struct {
		name string
		read func(tx *Tx, id protocol.EventID) error
	}{
		{"record", func(tx *Tx, id protocol.EventID) error { _, err := tx.EventSnapshot(id); return err }},
		{"own-key", func(tx *Tx, id protocol.EventID) error { _, err := tx.get(key(pEventSnap, id[:])); return err }},
	} {
		b.Run(way.name, func(b *testing.B) {
			for b.Loop() {
				ids := page()
				err := s.db.View(func(txn *badger.Txn) error {
					tx := &Tx{txn: txn}
					for _, id := range ids {
						if err := way.read(tx, id); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
