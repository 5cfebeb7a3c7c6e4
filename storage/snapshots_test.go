package storage

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// grow returns a snapshot that holds base's events and n new ones, with a
// member added, one changed and, now and then, one dropped.
func grow(r *rand.Rand, base *protocol.Snapshot, n int) *protocol.Snapshot {
	hist := base.History.IDs()
	for range n {
		var id protocol.EventID
		for i := range id {
			id[i] = byte(r.UintN(256))
		}
		hist = append(hist, id)
	}
	slices.SortFunc(hist, protocol.EventID.Compare)
	st := base.State.Clone()
	st.Name = fmt.Sprint("room ", len(hist))
	st.Members.Set(protocol.AccountID(fmt.Sprintf("m%d@n", r.Uint64())), protocol.Member{Role: protocol.RoleMember})
	for a, m := range st.Members.All() {
		switch r.IntN(3) {
		case 0:
			m.Name = fmt.Sprint("renamed ", r.Uint64())
			since := protocol.Order{Depth: r.Uint64()}
			m.Role, m.Since = protocol.RoleAdmin, &since
			st.Members.Set(a, m)
		case 1:
			if st.Members.Len() > 2 {
				st.Members.Delete(a)
			}
		}
		break
	}
	var forks map[protocol.NodeID]uint64
	if r.IntN(4) == 0 {
		forks = map[protocol.NodeID]uint64{"evil": r.Uint64N(9)}
	}
	return &protocol.Snapshot{History: protocol.HistoryOf(hist), State: st, Forks: forks, Acks: base.Acks}
}

// changedMembers returns the accounts whose entries differ between a and b.
func changedMembers(a, b *protocol.Control) []protocol.AccountID {
	out := []protocol.AccountID{}
	for x, m := range b.Members.All() {
		if was, ok := a.Members.Get(x); !ok || !sameMember(was, m) {
			out = append(out, x)
		}
	}
	for x := range a.Members.All() {
		if !b.Members.Has(x) {
			out = append(out, x)
		}
	}
	return out
}

func TestSnapshotDeltas(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	r := rand.New(rand.NewPCG(1, 2))
	root := grow(r, &protocol.Snapshot{State: &protocol.Control{Kind: protocol.KindGroup,
		Members: protocol.MembersOf(map[protocol.AccountID]protocol.Member{"alice@n": {Role: protocol.RoleAdmin}})}}, 1)
	snaps := []*protocol.Snapshot{root}
	keys := []protocol.SnapshotKey{root.Key()}
	update(t, s, func(tx *Tx) error { _, err := tx.PutSnapshot(root); return err })

	// A tree of snapshots, each growing one made before it, offered as its
	// base along with ones it may not grow.
	for i := range 600 {
		b := r.IntN(len(snaps))
		if i%3 == 0 {
			b = len(snaps) - 1 // long chains too
		}
		s2 := grow(r, snaps[b], 1+r.IntN(3))
		o := r.IntN(len(snaps))
		bases := []SnapshotBase{
			{Key: keys[o], Snapshot: snaps[o]},                 // one it may not grow
			{Key: protocol.SnapshotKey{9}, Snapshot: snaps[b]}, // not stored
			{Key: keys[b], Snapshot: snaps[b]},
		}
		if i%2 == 0 {
			// The accounts whose entries changed, as a node names those
			// of a control event applied in sequence, and one that did
			// not change: the delta must read back the same.
			bases[2].Changed = changedMembers(snaps[b].State, s2.State)
			for a := range s2.State.Members.All() {
				bases[2].Changed = append(bases[2].Changed, a)
				break
			}
		}
		update(t, s, func(tx *Tx) error {
			k, err := tx.PutSnapshot(s2, bases...)
			if err == nil && k != s2.Key() {
				t.Errorf("PutSnapshot = %x, want its key", k)
			}
			return err
		})
		snaps, keys = append(snaps, s2), append(keys, s2.Key())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	deltas := 0
	view(t, s, func(tx *Tx) error {
		for i, k := range keys {
			got, err := tx.Snapshot(k)
			if err != nil {
				return fmt.Errorf("snapshot %d: %w", i, err)
			}
			if got.Key() != k || !sameSnapshot(got, snaps[i]) {
				t.Errorf("snapshot %d read back as %+v, want %+v", i, got, snaps[i])
			}
		}
		// Read again from a cache holding every third snapshot: a read
		// starts from the first cached one on its chain and must give
		// the same snapshot.
		cache := make(map[protocol.SnapshotKey]*protocol.Snapshot)
		for i, k := range keys {
			if i%3 == 0 {
				cache[k] = snaps[i]
			}
		}
		hits := 0
		cached := func(k protocol.SnapshotKey) (*protocol.Snapshot, bool) {
			c, ok := cache[k]
			if ok {
				hits++
			}
			return c, ok
		}
		for i, k := range keys {
			got, err := tx.SnapshotFrom(k, cached)
			if err != nil {
				return fmt.Errorf("snapshot %d from the cache: %w", i, err)
			}
			if got.Key() != k || !sameSnapshot(got, snaps[i]) {
				t.Errorf("snapshot %d read back from the cache as %+v, want %+v", i, got, snaps[i])
			}
		}
		if hits < len(keys)/4 {
			t.Errorf("%d of %d reads started from a cached snapshot", hits, len(keys))
		}
		for i, k := range keys { // the cached ones unchanged
			c, ok := cache[k]
			if !ok {
				continue
			}
			fresh, err := tx.Snapshot(k)
			if err != nil {
				return err
			}
			if c.Key() != k || !sameSnapshot(c, fresh) {
				t.Errorf("cached snapshot %d changed", i)
			}
		}
		return tx.scan([]byte{pSnapshot}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
			b, err := val()
			var rec snapshotRecord
			if err == nil {
				err = protocol.DecodeRecord(b, &rec)
			}
			if rec.Base != nil {
				deltas++
			}
			return err == nil, err
		})
	})
	if deltas < len(keys)/2 {
		t.Errorf("%d of %d snapshots stored as deltas", deltas, len(keys))
	}
}

// TestSnapshotBytesStayLinear adds members one at a time to a room, as an
// admin adding 5,000 people does: each snapshot lists every control event
// so far, so stored in full they would take quadratic bytes (about 5,000²/2
// × 70 bytes, 875 MB); as deltas with a full one per cell they take a
// constant amount per snapshot.
func TestSnapshotBytesStayLinear(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1500
	}
	s := openTest(t, t.TempDir())
	r := rand.New(rand.NewPCG(3, 4))
	prev := &protocol.Snapshot{State: &protocol.Control{Kind: protocol.KindGroup}}
	var prevKey protocol.SnapshotKey
	var written int
	for i := range n {
		next := grow(r, prev, 1)
		update(t, s, func(tx *Tx) error {
			k, err := tx.PutSnapshot(next, SnapshotBase{Key: prevKey, Snapshot: prev})
			if err != nil {
				return err
			}
			b, err := tx.get(key(pSnapshot, k[:]))
			written += len(b)
			prevKey = k
			return err
		})
		prev = next
		if i == n-1 {
			view(t, s, func(tx *Tx) error {
				got, err := tx.Snapshot(prevKey)
				if err == nil && !sameSnapshot(got, prev) {
					t.Errorf("the last snapshot read back wrong")
				}
				return err
			})
		}
	}
	per := written / n
	t.Logf("%d snapshots: %d bytes, %d per snapshot; the last in full is %d members, %d events", n, written, per, prev.State.Members.Len(), prev.History.Len())
	if per > 4096 {
		t.Errorf("a snapshot costs %d bytes on average, want a constant under 4 KiB", per)
	}
}

func sameSnapshot(a, b *protocol.Snapshot) bool {
	return slices.Equal(a.History.IDs(), b.History.IDs()) && slices.Equal(a.Acks, b.Acks) &&
		maps.Equal(a.Forks, b.Forks) && sameControl(a.State, b.State)
}

func sameControl(a, b *protocol.Control) bool {
	x, y := *a, *b
	x.Members, y.Members = protocol.Members{}, protocol.Members{}
	return reflect.DeepEqual(x, y) && maps.EqualFunc(a.Members.Map(), b.Members.Map(), sameMember)
}

// TestMigrateSnapshotDeltas opens a schema 8 store, whose control
// snapshots are whole protocol.Snapshot records, reads one as before, and
// stores a delta on it.
func TestMigrateSnapshotDeltas(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	old := grow(r, &protocol.Snapshot{State: &protocol.Control{Kind: protocol.KindGroup,
		Members: protocol.MembersOf(map[protocol.AccountID]protocol.Member{"alice@n": {Role: protocol.RoleAdmin}})}}, 40)
	old.Acks = []protocol.EventID{{1}, {2}}
	k := old.Key()
	err = db.Update(func(txn *badger.Txn) error {
		v, err := protocol.EncodeRecord(old) // schema 8's snapshot value
		if err != nil {
			return err
		}
		if err := txn.Set(key(pSnapshot, k[:]), v); err != nil {
			return err
		}
		return txn.Set(key(pSchema), binary.BigEndian.AppendUint32(nil, 8))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	next := grow(r, old, 1)
	update(t, s, func(tx *Tx) error {
		_, err := tx.PutSnapshot(next, SnapshotBase{Key: k, Snapshot: old})
		return err
	})
	view(t, s, func(tx *Tx) error {
		for _, want := range []*protocol.Snapshot{old, next} {
			got, err := tx.Snapshot(want.Key())
			if err != nil {
				return err
			}
			if !sameSnapshot(got, want) {
				t.Errorf("snapshot read back as %+v, want %+v", got, want)
			}
		}
		nk := next.Key()
		b, err := tx.get(key(pSnapshot, nk[:]))
		var rec snapshotRecord
		if err == nil {
			err = protocol.DecodeRecord(b, &rec)
		}
		if err != nil || rec.Base == nil || *rec.Base != k || len(rec.History) != 1 {
			t.Errorf("the new snapshot is stored as %+v (%v), want a delta of one event from the old one", rec, err)
		}
		return nil
	})
}

// TestSnapshotUnderAnOlderKey: a store written by a build whose snapshot
// keys hashed every ID of the history holds a set under a key Key no
// longer gives. The same set put again is stored under its new key as a
// delta that adds nothing, and reads back the same under both keys.
func TestSnapshotUnderAnOlderKey(t *testing.T) {
	s := openTest(t, t.TempDir())
	r := rand.New(rand.NewPCG(9, 10))
	snap := grow(r, &protocol.Snapshot{State: &protocol.Control{Kind: protocol.KindGroup,
		Members: protocol.MembersOf(map[protocol.AccountID]protocol.Member{"alice@n": {Role: protocol.RoleAdmin}})}}, 40)
	oldKey := protocol.SnapshotKey{0xaa, 0xbb} // stands for the key of the older build
	update(t, s, func(tx *Tx) error {
		return tx.setRecord(key(pSnapshot, oldKey[:]), &snapshotRecord{History: snap.History.IDs(), State: snap.State})
	})
	var k protocol.SnapshotKey
	update(t, s, func(tx *Tx) error {
		var err error
		k, err = tx.PutSnapshot(snap, SnapshotBase{Key: oldKey, Snapshot: snap})
		return err
	})
	if k != snap.Key() || k == oldKey {
		t.Fatalf("PutSnapshot = %x, want the set's key %x", k[:4], snap.Key())
	}
	view(t, s, func(tx *Tx) error {
		for _, at := range []protocol.SnapshotKey{oldKey, k} {
			got, err := tx.Snapshot(at)
			if err != nil {
				return err
			}
			if !sameSnapshot(got, snap) {
				t.Errorf("the snapshot under %x reads back as %+v", at[:4], got)
			}
		}
		return nil
	})
}
