package storage

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestReplicaFollowsPrimary: a replica bootstrapped with ApplyFull and fed
// increments with ApplyIncrement holds what its primary holds, deletions
// included; after a gap (increments lost) ApplyFull converges again, and
// the replica refuses Updates of its own.
func TestReplicaFollowsPrimary(t *testing.T) {
	p := openTest(t, t.TempDir())
	r, err := Open(t.TempDir(), Options{Replica: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Update(t.Context(), func(tx *Tx) error { return nil }); !errors.Is(err, ErrReplica) {
		t.Fatalf("replica Update: %v, want ErrReplica", err)
	}
	k := func(i int) []byte { return []byte{0xe0, byte(i)} }
	write := func(from, to int) {
		for j := from; j < to; j++ {
			update(t, p, func(tx *Tx) error {
				if err := tx.set(k(j%11), fmt.Appendf(nil, "v%d", j)); err != nil {
					return err
				}
				if j%4 == 0 {
					return tx.delete(k((j + 3) % 11))
				}
				return nil
			})
		}
	}
	contents := func(s *Store) map[string]string {
		m := map[string]string{}
		view(t, s, func(tx *Tx) error {
			it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{0xe0}})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				m[string(it.Item().Key())] = string(v)
			}
			return nil
		})
		return m
	}
	check := func(what string, until uint64) {
		t.Helper()
		if got, want := contents(r), contents(p); !maps.Equal(got, want) {
			t.Fatalf("%s: replica holds\n%q\nprimary holds\n%q", what, got, want)
		}
		if v, err := r.ReplicaVersion(); err != nil || v != until {
			t.Fatalf("%s: replica version %d, %v; want %d", what, v, err, until)
		}
	}

	write(0, 30)
	hold := p.Hold()
	var full bytes.Buffer
	if _, err := hold.WriteSince(&full, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyFull(t.Context(), &full, hold.Version()); err != nil {
		t.Fatal(err)
	}
	check("after the full copy", hold.Version())
	for round := range 3 {
		write(30+round*25, 55+round*25)
		next := p.Hold()
		var inc bytes.Buffer
		if _, err := next.WriteSince(&inc, hold.Version()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ApplyIncrement(t.Context(), &inc, next.Version()); err != nil {
			t.Fatal(err)
		}
		hold.Release()
		hold = next
		check(fmt.Sprintf("after increment %d", round+1), hold.Version())
	}
	hold.Release()

	// Increments lost (the primary restarted): a full copy again.
	write(200, 240)
	hold = p.Hold()
	defer hold.Release()
	full.Reset()
	if _, err := hold.WriteSince(&full, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyFull(t.Context(), &full, hold.Version()); err != nil {
		t.Fatal(err)
	}
	check("after a second full copy", hold.Version())
}

// TestReplicaAppliesMoreThanOneTransaction: a replica with small
// memtables (--store-memtable-mib 4: 629 KB a transaction) takes a full
// copy and an increment of several megabytes (many primary commits,
// together more than one transaction may hold), in commits of its own
// size.
func TestReplicaAppliesMoreThanOneTransaction(t *testing.T) {
	p := openTest(t, t.TempDir())
	r, err := Open(t.TempDir(), Options{Replica: true, MinFreeBytes: -1, MemTableBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	value := bytes.Repeat([]byte("x"), 2000)
	write := func(from, to int) {
		for c := from; c < to; c++ { // 100 KB a commit
			update(t, p, func(tx *Tx) error {
				for j := range 50 {
					if err := tx.set(fmt.Appendf(nil, "\xe1%06d", c*50+j), value); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	write(0, 30)
	hold := p.Hold()
	var full bytes.Buffer
	if _, err := hold.WriteSince(&full, 0); err != nil {
		t.Fatal(err)
	}
	size := full.Len()
	if _, err := r.ApplyFull(t.Context(), &full, hold.Version()); err != nil {
		t.Fatalf("apply a full copy of %d bytes: %v", size, err)
	}
	write(30, 60)
	next := p.Hold()
	defer next.Release()
	var inc bytes.Buffer
	if _, err := next.WriteSince(&inc, hold.Version()); err != nil {
		t.Fatal(err)
	}
	hold.Release()
	size = inc.Len()
	if _, err := r.ApplyIncrement(t.Context(), &inc, next.Version()); err != nil {
		t.Fatalf("apply an increment of %d bytes: %v", size, err)
	}
	if v, err := r.ReplicaVersion(); err != nil || v != next.Version() {
		t.Fatalf("replica version %d, %v; want %d", v, err, next.Version())
	}
}
