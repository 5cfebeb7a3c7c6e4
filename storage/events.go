package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// PutEvent stores an accepted event with the key of the control snapshot
// after it (one record, see eventRecord), and its place in the room's
// by-depth index. A message's place is its timeline record's key: a
// PutMessage in the same Update takes the by-depth key back (schema 11).
// e must not be stored already.
//
// The record is keyed by the next event sequence number (pEventBody), and
// the event's ID by that number alone (pEvent), from schema 12 on: an
// event's ID is random, so records keyed by it spread every flush and
// compaction of Badger's tree over the whole level below, which Badger
// rewrites; keyed by the order the node stored them in, the ~450-byte
// records are appended at the end of their range, and only the 8-byte
// numbers are spread (docs/PERFORMANCE.md, "Event records and own counts
// by sequence").
func (tx *Tx) PutEvent(e *protocol.Signed, snap protocol.SnapshotKey) error {
	room := e.RoomID()
	seq, err := tx.nextEventSeq()
	if err != nil {
		return wrap("put event", err)
	}
	if err := tx.set(key(pEventBody, seq), eventRecord(snap, e.Wire())); err != nil {
		return wrap("put event", err)
	}
	if err := tx.set(key(pEvent, e.ID[:]), seq); err != nil {
		return wrap("put event", err)
	}
	if tx.stored == nil {
		tx.stored = make(map[protocol.EventID]*protocol.Signed)
	}
	tx.stored[e.ID] = e
	return wrap("put event", tx.set(roomEventKey(room, e.Depth, e.ID), nil))
}

// eventSeqCounter is the pCounter kind holding the last event sequence
// number handed out (schema 12 on). It cannot clash with an AliasKind
// (letters) or feedCounter.
const eventSeqCounter byte = 0x02

// nextEventSeq hands out the next event sequence number, as the 8 bytes
// of its key under pEventBody.
func (tx *Tx) nextEventSeq() ([]byte, error) {
	n, err := tx.nextNumber(eventSeqCounter)
	if err != nil {
		return nil, fmt.Errorf("event sequence: %w", err)
	}
	return u64(n), nil
}

// eventPointerLen is the length of a pEvent value that is an event
// sequence number (schema 12 on), not a record: a record is longer (a
// header and a snapshot key, or a wire form, which has a signature).
const eventPointerLen = 8

// eventValue returns the record of event id (see eventRecord): the one
// its pEvent value points to, or, in a store whose schema 12 migration has
// not got to it yet, that value itself. ErrNotFound if there is none.
func (tx *Tx) eventValue(id protocol.EventID) ([]byte, error) {
	b, err := tx.get(key(pEvent, id[:]))
	if err != nil || len(b) != eventPointerLen {
		return b, err
	}
	return tx.get(key(pEventBody, b))
}

// EventWires calls fn with the index in ids and the wire form of each
// event of ids the store holds, in the order of ids, until fn returns
// false; events it does not hold are left out. It looks up each ID's
// record number, then reads the records together (Tx.records), which for
// events stored near each other (a room's events of one sync, or of its
// history) reads each block of records once, where EventWire for each
// read a block per event.
func (tx *Tx) EventWires(ids []protocol.EventID, fn func(i int, wire []byte) bool) error {
	wires := make([][]byte, len(ids))
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		var err error
		if keys[i], wires[i], err = tx.recordKey(id); err != nil {
			return err
		}
	}
	if err := tx.readRecords(keys, wires); err != nil {
		return err
	}
	for i, w := range wires {
		if w != nil && !fn(i, w) {
			return nil
		}
	}
	return nil
}

// recordKey returns the key of event id's record (pEventBody), or, in a
// store whose schema 12 migration has not got to it, its wire form; both
// nil if the store holds no such event.
func (tx *Tx) recordKey(id protocol.EventID) (k, wire []byte, err error) {
	b, err := tx.get(key(pEvent, id[:]))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("get event %s: %w", id, err)
	case len(b) == eventPointerLen:
		return key(pEventBody, b), nil, nil
	}
	_, wire, _ = splitEvent(b)
	return nil, wire, nil
}

// readRecords sets wires[i] to the wire form of the record under keys[i],
// for each key that is not nil and has a record (Tx.records).
func (tx *Tx) readRecords(keys, wires [][]byte) error {
	vals, err := tx.records(keys)
	if err != nil {
		return fmt.Errorf("get events: %w", err)
	}
	for i, v := range vals {
		if v != nil {
			_, wires[i], _ = splitEvent(v)
		}
	}
	return nil
}

// records returns the values under keys, which are event record keys
// (pEventBody) or nil, in the same order; nil for a key with no value. It
// reads them in key order with one iterator, stepping from one to the
// next and seeking only past a gap of more than recordGap records, so
// records next to each other cost a step each and each block is read
// once. Point reads of the records of one block, one after another,
// missed Badger's block cache until the cache had taken the block in (its
// inserts are asynchronous and pass an admission policy), and each miss
// decompressed the block again. The Update's own writes are seen.
func (tx *Tx) records(keys [][]byte) ([][]byte, error) {
	vals := make([][]byte, len(keys))
	order := make([]int, 0, len(keys))
	for i, k := range keys {
		if k == nil {
			continue
		}
		if j, ok := tx.own[string(k)]; ok {
			if !tx.ops[j].del {
				vals[i] = tx.ops[j].val
			}
			continue
		}
		order = append(order, i)
	}
	if len(order) == 0 {
		return vals, nil
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEventBody}})
	defer it.Close()
	it.Seek(keys[order[0]])
	for _, i := range order {
		k := keys[i]
		for steps := 0; it.Valid() && bytes.Compare(it.Item().Key(), k) < 0; steps++ {
			if steps == recordGap {
				it.Seek(k)
				break
			}
			it.Next()
		}
		if !it.Valid() || !bytes.Equal(it.Item().Key(), k) {
			continue
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("read event record: %w", err)
		}
		vals[i] = v
	}
	return vals, nil
}

// recordGap is how many records Tx.records steps over to the next one
// it reads before it seeks instead.
const recordGap = 8

func roomEventKey(room protocol.RoomID, depth uint64, id protocol.EventID) []byte {
	return key(pRoomEvent, room[:], u64(depth), id[:])
}

// eventHeader starts an event record that holds the snapshot key (schema
// 11 on). An event's wire form is a CBOR array (0x82 or 0x83), so a
// record without the header, of schema 10 and before, is told apart.
const eventHeader byte = 0x00

// eventRecord is the pEvent value from schema 11 on: eventHeader, the
// key of the control snapshot after the event (32 bytes), the wire form.
// Up to schema 10 the value was the wire form alone and the snapshot key
// had a key of its own (pEventSnap), which cost ~40 bytes on disk per
// event for its random 32-byte event ID (docs/PERFORMANCE.md).
func eventRecord(snap protocol.SnapshotKey, wire []byte) []byte {
	b := make([]byte, 0, 1+len(snap)+len(wire))
	b = append(b, eventHeader)
	b = append(b, snap[:]...)
	return append(b, wire...)
}

// splitEvent splits a pEvent value into the snapshot key, if it holds one
// (ok), and the wire form.
func splitEvent(v []byte) (snap protocol.SnapshotKey, wire []byte, ok bool) {
	if len(v) > len(snap) && v[0] == eventHeader {
		copy(snap[:], v[1:])
		return snap, v[1+len(snap):], true
	}
	return snap, v, false
}

// Event returns an accepted event, or nil if the store has none with id.
func (tx *Tx) Event(id protocol.EventID) (*protocol.Signed, error) {
	if e, ok := tx.stored[id]; ok {
		return e, nil
	}
	b, err := tx.eventValue(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	_, wire, _ := splitEvent(b)
	e, err := protocol.DecodeStored(wire)
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return e, nil
}

// EventWire returns the wire bytes of an accepted event as stored, or nil
// if the store has none with id: for sending it on without decoding it.
func (tx *Tx) EventWire(id protocol.EventID) ([]byte, error) {
	b, err := tx.eventValue(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	_, wire, _ := splitEvent(b)
	return wire, nil
}

// EventLinks returns the links of an accepted event (protocol.Links):
// what a walk over a room's graph needs, for less than Event costs. ok is
// false if the store holds no such event.
func (tx *Tx) EventLinks(id protocol.EventID) (l protocol.Links, ok bool, err error) {
	b, err := tx.EventWire(id)
	if err != nil || b == nil {
		return l, false, err
	}
	if l, err = protocol.DecodeStoredLinks(b); err != nil {
		return l, false, fmt.Errorf("get event %s: %w", id, err)
	}
	return l, true, nil
}

// HasEvent reports whether the event was accepted.
func (tx *Tx) HasEvent(id protocol.EventID) (bool, error) {
	ok, err := tx.has(key(pEvent, id[:]))
	return ok, wrap("has event", err)
}

// EventSnapshot returns the key of the control snapshot after an event.
// The event's record holds it; a record of schema 10 or before, not yet
// rewritten by the schema 11 migration, has it under pEventSnap.
func (tx *Tx) EventSnapshot(id protocol.EventID) (protocol.SnapshotKey, error) {
	head := 1 + len(protocol.SnapshotKey{})
	b, err := tx.getHead(key(pEvent, id[:]), head)
	if err == nil && len(b) == eventPointerLen {
		b, err = tx.getHead(key(pEventBody, b), head)
	}
	if err != nil {
		return protocol.SnapshotKey{}, fmt.Errorf("get snapshot of %s: %w", id, err)
	}
	k, _, ok := splitEvent(b)
	if ok {
		return k, nil
	}
	b, err = tx.get(key(pEventSnap, id[:]))
	if err != nil {
		return k, fmt.Errorf("get snapshot of %s: %w", id, err)
	}
	copy(k[:], b)
	return k, nil
}

// RoomEvents calls fn with the IDs of the room's accepted events of depth
// from and more, by depth then ID, until fn returns false.
//
// From schema 11 on, the by-depth index (pRoomEvent) leaves out the
// events that have a timeline record (pTimeline), whose key is the same
// (room, depth, event ID): the shown messages, most events. So this walks
// both in step. An event may be in both (a message hidden and shown
// again, or one the 10→11 migration has not got to yet): it is called
// once.
func (tx *Tx) RoomEvents(room protocol.RoomID, from uint64, fn func(depth uint64, id protocol.EventID) bool) error {
	var its [2]*badger.Iterator
	for i, p := range []byte{pRoomEvent, pTimeline} {
		prefix := key(p, room[:])
		its[i] = tx.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer its[i].Close()
		its[i].Seek(key(p, room[:], u64(from)))
	}
	const skip = 1 + len(protocol.RoomID{}) // prefix and room
	rest := func(it *badger.Iterator) []byte {
		if !it.Valid() {
			return nil
		}
		return it.Item().Key()[skip:]
	}
	for {
		a, b := rest(its[0]), rest(its[1])
		var k []byte
		var next []*badger.Iterator // to move on once k is used: Next reuses its memory
		switch c := bytes.Compare(a, b); {
		case a == nil && b == nil:
			return nil
		case b == nil || (a != nil && c < 0):
			k, next = a, its[:1]
		case a == nil || c > 0:
			k, next = b, its[1:]
		default:
			k, next = a, its[:]
		}
		if len(k) != 8+len(protocol.EventID{}) {
			return fmt.Errorf("list room events: bad key %x", k)
		}
		if !fn(be64(k), protocol.EventID(k[8:])) {
			return nil
		}
		for _, it := range next {
			it.Next()
		}
	}
}

// PutNotice records that accepted event e of its room makes a system
// message (a task, member or room notice), so that a page of messages
// finds the notices among them without reading every event.
func (tx *Tx) PutNotice(e *protocol.Signed) error {
	room := e.RoomID()
	return wrap("put notice", tx.set(key(pNotice, room[:], u64(e.Depth), e.ID[:]), nil))
}

// Notices calls fn with the events PutNotice recorded for room of depth
// from and more, by depth then ID, until fn returns false.
func (tx *Tx) Notices(room protocol.RoomID, from uint64, fn func(depth uint64, id protocol.EventID) bool) error {
	prefix := key(pNotice, room[:])
	err := tx.scan(prefix, key(pNotice, room[:], u64(from)), false,
		func(k []byte, _ func() ([]byte, error)) (bool, error) {
			var id protocol.EventID
			copy(id[:], k[8:])
			return fn(be64(k), id), nil
		})
	return wrap("list notices", err)
}
