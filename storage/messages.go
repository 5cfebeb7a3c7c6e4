package storage

import (
	"errors"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
)

// timelineEntry is a message as its timeline record (pTimeline) holds it:
// the record's key holds the room, the depth and the ID. Schema 2 records
// hold the ID and depth in the value too (keys 1 and 3, ignored now), no
// alias, and a zero Edit.
type timelineEntry struct {
	Author   protocol.AccountID `cbor:"2,keyasint"`
	Time     int64              `cbor:"4,keyasint"`
	Body     string             `cbor:"5,keyasint"`
	Edit     protocol.Order     `cbor:"6,keyasint,omitzero"`
	EditedAt int64              `cbor:"7,keyasint,omitempty"`
	Deleted  bool               `cbor:"8,keyasint,omitempty"`
	Alias    uint64             `cbor:"9,keyasint,omitempty"` // the message_id alias; 0: look it up (schema 2)
}

// decodeMessage decodes the timeline record of message id at depth, and
// returns it and its alias (0 if the record does not hold it).
func decodeMessage(b []byte, depth uint64, id protocol.EventID) (*protocol.Message, uint64, error) {
	var te timelineEntry
	if err := protocol.DecodeRecord(b, &te); err != nil {
		return nil, 0, err
	}
	return &protocol.Message{ID: id, Author: te.Author, Depth: depth, Time: te.Time, Body: te.Body, Edit: te.Edit,
		EditedAt: te.EditedAt, Deleted: te.Deleted}, te.Alias, nil
}

// PutMessage stores a message's current state in its room's timeline,
// at its place in display order (depth, then ID), with its alias: a new
// message gets its alias (Alias) first.
func (tx *Tx) PutMessage(room protocol.RoomID, m *protocol.Message) error {
	alias, err := tx.LookupAlias(AliasMessage, m.ID[:])
	if err != nil && !errors.Is(err, ErrNotFound) {
		return wrap("put message", err)
	}
	te := timelineEntry{Author: m.Author, Time: m.Time, Body: m.Body, Edit: m.Edit, EditedAt: m.EditedAt,
		Deleted: m.Deleted, Alias: alias}
	if err := tx.setRecord(key(pTimeline, room[:], u64(m.Depth), m.ID[:]), &te); err != nil {
		return wrap("put message", err)
	}
	return wrap("put message", tx.set(key(pMessage, m.ID[:]), append(room[:], u64(m.Depth)...)))
}

// Message returns a message and its room; the error wraps ErrNotFound if
// there is no message with that ID.
func (tx *Tx) Message(id protocol.EventID) (protocol.RoomID, *protocol.Message, error) {
	var room protocol.RoomID
	loc, err := tx.get(key(pMessage, id[:]))
	if err == nil && len(loc) != len(room)+8 {
		err = fmt.Errorf("bad location %x", loc)
	}
	if err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	copy(room[:], loc)
	b, err := tx.get(key(pTimeline, loc, id[:]))
	if err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	m, alias, err := decodeMessage(b, be64(loc[len(room):]), id)
	if err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	tx.noteAlias(id, alias)
	return room, m, nil
}

// noteAlias remembers the alias of message id, read with it, for
// LookupAlias: aliases never change.
func (tx *Tx) noteAlias(id protocol.EventID, alias uint64) {
	if alias == 0 {
		return
	}
	if tx.aliases == nil {
		tx.aliases = make(map[protocol.EventID]uint64)
	}
	tx.aliases[id] = alias
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
	err := tx.timeline(room, cursor, reverse, func(m *protocol.Message, alias uint64) bool {
		tx.noteAlias(m.ID, alias)
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
	err := tx.timeline(room, cursor, false, func(m *protocol.Message, _ uint64) bool {
		if !m.Deleted && (skip == nil || !skip(m)) {
			n++
		}
		return n < limit
	})
	return n, wrap("count messages", err)
}

// timeline calls fn for the room's messages, with their aliases (0 if the
// record does not hold it), strictly after cursor (before it, in reverse),
// or from the start (end) for a zero cursor, until fn returns false.
func (tx *Tx) timeline(room protocol.RoomID, cursor protocol.Order, reverse bool, fn func(m *protocol.Message, alias uint64) bool) error {
	prefix := key(pTimeline, room[:])
	var from []byte
	if cursor != (protocol.Order{}) {
		from = key(pTimeline, room[:], u64(cursor.Depth), cursor.ID[:])
	}
	return tx.scan(prefix, from, reverse, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if from != nil && string(k) == string(from[len(prefix):]) {
			return true, nil // strictly after/before the cursor
		}
		if len(k) != 8+len(protocol.EventID{}) {
			return false, fmt.Errorf("bad timeline key %x", k)
		}
		b, err := val()
		if err != nil {
			return false, err
		}
		m, alias, err := decodeMessage(b, be64(k), protocol.EventID(k[8:]))
		if err != nil {
			return false, err
		}
		return fn(m, alias), nil
	})
}
