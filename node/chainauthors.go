package node

import (
	"sort"
	"sync"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// chainAuthorsMax bounds the chain positions chainAuthors remembers, at
// most 4 bytes each: a million covers the chains of the rooms a node
// revisits lately however long they grew.
const chainAuthorsMax = 1 << 20

// chainAuthors remembers, of a node's chain in a room, which positions
// hold an event of each account that is not a control event: what revisit
// looks for when it goes over the chain of a removed account's node.
// Taking the 5,000 members of a room out at once revisits each, and each
// revisit went over the node's thousands of removals before it, reading
// every event; then it went over what was remembered of each position,
// hundreds of thousands in a room emptied and filled again many times.
//
// A position's event never changes once stored (storage.Tx.PutPosition
// keeps the first), so what is remembered stays true. Only what committed
// transactions read is remembered: what a revisit reads of positions not
// held yet is added once its Update commits (storage.Tx.AfterCommit).
// Like bySnapshot used to, it starts afresh when full.
type chainAuthors struct {
	mu     sync.Mutex
	chains map[chainKey]*chainTail
	size   int // positions held in all
}

type chainKey struct {
	room   protocol.RoomID
	origin protocol.NodeID
}

// chainTail is a run of n positions of one chain from lo: of[i] lists,
// in order, the offsets from lo of the positions that hold events of
// names[i] that are not control events.
type chainTail struct {
	lo    uint64
	n     int
	names []protocol.AccountID
	index map[protocol.AccountID]int
	of    [][]uint32
}

// chainEntry is what a walk read of one position.
type chainEntry struct {
	seq     uint64
	author  protocol.AccountID
	control bool
}

// eventsOf returns the positions after from, in order, of author's events
// that are not control events, in the run of origin's chain in room held
// from from+1 on, and next, the position after that run: positions from
// next on must be read from the store. next is from+1 if no run holds
// it; or, if the run held ends at or before from, the position after its
// end, so that what the caller reads continues the run (reading on from
// from+1 instead would start a run apart, and replace this one).
func (c *chainAuthors) eventsOf(room protocol.RoomID, origin protocol.NodeID, from uint64, author protocol.AccountID) (seqs []uint64, next uint64) {
	next = from + 1
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.chains[chainKey{room, origin}]
	if t == nil || next < t.lo {
		return nil, next
	}
	if end := t.lo + uint64(t.n); next >= end {
		return nil, end
	}
	if i, ok := t.index[author]; ok {
		offs := t.of[i]
		first := sort.Search(len(offs), func(j int) bool { return t.lo+uint64(offs[j]) >= next })
		for _, o := range offs[first:] {
			seqs = append(seqs, t.lo+uint64(o))
		}
	}
	return seqs, t.lo + uint64(t.n)
}

// add remembers entries, positions in a row of origin's chain in room,
// if they join or extend the run held (or start it afresh).
func (c *chainAuthors) add(room protocol.RoomID, origin protocol.NodeID, entries []chainEntry) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := chainKey{room, origin}
	t := c.chains[k]
	first := entries[0].seq
	if t == nil || first > t.lo+uint64(t.n) || first < t.lo {
		if t != nil {
			c.size -= t.n
		}
		t = &chainTail{lo: first, index: map[protocol.AccountID]int{}}
	}
	if c.chains == nil || c.size+len(entries) > chainAuthorsMax {
		c.chains, c.size = map[chainKey]*chainTail{}, t.n
	}
	c.chains[k] = t
	// Entries overlapping the run are there already: positions do not
	// change. Appending writes only past the ends of the lists eventsOf
	// read, which stay as they were.
	skip := int(t.lo + uint64(t.n) - first)
	if skip >= len(entries) {
		return
	}
	for _, e := range entries[skip:] {
		if !e.control {
			i, ok := t.index[e.author]
			if !ok {
				i = len(t.names)
				t.names = append(t.names, e.author)
				t.of = append(t.of, nil)
				t.index[e.author] = i
			}
			t.of[i] = append(t.of[i], uint32(e.seq-t.lo))
		}
	}
	added := len(entries) - skip
	t.n += added
	c.size += added
}

// chainRead reads the event at position seq of origin's chain in room,
// and what chainAuthors keeps of it; ok is false when the store holds no
// event there. e is nil if the store no longer holds the event there.
func chainRead(tx *storage.Tx, room protocol.RoomID, origin protocol.NodeID, seq uint64) (e *protocol.Signed, entry chainEntry, ok bool, err error) {
	id, ok, err := tx.Position(room, origin, seq)
	if err != nil || !ok {
		return nil, entry, false, err
	}
	if e, err = tx.Event(id); err != nil || e == nil {
		return nil, entry, err == nil, err
	}
	return e, chainEntry{seq: seq, author: e.AuthorID(), control: e.Type.IsControl()}, true, nil
}
