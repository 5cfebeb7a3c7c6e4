package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/horenso/horenso/protocol"
)

// PutPosition records e, an accepted event of a room of a version with
// chains, at its origin's chain position (room, origin, Seq). If another
// event holds that position already, e is an equivocation: PutPosition
// keeps the pair as proof (pFork) and returns the other event's ID and
// true. The position keeps the first event stored there.
func (tx *Tx) PutPosition(e *protocol.Signed) (protocol.EventID, bool, error) {
	room := e.RoomID()
	k := key(pChain, room[:], nodePart(e.Origin), u64(e.Seq))
	b, err := tx.get(k)
	switch {
	case errors.Is(err, ErrNotFound):
		// The next position is free too: an event there follows one
		// here (protocol.Check), so none can have been stored while
		// this one was free. Telling the writer's cache spares the
		// origin's next event, the usual next, a read of the store.
		tx.knownAbsent(key(pChain, room[:], nodePart(e.Origin), u64(e.Seq+1)))
		v := e.ID[:]
		// The event's record number, from the PutEvent before this in
		// the Update, lets ChainEvents read the record without looking
		// the ID up.
		if i, ok := tx.own[string(key(pEvent, e.ID[:]))]; ok && len(tx.ops[i].val) == eventPointerLen {
			v = append(slices.Clip(v), tx.ops[i].val...)
		}
		return protocol.EventID{}, false, wrap("put chain position", tx.set(k, v))
	case err != nil:
		return protocol.EventID{}, false, wrap("put chain position", err)
	}
	var first protocol.EventID
	copy(first[:], b)
	if first == e.ID {
		return first, false, nil
	}
	fk := key(pFork, room[:], nodePart(e.Origin), u64(e.Seq), e.ID[:])
	return first, true, wrap("put equivocation", tx.set(fk, first[:]))
}

// Position returns the event stored first at (room, origin, seq), or
// false if there is none.
func (tx *Tx) Position(room protocol.RoomID, origin protocol.NodeID, seq uint64) (protocol.EventID, bool, error) {
	var id protocol.EventID
	b, err := tx.get(key(pChain, room[:], nodePart(origin), u64(seq)))
	if errors.Is(err, ErrNotFound) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("get chain position: %w", err)
	}
	copy(id[:], b)
	return id, true, nil
}

// Equivocation is a proof that an origin signed two events at one
// position of its chain in a room.
type Equivocation struct {
	Room   protocol.RoomID
	Origin protocol.NodeID
	Seq    uint64
	// First is the event stored at the position first, Second the one
	// that found it taken.
	First, Second protocol.EventID
}

// Equivocations calls fn with every equivocation PutPosition recorded,
// by room, origin and position, until fn returns false.
func (tx *Tx) Equivocations(fn func(Equivocation) bool) error {
	err := tx.scan([]byte{pFork}, nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		var q Equivocation
		if len(k) < 32+1+8+32 {
			return false, fmt.Errorf("bad equivocation key %x", k)
		}
		copy(q.Room[:], k[:32])
		rest := k[32:]
		sep := len(rest) - 8 - 32 - 1
		if sep < 0 || rest[sep] != 0 {
			return false, fmt.Errorf("bad equivocation key %x", k)
		}
		q.Origin = protocol.NodeID(rest[:sep])
		q.Seq = be64(rest[sep+1:])
		copy(q.Second[:], rest[sep+1+8:])
		b, err := val()
		if err != nil {
			return false, err
		}
		copy(q.First[:], b)
		return fn(q), nil
	})
	return wrap("list equivocations", err)
}

// PutOwnCount records own, how many of this node's events in room up to
// its event at chain position seq are not acknowledgements, in a room of
// a version with chains. Schema 12 keys it by room and position, where
// the node's next events' counts follow it (pOwnCount); before, it was
// keyed by the event's random ID (pAcked), which spread it over the key
// space (see PutEvent).
func (tx *Tx) PutOwnCount(room protocol.RoomID, seq, own uint64) error {
	return wrap("put own count", tx.set(key(pOwnCount, room[:], u64(seq)), u64(own)))
}

// OwnCount returns what PutOwnCount recorded for room and seq, and false
// if nothing.
func (tx *Tx) OwnCount(room protocol.RoomID, seq uint64) (own uint64, ok bool, err error) {
	b, err := tx.get(key(pOwnCount, room[:], u64(seq)))
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get own count of %s at %d: %w", room, seq, err)
	}
	if len(b) != 8 {
		return 0, false, fmt.Errorf("get own count of %s at %d: a record of %d bytes", room, seq, len(b))
	}
	return be64(b), true, nil
}

// Latest returns origin's event at the highest chain position in room,
// and that position; false if origin has none there.
func (tx *Tx) Latest(room protocol.RoomID, origin protocol.NodeID) (protocol.EventID, uint64, bool, error) {
	var id protocol.EventID
	var seq uint64
	found := false
	prefix := key(pChain, room[:], nodePart(origin))
	err := tx.scan(prefix, nil, true, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if len(k) != 8 {
			return false, fmt.Errorf("bad chain key %x", k)
		}
		b, err := val()
		if err != nil {
			return false, err
		}
		seq, found = be64(k), true
		copy(id[:], b)
		return false, nil
	})
	return id, seq, found, wrap("latest chain position", err)
}

// ChainTip is the highest position of an origin's chain in a room that
// the store holds, and the event there.
type ChainTip struct {
	Origin protocol.NodeID
	Seq    uint64
	ID     protocol.EventID
}

// ChainTips returns the tips of up to limit of the origins with a chain
// in room: events that a partner, which holds every event of its own
// chain, most likely holds too. Rooms of a version without chains have
// none.
func (tx *Tx) ChainTips(room protocol.RoomID, limit int) ([]ChainTip, error) {
	prefix := key(pChain, room[:])
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	var tips []ChainTip
	// In reverse, each seek lands on the highest position of the origin
	// before the one last read: its keys are below that origin's first.
	for it.Seek(append(bytes.Clone(prefix), 0xff)); it.ValidForPrefix(prefix) && len(tips) < limit; {
		item := it.Item()
		rest := item.Key()[len(prefix):]
		if len(rest) < 1+8 || rest[len(rest)-9] != 0 {
			return nil, fmt.Errorf("bad chain key %x", item.Key())
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, wrap("chain tips", err)
		}
		tip := ChainTip{Origin: protocol.NodeID(rest[:len(rest)-9]), Seq: be64(rest[len(rest)-8:])}
		copy(tip.ID[:], v)
		tips = append(tips, tip)
		it.Seek(append(bytes.Clone(prefix), rest[:len(rest)-8]...))
	}
	return tips, nil
}

// Forked reports whether PutPosition recorded an equivocation of origin
// in room: an event of origin that no chain position lists.
func (tx *Tx) Forked(room protocol.RoomID, origin protocol.NodeID) (bool, error) {
	found := false
	err := tx.scan(key(pFork, room[:], nodePart(origin)), nil, false, func([]byte, func() ([]byte, error)) (bool, error) {
		found = true
		return false, nil
	})
	return found, wrap("forked", err)
}

// ChainRange calls fn with the events at origin's chain positions from
// through to in room, in order of position, until fn returns false.
// Positions with no event are left out.
func (tx *Tx) ChainRange(room protocol.RoomID, origin protocol.NodeID, from, to uint64, fn func(seq uint64, id protocol.EventID) bool) error {
	return wrap("chain range", tx.positions(room, origin, from, to, func(seq uint64, v []byte) bool {
		var id protocol.EventID
		copy(id[:], v)
		return fn(seq, id)
	}))
}

// positions calls fn with the values of origin's chain positions from
// through to in room, in order of position, until fn returns false.
func (tx *Tx) positions(room protocol.RoomID, origin protocol.NodeID, from, to uint64, fn func(seq uint64, v []byte) bool) error {
	prefix := key(pChain, room[:], nodePart(origin))
	return tx.scan(prefix, append(bytes.Clone(prefix), u64(from)...), false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if len(k) != 8 {
			return false, fmt.Errorf("bad chain key %x", k)
		}
		seq := be64(k)
		if seq > to {
			return false, nil
		}
		v, err := val()
		if err != nil {
			return false, err
		}
		return fn(seq, v), nil
	})
}

// ChainEvents calls fn with the events at origin's chain positions from
// through to in room, in order of position, and their wire forms, until
// fn returns false. Positions with no event are left out. Like the
// listing methods, it sees what was stored before an Update began.
//
// It reads the records of up to chainRun positions at once (Tx.records):
// a chain position names its event's record number besides its ID
// (PutPosition), and an origin's events are stored in the order of their
// positions (an event follows the one before it on its chain), so a
// run's records are mostly next to each other. Read one at a time, as
// EventWire does, each took a lookup of its ID and a point read of its
// record: serving a catch-up of 100,000 events read 92,000 blocks
// (docs/PERFORMANCE.md, "A sync answer's events read in runs"). A
// position written before it named record numbers costs a lookup of its
// ID first.
func (tx *Tx) ChainEvents(room protocol.RoomID, origin protocol.NodeID, from, to uint64, fn func(pos uint64, id protocol.EventID, wire []byte) bool) error {
	type ref struct {
		pos uint64
		id  protocol.EventID
		rec []byte // the record's key under pEventBody; nil if the position does not name it
	}
	run := make([]ref, 0, chainRun)
	for from <= to {
		run = run[:0]
		err := tx.positions(room, origin, from, to, func(pos uint64, v []byte) bool {
			r := ref{pos: pos}
			copy(r.id[:], v)
			if len(v) == len(r.id)+eventPointerLen {
				r.rec = key(pEventBody, v[len(r.id):])
			}
			run = append(run, r)
			return len(run) < chainRun
		})
		if err != nil {
			return wrap("chain events", err)
		}
		if len(run) == 0 {
			return nil
		}
		wires := make([][]byte, len(run))
		keys := make([][]byte, len(run))
		for i, r := range run {
			if keys[i] = r.rec; r.rec == nil {
				if keys[i], wires[i], err = tx.recordKey(r.id); err != nil {
					return wrap("chain events", err)
				}
			}
		}
		if err := tx.readRecords(keys, wires); err != nil {
			return wrap("chain events", err)
		}
		for i, r := range run {
			if wires[i] != nil && !fn(r.pos, r.id, wires[i]) {
				return nil
			}
		}
		last := run[len(run)-1].pos
		if len(run) < chainRun || last == to {
			return nil
		}
		from = last + 1
	}
	return nil
}

// chainRun is how many events ChainEvents reads at once.
const chainRun = 64
