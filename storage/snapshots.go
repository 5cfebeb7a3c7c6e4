package storage

import (
	"fmt"
	"math"
	"slices"

	"github.com/horenso/horenso/protocol"
)

// Control snapshots are stored in full or as a delta: what a snapshot adds
// to a base snapshot the store holds. A snapshot lists every control event
// of its room's history, so storing each in full would make a room's
// control history cost quadratic bytes (one snapshot per control event,
// each as long as the history), as one-at-a-time member additions or a
// hostile partner's forked control events would. A delta holds the base's
// key, the event IDs the snapshot adds, the members it adds, changes or
// drops, and the rest of the state (a few fields) in full.
//
// Reading a delta walks its bases back to a full snapshot, so chains are
// kept short: a snapshot is stored in full when its size (events in its
// history and acknowledgements) falls in another cell of a fixed grid than
// its base's. The grid's cells are 32 wide up to 1,024 and then grow by
// 1/32 each (about 3%), so a chain holds at most max(32, size/32) deltas,
// and a growing history is written in full once per cell: a constant
// number of bytes per control event, amortized. A delta only ever grows
// its base (every snapshot's history holds its causal past's), and each
// delta adds at least one event, since equal sets have equal keys (but
// for a set stored by a build before protocol.History under the key of
// its time: a delta from it may add nothing).

// A SnapshotBase is a snapshot the store may hold, offered to
// [Tx.PutSnapshot] as the base of a delta.
type SnapshotBase struct {
	Key      protocol.SnapshotKey
	Snapshot *protocol.Snapshot
	// Changed, when not nil, holds every account whose entry may differ
	// between Snapshot's state and the stored snapshot's: a delta then
	// compares those entries instead of every member (a control event
	// applied in sequence changes only the ones it names).
	Changed []protocol.AccountID
}

// snapshotRecord is a stored snapshot. A full one has the field numbers of
// protocol.Snapshot, so records written before deltas existed (schema 8
// and earlier) read as full ones.
type snapshotRecord struct {
	History []protocol.EventID `cbor:"1,keyasint,omitempty"` // full: all; delta: added
	// State is the whole state in a full record; in a delta its Members
	// holds only the members added or changed.
	State *protocol.Control          `cbor:"2,keyasint,omitempty"`
	Forks map[protocol.NodeID]uint64 `cbor:"3,keyasint,omitempty"` // always whole
	Acks  []protocol.EventID         `cbor:"4,keyasint,omitempty"` // full: all; delta: added
	Base  *protocol.SnapshotKey      `cbor:"5,keyasint,omitempty"` // set in deltas only
	Gone  []protocol.AccountID       `cbor:"6,keyasint,omitempty"` // delta: members dropped
}

// PutSnapshot stores a control snapshot under its key, unless it is
// already there, and returns the key. It stores s as a delta from the first
// of bases that the store holds, whose history s's contains, and whose size
// is in s's cell; in full otherwise.
func (tx *Tx) PutSnapshot(s *protocol.Snapshot, bases ...SnapshotBase) (protocol.SnapshotKey, error) {
	k := s.Key()
	ok, err := tx.has(key(pSnapshot, k[:]))
	if err != nil || ok {
		return k, wrap("put snapshot", err)
	}
	rec, err := tx.delta(s, bases)
	if err != nil {
		return k, fmt.Errorf("put snapshot: %w", err)
	}
	if rec == nil {
		rec = &snapshotRecord{History: s.History.IDs(), State: s.State, Forks: s.Forks, Acks: s.Acks}
	}
	return k, wrap("put snapshot", tx.setRecord(key(pSnapshot, k[:]), rec))
}

// delta returns s as a delta from one of bases, or nil if none will do.
func (tx *Tx) delta(s *protocol.Snapshot, bases []SnapshotBase) (*snapshotRecord, error) {
	cell := snapshotCell(s.History.Len() + len(s.Acks))
	for _, b := range bases {
		if b.Snapshot == nil || snapshotCell(b.Snapshot.History.Len()+len(b.Snapshot.Acks)) != cell {
			continue
		}
		hist, acks, ok := s.Added(b.Snapshot)
		if !ok {
			continue
		}
		// A key a failed transaction put in a cache may name a snapshot
		// the store never kept.
		if held, err := tx.has(key(pSnapshot, b.Key[:])); err != nil || !held {
			if err != nil {
				return nil, err
			}
			continue
		}
		st := *s.State
		st.Members = protocol.Members{}
		var gone []protocol.AccountID
		if b.Changed != nil {
			for _, a := range b.Changed {
				m, in := s.State.Members.Get(a)
				was, ok := b.Snapshot.State.Members.Get(a)
				switch {
				case in && (!ok || !sameMember(was, m)):
					st.Members.Set(a, m)
				case !in && ok:
					gone = append(gone, a)
				}
			}
		} else {
			for a, m := range s.State.Members.All() {
				if was, ok := b.Snapshot.State.Members.Get(a); !ok || !sameMember(was, m) {
					st.Members.Set(a, m)
				}
			}
			for a := range b.Snapshot.State.Members.All() {
				if !s.State.Members.Has(a) {
					gone = append(gone, a)
				}
			}
		}
		slices.Sort(gone)
		base := b.Key
		return &snapshotRecord{History: hist, State: &st, Forks: s.Forks, Acks: acks, Base: &base, Gone: gone}, nil
	}
	return nil, nil
}

// Snapshot returns a stored control snapshot.
func (tx *Tx) Snapshot(k protocol.SnapshotKey) (*protocol.Snapshot, error) {
	return tx.SnapshotFrom(k, nil)
}

// SnapshotFrom is [Tx.Snapshot], but where cached (when not nil) holds a
// snapshot decoded that k's chain of deltas passes on the way to its full
// record, it starts from that one instead of the full record, sharing its
// members and history (both persistent). A snapshot of a room of 5,000
// members costs about 1.4 MB and tens of milliseconds to decode in full;
// one a few deltas from a snapshot in memory, the deltas alone. cached is
// not asked for k itself.
func (tx *Tx) SnapshotFrom(k protocol.SnapshotKey, cached func(protocol.SnapshotKey) (*protocol.Snapshot, bool)) (*protocol.Snapshot, error) {
	var chain []*snapshotRecord // newest first, ending with the full record unless base is set
	var base *protocol.Snapshot
	for {
		if cached != nil && len(chain) > 0 {
			if s, ok := cached(k); ok {
				base = s
				break
			}
		}
		rec := new(snapshotRecord)
		if err := tx.getRecord(key(pSnapshot, k[:]), rec); err != nil {
			return nil, fmt.Errorf("get snapshot: %w", err)
		}
		if rec.State == nil {
			return nil, fmt.Errorf("get snapshot %x: no state", k[:4])
		}
		chain = append(chain, rec)
		if rec.Base == nil {
			break
		}
		if len(chain) > maxSnapshotChain {
			return nil, fmt.Errorf("get snapshot: a chain of deltas longer than %d", maxSnapshotChain)
		}
		k = *rec.Base
	}
	if base == nil {
		full := chain[len(chain)-1]
		base = &protocol.Snapshot{History: protocol.HistoryOf(full.History), State: full.State, Forks: full.Forks, Acks: full.Acks}
		if chain = chain[:len(chain)-1]; len(chain) == 0 {
			return base, nil
		}
	}
	newest := chain[0]
	st := *newest.State
	st.Members = base.State.Members
	hist := base.History
	var acks []protocol.EventID
	for i := len(chain) - 1; i >= 0; i-- { // oldest delta first
		d := chain[i]
		for _, a := range d.Gone {
			st.Members.Delete(a)
		}
		for a, m := range d.State.Members.All() {
			st.Members.Set(a, m)
		}
		for _, id := range d.History {
			hist = hist.With(id)
		}
		acks = append(acks, d.Acks...)
	}
	return &protocol.Snapshot{History: hist, State: &st, Forks: newest.Forks, Acks: union(base.Acks, acks)}, nil
}

// maxSnapshotChain bounds the deltas a read walks: far above what the grid
// allows for any history a store could hold, it only stops a corrupt store
// from looping.
const maxSnapshotChain = 1 << 20

// snapshotCell returns the cell of the grid of snapshot sizes that n falls
// in (see the comment at the top of this file).
func snapshotCell(n int) int {
	const width, linear = 32, 1024
	if n < linear {
		return n / width
	}
	return linear/width + int(math.Log(float64(n)/linear)/math.Log(1+1.0/width))
}

// union returns the sorted IDs of base, sorted, and more, which holds no ID
// of base, in any order. It may sort more in place.
func union(base, more []protocol.EventID) []protocol.EventID {
	if len(more) == 0 {
		return base
	}
	slices.SortFunc(more, protocol.EventID.Compare)
	out := make([]protocol.EventID, 0, len(base)+len(more))
	i, j := 0, 0
	for i < len(base) && j < len(more) {
		if base[i].Compare(more[j]) < 0 {
			out = append(out, base[i])
			i++
		} else {
			out = append(out, more[j])
			j++
		}
	}
	out = append(out, base[i:]...)
	return append(out, more[j:]...)
}

func sameMember(a, b protocol.Member) bool {
	if a.Role != b.Role || a.Name != b.Name || a.Org != b.Org || (a.Since == nil) != (b.Since == nil) {
		return false
	}
	return a.Since == nil || *a.Since == *b.Since
}
