package storage

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestDiskFloor: below the free-space floor, writes fail with ErrDiskFull
// and store nothing, reads go on, and a store opened on a full disk sets
// its bad-shutdown marker with its first write once space returns.
func TestDiskFloor(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	acc := &Account{Handle: "alice", Name: "Alice"}
	update(t, s, func(tx *Tx) error { return tx.PutAccount(nil, acc) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Every disk is full for a floor this high.
	full, err := Open(dir, Options{MinFreeBytes: 1 << 62})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	if _, isFull := full.Space(); !isFull {
		t.Fatal("Space does not report the disk full")
	}
	err = full.Update(t.Context(), func(tx *Tx) error { return tx.PutAccount(nil, &Account{Handle: "bob"}) })
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a full disk: %v, want ErrDiskFull", err)
	}
	view(t, full, func(tx *Tx) error {
		if _, err := tx.Account("alice"); err != nil {
			t.Errorf("read on a full disk: %v", err)
		}
		if _, err := tx.Account("bob"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a refused write was stored: %v", err)
		}
		return nil
	})
	// Space returns: the writer lets writes through again and sets the
	// marker first.
	full.space.floor = 1
	// A first batch that commits nothing still sets it.
	refused := errors.New("refused")
	if err := full.Update(t.Context(), func(tx *Tx) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("a failing update: %v", err)
	}
	view(t, full, func(tx *Tx) error {
		if _, err := tx.txn.Get([]byte{pDirty}); err != nil {
			t.Errorf("bad-shutdown marker after a first batch that wrote nothing: %v", err)
		}
		return nil
	})
	if err := full.Update(t.Context(), func(tx *Tx) error { return tx.PutAccount(nil, &Account{Handle: "bob"}) }); err != nil {
		t.Fatalf("write after space returned: %v", err)
	}
	if full.markerPending {
		t.Fatal("the bad-shutdown marker is still pending after a write")
	}
	// A crash now (no Close) must leave the marker: read it raw.
	view(t, full, func(tx *Tx) error {
		if _, err := tx.txn.Get([]byte{pDirty}); err != nil {
			t.Errorf("bad-shutdown marker after the first write: %v", err)
		}
		return nil
	})
	if err := full.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	if s.Dirty() {
		t.Fatal("a clean close left the marker")
	}
	view(t, s, func(tx *Tx) error {
		_, err := tx.Account(protocol.Handle("bob"))
		return err
	})
}
