package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"iter"
	"slices"
)

// History is a set of event IDs, in ID order: the control events a
// [Snapshot] was derived from. It is persistent, as [Members] is: every
// control event makes its snapshot's history from the one before by
// adding its own ID, and copying a sorted list of every control event of
// the room made the n-th control event cost n.
//
// The IDs are kept in 256 buckets by their first byte, each a sorted list
// that is never changed once made, with the SHA-256 of its IDs: [History.With]
// copies the table of buckets and the one bucket it changes, and
// [Snapshot.Key] hashes the buckets' sums instead of every ID. Event IDs
// are hashes, so the buckets fill evenly; a partner that grinds its
// events' IDs into one bucket makes that bucket cost what a plain list
// did, no more.
//
// The zero value is empty and ready to use.
type History struct {
	buckets *[historyBuckets]*historyBucket // nil when empty
	n       int
}

const historyBuckets = 256

// historyBucket holds the IDs of a History with one first byte.
type historyBucket struct {
	ids []EventID // sorted; never changed
	sum [sha256.Size]byte
}

func newHistoryBucket(ids []EventID) *historyBucket {
	b := &historyBucket{ids: ids}
	h := sha256.New()
	for _, id := range ids {
		h.Write(id[:])
	}
	h.Sum(b.sum[:0])
	return b
}

// HistoryOf returns the history of ids, which must not repeat an ID. It
// keeps ids when they are sorted (and sorts a copy when not): the caller
// must not change them afterwards.
func HistoryOf(ids []EventID) History {
	if len(ids) == 0 {
		return History{}
	}
	if !slices.IsSortedFunc(ids, compareIDs) {
		ids = slices.SortedFunc(slices.Values(ids), compareIDs)
	}
	var t [historyBuckets]*historyBucket
	for start := 0; start < len(ids); {
		first := ids[start][0]
		end := start + 1
		for end < len(ids) && ids[end][0] == first {
			end++
		}
		t[first] = newHistoryBucket(ids[start:end:end])
		start = end
	}
	return History{buckets: &t, n: len(ids)}
}

// Len returns the number of IDs in h.
func (h History) Len() int { return h.n }

func (h History) bucket(i int) *historyBucket {
	if h.buckets == nil {
		return nil
	}
	return h.buckets[i]
}

// Has reports whether id is in h.
func (h History) Has(id EventID) bool {
	b := h.bucket(int(id[0]))
	if b == nil {
		return false
	}
	_, ok := slices.BinarySearchFunc(b.ids, id, compareIDs)
	return ok
}

// All yields the IDs of h in order.
func (h History) All() iter.Seq[EventID] {
	return func(yield func(EventID) bool) {
		if h.buckets == nil {
			return
		}
		for _, b := range h.buckets {
			if b == nil {
				continue
			}
			for _, id := range b.ids {
				if !yield(id) {
					return
				}
			}
		}
	}
}

// IDs returns the IDs of h in order, in a new slice.
func (h History) IDs() []EventID {
	out := make([]EventID, 0, h.n)
	if h.buckets != nil {
		for _, b := range h.buckets {
			if b != nil {
				out = append(out, b.ids...)
			}
		}
	}
	return out
}

// With returns h with id added; h itself is unchanged.
func (h History) With(id EventID) History {
	var t [historyBuckets]*historyBucket
	if h.buckets != nil {
		t = *h.buckets
	}
	var old []EventID
	if b := t[id[0]]; b != nil {
		old = b.ids
	}
	i, found := slices.BinarySearchFunc(old, id, compareIDs)
	if found {
		return h
	}
	ids := make([]EventID, len(old)+1)
	copy(ids, old[:i])
	ids[i] = id
	copy(ids[i+1:], old[i:])
	t[id[0]] = newHistoryBucket(ids)
	return History{buckets: &t, n: h.n + 1}
}

// Added returns the IDs of h that base lacks, in order, and whether h
// holds every ID of base. It reads only the buckets the two do not share.
func (h History) Added(base History) ([]EventID, bool) {
	if h.n < base.n {
		return nil, false
	}
	var out []EventID
	for i := range historyBuckets {
		hb, bb := h.bucket(i), base.bucket(i)
		if hb == bb {
			continue
		}
		var to, from []EventID
		if hb != nil {
			to = hb.ids
		}
		if bb != nil {
			from = bb.ids
		}
		var ok bool
		if out, ok = appendAdded(out, from, to); !ok {
			return nil, false
		}
	}
	return out, true
}

// AddedIDs returns the IDs of to that from lacks, in order, and whether to
// holds every ID of from; both must be sorted.
func AddedIDs(from, to []EventID) ([]EventID, bool) {
	return appendAdded(nil, from, to)
}

// appendAdded appends to out the IDs of to that from lacks (both sorted),
// and reports whether to holds every ID of from.
func appendAdded(out, from, to []EventID) ([]EventID, bool) {
	j := 0
	for _, id := range to {
		if j < len(from) && from[j] == id {
			j++
			continue
		}
		if j < len(from) && from[j].Compare(id) < 0 {
			return nil, false // from[j] is not in to
		}
		out = append(out, id)
	}
	return out, j == len(from)
}

// Contains reports whether h holds every ID of sub. It reads only the
// buckets the two do not share.
func (h History) Contains(sub History) bool {
	if sub.n > h.n {
		return false
	}
	for i := range historyBuckets {
		sb, hb := sub.bucket(i), h.bucket(i)
		if sb == nil || sb == hb {
			continue
		}
		if hb == nil || !sortedSubset(sb.ids, hb.ids) {
			return false
		}
	}
	return true
}

// sortedSubset reports whether every ID of sub, sorted, is in set, sorted.
func sortedSubset(sub, set []EventID) bool {
	j := 0
	for _, id := range sub {
		for j < len(set) && set[j].Compare(id) < 0 {
			j++
		}
		if j == len(set) || set[j] != id {
			return false
		}
		j++
	}
	return true
}

// writeKey writes what identifies h to a snapshot key's hash: the number
// of buckets in use, then each one's first byte and sum.
func (h History) writeKey(w hash.Hash) {
	buf := make([]byte, 2, 2+historyBuckets*(1+sha256.Size))
	if h.buckets != nil {
		for i, b := range h.buckets {
			if b != nil {
				buf = append(append(buf, byte(i)), b.sum[:]...)
			}
		}
	}
	binary.BigEndian.PutUint16(buf, uint16((len(buf)-2)/(1+sha256.Size)))
	w.Write(buf)
}

// MarshalCBOR encodes h as the array of its IDs, as a []EventID is
// encoded.
func (h History) MarshalCBOR() ([]byte, error) {
	b, err := encMode.Marshal(h.IDs())
	if err != nil {
		return nil, fmt.Errorf("encode history: %w", err)
	}
	return b, nil
}

// UnmarshalCBOR decodes what [History.MarshalCBOR] encodes; an ID that
// repeats is kept once.
func (h *History) UnmarshalCBOR(b []byte) error {
	var ids []EventID
	if err := recMode.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("decode history: %w", err)
	}
	slices.SortFunc(ids, compareIDs)
	*h = HistoryOf(slices.Compact(ids))
	return nil
}
