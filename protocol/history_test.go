package protocol

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomIDs(r *rand.Rand, n int) []EventID {
	ids := make([]EventID, n)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(r.UintN(256))
		}
	}
	return ids
}

// TestHistoryWith: a history grown one ID at a time holds the same IDs,
// in order, as one made from them at once, with the same snapshot key,
// and each step leaves the history it grew unchanged.
func TestHistoryWith(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ids := randomIDs(r, 2000)
	ids[7][0], ids[8][0] = ids[9][0], ids[9][0] // a few in one bucket
	var h History
	var steps []History
	for _, id := range ids {
		h = h.With(id)
		steps = append(steps, h)
	}
	if again := h.With(ids[3]); again.Len() != h.Len() {
		t.Fatalf("adding an ID twice: %d IDs, want %d", again.Len(), h.Len())
	}
	sorted := slices.SortedFunc(slices.Values(ids), compareIDs)
	if !slices.Equal(h.IDs(), sorted) || !slices.Equal(slices.Collect(h.All()), sorted) || h.Len() != len(ids) {
		t.Fatal("a history grown by With does not hold its IDs in order")
	}
	for i, s := range steps {
		if s.Len() != i+1 || !s.Has(ids[i]) || i+1 < len(ids) && s.Has(ids[i+1]) {
			t.Fatalf("step %d changed after it was made: %d IDs", i, s.Len())
		}
	}
	whole := HistoryOf(ids) // unsorted: HistoryOf sorts a copy
	key := func(h History) SnapshotKey { return (&Snapshot{History: h}).Key() }
	if key(whole) != key(h) || !slices.Equal(whole.IDs(), sorted) {
		t.Fatal("the same set made at once and one ID at a time has two keys")
	}
	if key(steps[len(steps)-2]) == key(h) || key(History{}) == key(h) {
		t.Fatal("two sets with one key")
	}
	acked := &Snapshot{History: h, Acks: []EventID{ids[0]}}
	if acked.Key() == key(h) {
		t.Fatal("acknowledgements do not change the key")
	}
}

// TestHistoryAdded: Added returns what a history adds to a base it holds,
// and fails for a base it does not hold.
func TestHistoryAdded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ids := randomIDs(r, 600)
	base := HistoryOf(slices.Clone(ids[:500]))
	grown := base
	for _, id := range ids[500:] {
		grown = grown.With(id)
	}
	got, ok := grown.Added(base)
	if !ok || !slices.Equal(got, slices.SortedFunc(slices.Values(ids[500:]), compareIDs)) {
		t.Fatalf("Added = %d IDs, %v; want the 100 added", len(got), ok)
	}
	// The same sets built apart share no buckets.
	if got, ok := HistoryOf(slices.Clone(ids)).Added(HistoryOf(slices.Clone(ids[:500]))); !ok || len(got) != 100 {
		t.Fatalf("Added of separate histories = %d IDs, %v; want 100", len(got), ok)
	}
	if got, ok := grown.Added(grown); !ok || len(got) != 0 {
		t.Fatalf("Added of itself = %d IDs, %v", len(got), ok)
	}
	other := base.With(randomIDs(r, 1)[0])
	if _, ok := grown.Added(other); ok {
		t.Fatal("Added succeeded for a base with an ID the history lacks")
	}
	if _, ok := base.Added(grown); ok {
		t.Fatal("Added succeeded for a larger base")
	}
}

// TestHistoryCBOR: a history encodes as the []EventID it replaces, so
// records stored before it read the same.
func TestHistoryCBOR(t *testing.T) {
	ids := slices.SortedFunc(slices.Values(randomIDs(rand.New(rand.NewPCG(7, 8)), 50)), compareIDs)
	old, err := EncodeRecord(ids)
	if err != nil {
		t.Fatal(err)
	}
	now, err := EncodeRecord(HistoryOf(ids))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, now) {
		t.Fatal("a History encodes differently from its []EventID")
	}
	var back History
	if err := DecodeRecord(old, &back); err != nil || !slices.Equal(back.IDs(), ids) {
		t.Fatalf("decode: %v, %d IDs", err, back.Len())
	}
}

// TestHistoryContains: Contains agrees with a plain subset check, for
// histories that share buckets and for ones built apart.
func TestHistoryContains(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ids := randomIDs(r, 700)
	base := HistoryOf(slices.Clone(ids[:600]))
	grown := base
	for _, id := range ids[600:] {
		grown = grown.With(id)
	}
	apart := HistoryOf(slices.Clone(ids))
	stranger := base.With(randomIDs(r, 1)[0])
	for _, c := range []struct {
		name      string
		h, sub    History
		contained bool
	}{
		{"grown holds its base", grown, base, true},
		{"built apart", apart, base, true},
		{"itself", grown, grown, true},
		{"the empty history", base, History{}, true},
		{"a base with an ID it lacks", grown, stranger, false},
		{"a larger one", base, grown, false},
		{"empty holds nothing", History{}, base, false},
	} {
		if got := c.h.Contains(c.sub); got != c.contained {
			t.Errorf("%s: Contains = %v, want %v", c.name, got, c.contained)
		}
	}
}
