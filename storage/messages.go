package storage

import (
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
)

// PutMessage stores a message's current state in its room's timeline,
// at its place in display order (depth, then ID).
func (tx *Tx) PutMessage(room protocol.RoomID, m *protocol.Message) error {
	if err := tx.setRecord(key(pTimeline, room[:], u64(m.Depth), m.ID[:]), m); err != nil {
		return wrap("put message", err)
	}
	return wrap("put message", tx.set(key(pMessage, m.ID[:]), append(room[:], u64(m.Depth)...)))
}

// Message returns a message and its room; the error wraps ErrNotFound if
// there is no message with that ID.
func (tx *Tx) Message(id protocol.EventID) (protocol.RoomID, *protocol.Message, error) {
	var room protocol.RoomID
	loc, err := tx.get(key(pMessage, id[:]))
	if err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	copy(room[:], loc)
	m := new(protocol.Message)
	if err := tx.getRecord(key(pTimeline, loc, id[:]), m); err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	return room, m, nil
}

// Messages returns up to limit messages of room in display order. With a
// zero cursor it returns the newest; otherwise those strictly after cursor
// (forward) or strictly before it (backward). The result is always in
// display order, oldest first.
func (tx *Tx) Messages(room protocol.RoomID, cursor protocol.Order, forward bool, limit int) ([]*protocol.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	reverse := !forward || cursor == (protocol.Order{}) // no cursor: newest first, reversed below
	var ms []*protocol.Message
	err := tx.timeline(room, cursor, reverse, func(m *protocol.Message) bool {
		ms = append(ms, m)
		return len(ms) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", room, err)
	}
	if reverse {
		slices.Reverse(ms)
	}
	return ms, nil
}

// CountMessagesAfter counts the room's messages after cursor (all of them
// for a zero cursor), stopping at limit, skipping deleted ones and those
// for which skip returns true.
func (tx *Tx) CountMessagesAfter(room protocol.RoomID, cursor protocol.Order, limit int, skip func(*protocol.Message) bool) (int, error) {
	n := 0
	err := tx.timeline(room, cursor, false, func(m *protocol.Message) bool {
		if !m.Deleted && (skip == nil || !skip(m)) {
			n++
		}
		return n < limit
	})
	return n, wrap("count messages", err)
}

// timeline calls fn for the room's messages strictly after cursor (before
// it, in reverse), or from the start (end) for a zero cursor, until fn
// returns false.
func (tx *Tx) timeline(room protocol.RoomID, cursor protocol.Order, reverse bool, fn func(*protocol.Message) bool) error {
	prefix := key(pTimeline, room[:])
	var from []byte
	if cursor != (protocol.Order{}) {
		from = key(pTimeline, room[:], u64(cursor.Depth), cursor.ID[:])
	}
	return tx.scan(prefix, from, reverse, true, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if from != nil && string(k) == string(from[len(prefix):]) {
			return true, nil // strictly after/before the cursor
		}
		b, err := val()
		if err != nil {
			return false, err
		}
		m := new(protocol.Message)
		if err := protocol.DecodeRecord(b, m); err != nil {
			return false, err
		}
		return fn(m), nil
	})
}
