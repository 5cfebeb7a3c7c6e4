package storage

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// oldRemovalsStore writes a store of schema 12 into dir whose removal
// index (pRemoval) holds n entries with the removed account's handle in
// their value, removals of accounts of two nodes, the first account's
// twice; and one entry without it, as builds before 2026-12-06 wrote,
// whose member.remove event the store holds. It returns what Removals
// should list for each node after the migration.
func oldRemovalsStore(t *testing.T, dir string, n int) (protocol.RoomID, map[protocol.NodeID][]Removal) {
	t.Helper()
	_, sk, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	nodes := []protocol.NodeID{
		protocol.NodeIDFromKey(sk.Public().(ed25519.PublicKey)),
		protocol.NodeIDFromKey(other.Public().(ed25519.PublicKey)),
	}
	room := protocol.RoomID{13}
	target := protocol.NewAccountID(nodes[1], "carol")
	remove, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: room, Author: "alice", Prev: []protocol.EventID{{1}}, Depth: 2, Time: 1},
		&protocol.MemberRemove{Account: target})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error { return tx.PutEvent(remove, protocol.SnapshotKey{1}) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[protocol.NodeID][]Removal{}
	rawWrite(t, dir, func(_ *badger.DB, wb *badger.WriteBatch) error {
		set := func(r Removal, v []byte) error {
			want[r.Account.Node()] = append(want[r.Account.Node()], r)
			return wb.Set(key(pRemoval, room[:], nodePart(r.Account.Node()), r.ID[:]), v)
		}
		for i := range n {
			a := protocol.NewAccountID(nodes[i%2], protocol.Handle(fmt.Sprintf("u%05d", max(i, 2)-2)))
			r := Removal{ID: protocol.EventID{byte(i), byte(i >> 8), 0xee}, Reach: uint64(i), Account: a}
			if err := set(r, append(u64(r.Reach), a.Handle()...)); err != nil {
				return err
			}
		}
		if err := set(Removal{ID: remove.ID, Reach: 7, Account: target}, u64(7)); err != nil {
			return err
		}
		return wb.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 12))
	})
	for nd, rs := range want {
		slices.SortFunc(rs, func(a, b Removal) int {
			return cmp.Or(strings.Compare(string(a.Account), string(b.Account)), bytes.Compare(a.ID[:], b.ID[:]))
		})
		want[nd] = rs
	}
	return room, want
}

// checkRemovals checks the index in the schema 13 layout against want:
// each node's removals by account, each account's alone, the accounts,
// no old entry nor marker left.
func checkRemovals(t *testing.T, tx *Tx, room protocol.RoomID, want map[protocol.NodeID][]Removal) {
	t.Helper()
	var accounts []protocol.AccountID
	for nd, rs := range want {
		got, err := tx.Removals(room, nd)
		if err != nil || !slices.Equal(got, rs) {
			t.Fatalf("removals of %s: %d, %v; want %d as before", nd.Short(), len(got), err, len(rs))
		}
		for _, r := range rs {
			if !slices.Contains(accounts, r.Account) {
				accounts = append(accounts, r.Account)
			}
			of, err := tx.RemovalsOf(room, r.Account)
			mine := slices.DeleteFunc(slices.Clone(rs), func(o Removal) bool { return o.Account != r.Account })
			if err != nil || !slices.Equal(of, mine) {
				t.Fatalf("removals of %s = %v, %v; want %v", r.Account, of, err, mine)
			}
		}
	}
	slices.Sort(accounts)
	got, err := tx.RemovedAccounts(room)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, accounts) {
		t.Errorf("removed accounts: %d, %v; want %d", len(got), err, len(accounts))
	}
	if n, err := tx.count([]byte{pRemoval}); n != 0 || err != nil {
		t.Errorf("%d entries in the old layout left (%v)", n, err)
	}
	if ok, err := tx.has([]byte{pRemovals}); ok || err != nil {
		t.Errorf("schema 13 marker left: %v, %v", ok, err)
	}
}

// TestMigrateRemovals migrates a schema 12 store's removal index to the
// layout by account: every removal is listed as before, by node and by
// account, the one recorded without its account's handle too (read from
// its event).
func TestMigrateRemovals(t *testing.T) {
	dir := t.TempDir()
	room, want := oldRemovalsStore(t, dir, 40)
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		checkRemovals(t, tx, room, want)
		return nil
	})
}

// TestMigrateRemovalsResumes stops the migration after each of its
// commits in turn: the next Open goes on from where it stopped, and the
// index ends up whole.
func TestMigrateRemovalsResumes(t *testing.T) {
	dir := t.TempDir()
	room, want := oldRemovalsStore(t, dir, 2*cleanupBatch+7)
	errStop := errors.New("stopped")
	t.Cleanup(func() { removalsInterruptForTest = nil })
	removalsInterruptForTest = func(int) error { return errStop }
	opens := 1
	for ; ; opens++ {
		s, err := Open(dir, Options{})
		if err == nil {
			view(t, s, func(tx *Tx) error {
				checkRemovals(t, tx, room, want)
				return nil
			})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			break
		}
		if !errors.Is(err, errStop) {
			t.Fatalf("open with the migration interrupted: %v, want %v", err, errStop)
		}
		rawView(t, dir, func(tx *Tx) {
			if ok, err := tx.has([]byte{pRemovals}); !ok || err != nil {
				t.Fatalf("marker after an interrupted commit: %v, %v; want it set", ok, err)
			}
		})
	}
	if opens < 3 {
		t.Errorf("migration done in %d commits, want 3 or more", opens)
	}
}
