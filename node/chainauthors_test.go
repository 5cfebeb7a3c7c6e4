package node

import (
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestChainAuthors checks what chainAuthors gives back of the runs added
// to it: a run extended at its end, overlapping entries left as they were,
// a run that does not join replacing it, and a walk that stops where fn
// says.
func TestChainAuthors(t *testing.T) {
	var c chainAuthors
	room, origin := protocol.RoomID{1}, protocol.NodeID("n")
	entry := func(seq uint64, who string) chainEntry {
		return chainEntry{seq: seq, author: protocol.AccountID(who), control: who == ""}
	}
	walked := func(from uint64, stop uint64) (got []chainEntry, next uint64) {
		t.Helper()
		next, err := c.walk(room, origin, from, func(seq uint64, a protocol.AccountID, control bool) (bool, error) {
			got = append(got, chainEntry{seq, a, control})
			return seq != stop, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, next
	}
	if got, next := walked(0, 0); len(got) != 0 || next != 1 {
		t.Fatalf("empty cache walked %v, next %d", got, next)
	}
	c.add(room, origin, []chainEntry{entry(5, "a"), entry(6, ""), entry(7, "b")})
	c.add(room, origin, []chainEntry{entry(7, "x"), entry(8, "a")}) // 7 held already
	want := []chainEntry{entry(6, ""), entry(7, "b"), entry(8, "a")}
	if got, next := walked(5, 0); !slices.Equal(got, want) || next != 9 {
		t.Errorf("walk from 5 = %v, next %d; want %v, 9", got, next, want)
	}
	if got, next := walked(5, 7); !slices.Equal(got, want[:2]) || next != 8 {
		t.Errorf("walk from 5 stopped at 7 = %v, next %d; want %v, 8", got, next, want[:2])
	}
	if got, next := walked(3, 0); len(got) != 0 || next != 4 {
		t.Errorf("walk from below the run = %v, next %d; want nothing, 4", got, next)
	}
	c.add(room, origin, []chainEntry{entry(20, "c")}) // leaves a gap: replaces
	if got, _ := walked(5, 0); len(got) != 0 {
		t.Errorf("the old run is still walked after a new one: %v", got)
	}
	if got, _ := walked(19, 0); !slices.Equal(got, []chainEntry{entry(20, "c")}) {
		t.Errorf("walk of the new run = %v", got)
	}
	if c.size != 1 {
		t.Errorf("size %d, want 1", c.size)
	}
}
