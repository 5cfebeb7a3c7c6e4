package node

import (
	"sync"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// chainAuthorsMax bounds the chain positions chainAuthors remembers, some
// 4 bytes each: a million covers the chains of the rooms a node revisits
// lately however long they grew.
const chainAuthorsMax = 1 << 20

// chainAuthors remembers who made the event at each position of a node's
// chain in a room, and whether it is a control event: what revisit looks
// for when it goes over the chain of a removed account's node. Taking the
// 5,000 members of a room out at once revisits each, and each revisit went
// over the node's thousands of removals before it, reading every event.
//
// A position's event never changes once stored (storage.Tx.PutPosition
// keeps the first), so what is remembered stays true. Only what committed
// transactions read is remembered: what a revisit reads of positions not
// held yet is added once its Update commits (storage.Tx.AfterCommit).
// Like bySnapshot, it starts afresh when full.
type chainAuthors struct {
	mu     sync.Mutex
	chains map[chainKey]*chainTail
	size   int // positions held in all
}

type chainKey struct {
	room   protocol.RoomID
	origin protocol.NodeID
}

// chainTail is a run of positions of one chain: authors[i] is that of
// position lo+i, an index into names, or controlEvent.
type chainTail struct {
	lo      uint64
	authors []int32
	names   []protocol.AccountID
	index   map[protocol.AccountID]int32
}

const controlEvent int32 = -1

// chainEntry is what a walk read of one position.
type chainEntry struct {
	seq     uint64
	author  protocol.AccountID
	control bool
}

// walk calls fn for each position from from+1 on of origin's chain in
// room, up to the last of the run held from there, with the author of its
// event and whether it is a control event, until fn returns false or an
// error. It returns the position after the last it called fn for. What is
// not held there is read with tx (chainRead).
func (c *chainAuthors) walk(room protocol.RoomID, origin protocol.NodeID, from uint64, fn func(seq uint64, author protocol.AccountID, control bool) (bool, error)) (next uint64, err error) {
	next = from + 1
	c.mu.Lock()
	t := c.chains[chainKey{room, origin}]
	if t == nil || next < t.lo || next >= t.lo+uint64(len(t.authors)) {
		c.mu.Unlock()
		return next, nil
	}
	// Copy what is needed out: fn reads the store.
	authors := t.authors[next-t.lo:]
	names := t.names
	c.mu.Unlock()
	for i, a := range authors {
		var who protocol.AccountID
		if a != controlEvent {
			who = names[a]
		}
		more, err := fn(next+uint64(i), who, a == controlEvent)
		if err != nil || !more {
			return next + uint64(i) + 1, err
		}
	}
	return next + uint64(len(authors)), nil
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
	if t == nil || first > t.lo+uint64(len(t.authors)) || first < t.lo {
		if t != nil {
			c.size -= len(t.authors)
		}
		t = &chainTail{lo: first, index: map[protocol.AccountID]int32{}}
	}
	if c.chains == nil || c.size+len(entries) > chainAuthorsMax {
		c.chains, c.size = map[chainKey]*chainTail{}, len(t.authors)
	}
	c.chains[k] = t
	// Entries overlapping the run are there already: positions do not
	// change. Appending writes only past the ends of the slices walk
	// handed out, which stay as they were.
	skip := int(t.lo + uint64(len(t.authors)) - first)
	if skip >= len(entries) {
		return
	}
	authors := t.authors
	for _, e := range entries[skip:] {
		a := controlEvent
		if !e.control {
			i, ok := t.index[e.author]
			if !ok {
				i = int32(len(t.names))
				t.names = append(t.names, e.author)
				t.index[e.author] = i
			}
			a = i
		}
		authors = append(authors, a)
	}
	c.size += len(authors) - len(t.authors)
	t.authors = authors
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
