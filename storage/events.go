package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// PutEvent stores an accepted event, the key of the control snapshot after
// it, and its place in the room's by-depth index.
func (tx *Tx) PutEvent(e *protocol.Signed, snap protocol.SnapshotKey) error {
	room := e.RoomID()
	if err := tx.set(key(pEvent, e.ID[:]), e.Wire()); err != nil {
		return wrap("put event", err)
	}
	if err := tx.set(key(pEventSnap, e.ID[:]), snap[:]); err != nil {
		return wrap("put event", err)
	}
	return wrap("put event", tx.set(key(pRoomEvent, room[:], u64(e.Depth), e.ID[:]), nil))
}

// Event returns an accepted event, or nil if the store has none with id.
func (tx *Tx) Event(id protocol.EventID) (*protocol.Signed, error) {
	b, err := tx.get(key(pEvent, id[:]))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	e, err := protocol.DecodeStored(b)
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return e, nil
}

// EventWire returns the wire bytes of an accepted event as stored, or nil
// if the store has none with id: for sending it on without decoding it.
func (tx *Tx) EventWire(id protocol.EventID) ([]byte, error) {
	b, err := tx.get(key(pEvent, id[:]))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return b, nil
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
func (tx *Tx) EventSnapshot(id protocol.EventID) (protocol.SnapshotKey, error) {
	var k protocol.SnapshotKey
	b, err := tx.get(key(pEventSnap, id[:]))
	if err != nil {
		return k, fmt.Errorf("get snapshot of %s: %w", id, err)
	}
	copy(k[:], b)
	return k, nil
}

// RoomEvents calls fn with the IDs of the room's accepted events of depth
// from and more, by depth then ID, until fn returns false.
func (tx *Tx) RoomEvents(room protocol.RoomID, from uint64, fn func(depth uint64, id protocol.EventID) bool) error {
	prefix := key(pRoomEvent, room[:])
	err := tx.scan(prefix, key(pRoomEvent, room[:], u64(from)), false,
		func(k []byte, _ func() ([]byte, error)) (bool, error) {
			var id protocol.EventID
			copy(id[:], k[8:])
			return fn(be64(k), id), nil
		})
	return wrap("list room events", err)
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
