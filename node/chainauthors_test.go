package node

import (
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestChainAuthors checks what chainAuthors gives back of the runs added
// to it: each account's events that are not control events, a run
// extended at its end, overlapping entries left as they were, and a run
// that does not join replacing it.
func TestChainAuthors(t *testing.T) {
	var c chainAuthors
	room, origin := protocol.RoomID{1}, protocol.NodeID("n")
	entry := func(seq uint64, who string, control bool) chainEntry {
		return chainEntry{seq: seq, author: protocol.AccountID(who), control: control}
	}
	check := func(from uint64, who string, want []uint64, wantNext uint64) {
		t.Helper()
		got, next := c.eventsOf(room, origin, from, protocol.AccountID(who))
		if !slices.Equal(got, want) || next != wantNext {
			t.Errorf("events of %s after %d = %v, next %d; want %v, %d", who, from, got, next, want, wantNext)
		}
	}
	check(0, "a", nil, 1)
	c.add(room, origin, []chainEntry{entry(5, "a", false), entry(6, "a", true), entry(7, "b", false)})
	c.add(room, origin, []chainEntry{entry(7, "a", false), entry(8, "a", false)}) // 7 held already
	check(4, "a", []uint64{5, 8}, 9)
	check(5, "a", []uint64{8}, 9)
	check(5, "b", []uint64{7}, 9)
	check(5, "c", nil, 9)
	check(8, "a", nil, 9)
	check(12, "a", nil, 9)                                   // past the run: read on from its end, to keep it in one piece
	check(3, "a", nil, 4)                                    // below the run: read from the store
	c.add(room, origin, []chainEntry{entry(20, "c", false)}) // leaves a gap: replaces
	check(4, "a", nil, 5)
	check(19, "c", []uint64{20}, 21)
	if c.size != 1 {
		t.Errorf("size %d, want 1", c.size)
	}
}
