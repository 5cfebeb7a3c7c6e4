package storage

import (
	"errors"
	"fmt"

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
	prefix := key(pTimeline, room[:])
	var from []byte
	reverse := !forward
	if cursor != (protocol.Order{}) {
		from = key(pTimeline, room[:], u64(cursor.Depth), cursor.ID[:])
	} else {
		reverse = true // newest first, reversed below
	}
	var ms []*protocol.Message
	err := tx.scan(prefix, from, reverse, true, func(k []byte, val func() ([]byte, error)) (bool, error) {
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
		ms = append(ms, m)
		return len(ms) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", room, err)
	}
	if reverse {
		for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
			ms[i], ms[j] = ms[j], ms[i]
		}
	}
	return ms, nil
}

// CountMessagesAfter counts the room's messages after cursor (all of them
// for a zero cursor), stopping at limit, skipping deleted ones and those
// for which skip returns true.
func (tx *Tx) CountMessagesAfter(room protocol.RoomID, cursor protocol.Order, limit int, skip func(*protocol.Message) bool) (int, error) {
	n := 0
	var from []byte
	prefix := key(pTimeline, room[:])
	if cursor != (protocol.Order{}) {
		from = key(pTimeline, room[:], u64(cursor.Depth), cursor.ID[:])
	}
	err := tx.scan(prefix, from, false, true, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if from != nil && string(k) == string(from[len(prefix):]) {
			return true, nil
		}
		b, err := val()
		if err != nil {
			return false, err
		}
		m := new(protocol.Message)
		if err := protocol.DecodeRecord(b, m); err != nil {
			return false, err
		}
		if !m.Deleted && (skip == nil || !skip(m)) {
			n++
		}
		return n < limit, nil
	})
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return n, wrap("count messages", err)
}
