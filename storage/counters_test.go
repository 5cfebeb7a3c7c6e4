package storage

import (
	"errors"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// counterRecord returns the value of counter kind's record.
func counterRecord(t *testing.T, s *Store, kind byte) uint64 {
	t.Helper()
	var v uint64
	view(t, s, func(tx *Tx) error {
		b, err := tx.get(key(pCounter, []byte{kind}))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		v = be64(b)
		return err
	})
	return v
}

// TestCounterLeases checks the leased counters (counters.go): numbers
// given in committed Updates are unique and increasing, also across a
// reopen, an Update that fails and concurrent Updates sharing commits;
// the record is written once per lease, not once per number; LastChange
// is the feed's last change, not the lease.
func TestCounterLeases(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	committed := map[uint64]bool{}
	var last uint64
	appendOne := func(s *Store) uint64 {
		t.Helper()
		var seq uint64
		update(t, s, func(tx *Tx) error {
			var err error
			seq, err = tx.AppendChange(Change{Kind: "test"})
			return err
		})
		if committed[seq] || seq <= last {
			t.Fatalf("change %d given after %d (given before: %v)", seq, last, committed[seq])
		}
		committed[seq], last = true, seq
		return seq
	}
	appendOne(s)
	if got := counterRecord(t, s, feedCounter); got != leaseBlock {
		t.Fatalf("feed counter record %d after one change, want the lease %d", got, leaseBlock)
	}

	// Concurrent Updates share commits, each one taking a number.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for range 40 {
				var seq uint64
				err := s.Update(t.Context(), func(tx *Tx) error {
					var err error
					seq, err = tx.AppendChange(Change{Kind: "test"})
					return err
				})
				mu.Lock()
				if err != nil || committed[seq] {
					t.Errorf("concurrent change %d: %v (given before: %v)", seq, err, committed[seq])
				}
				committed[seq], last = true, max(last, seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	// An Update that fails uses its number up; the next one goes on.
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx *Tx) error {
		if _, err := tx.AppendChange(Change{Kind: "test"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing Update: %v", err)
	}
	seq := appendOne(s)
	view(t, s, func(tx *Tx) error {
		if got, err := tx.LastChange(); err != nil || got != seq {
			t.Errorf("LastChange = %d, %v; want the last change, %d", got, err, seq)
		}
		return nil
	})

	// Past the lease: the record moves on once.
	for last < leaseBlock+10 {
		appendOne(s)
	}
	if got := counterRecord(t, s, feedCounter); got < last || got > last+leaseBlock {
		t.Fatalf("feed counter record %d with %d given, want a lease in [%d, %d]", got, last, last, last+leaseBlock)
	}

	// Written once per lease (the concurrent Updates of one commit may
	// each write it), not once per number: Badger keeps the versions in
	// its memtable.
	versions := 0
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, Prefix: key(pCounter, []byte{feedCounter})})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			versions++
		}
		return nil
	})
	if err != nil || versions > 10 {
		t.Errorf("feed counter record written %d times (%v) for %d changes", versions, err, last)
	}

	// Reopened, the store goes on after the lease: nothing is given twice.
	lease := counterRecord(t, s, feedCounter)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		if got, err := tx.LastChange(); err != nil || got != last {
			t.Errorf("LastChange after reopening = %d, %v; want %d", got, err, last)
		}
		return nil
	})
	if seq := appendOne(s); seq != lease+1 {
		t.Errorf("first change after reopening %d, want %d, after the lease", seq, lease+1)
	}
	if got := counterRecord(t, s, feedCounter); got != lease+leaseBlock {
		t.Errorf("feed counter record %d after reopening, want a new lease %d", got, lease+leaseBlock)
	}
}

// TestCounterRecordWrittenElsewhere checks that a counter record written
// otherwise than by a lease (a standby applying its primary's, a store of
// before leases, whose record is the last number given) is read again:
// the next number follows it.
func TestCounterRecordWrittenElsewhere(t *testing.T) {
	s := openTest(t, t.TempDir())
	var id protocol.EventID
	alias := func() uint64 {
		t.Helper()
		id[0]++
		var n uint64
		update(t, s, func(tx *Tx) error {
			var err error
			n, err = tx.NewMessageAlias(id)
			return err
		})
		return n
	}
	if n := alias(); n != 1 {
		t.Fatalf("first message alias %d, want 1", n)
	}
	update(t, s, func(tx *Tx) error { return tx.set(key(pCounter, []byte{byte(AliasMessage)}), u64(5000)) })
	if n := alias(); n != 5001 {
		t.Errorf("message alias after the record was set to 5,000: %d, want 5,001", n)
	}
	// A counter that does not lease writes each number.
	var room protocol.RoomID
	for i := range 3 {
		room[0] = byte(i + 1)
		update(t, s, func(tx *Tx) error { _, err := tx.Alias(AliasRoom, room[:]); return err })
	}
	if got := counterRecord(t, s, byte(AliasRoom)); got != 3 {
		t.Errorf("room alias counter %d after 3 rooms, want 3", got)
	}
}
