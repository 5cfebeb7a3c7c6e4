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
	Arrival  uint64             `cbor:"10,keyasint,omitempty"`
}

// Message is a message as its room's timeline holds it: its current
// state, and its message_id alias.
type Message struct {
	protocol.Message
	Alias uint64
	// Arrival is the message's number in the order its room took its
	// messages in (Room.Arrived when it came), which unread counting goes
	// by; 0 for messages stored before schema 9.
	Arrival uint64
}

// decodeMessage decodes the timeline record of message id at depth. The
// alias is 0 if the record does not hold it (schema 2; see withAlias).
func decodeMessage(b []byte, depth uint64, id protocol.EventID) (*Message, error) {
	var te timelineEntry
	if err := protocol.DecodeRecord(b, &te); err != nil {
		return nil, err
	}
	return &Message{Message: protocol.Message{ID: id, Author: te.Author, Depth: depth, Time: te.Time, Body: te.Body,
		Edit: te.Edit, EditedAt: te.EditedAt, Deleted: te.Deleted}, Alias: te.Alias, Arrival: te.Arrival}, nil
}

// withAlias looks up the alias of m if its record did not hold it.
func (tx *Tx) withAlias(m *Message) error {
	if m.Alias != 0 {
		return nil
	}
	alias, err := tx.LookupAlias(AliasMessage, m.ID[:])
	m.Alias = alias
	return err
}

// PutMessage stores a message's current state and alias in its room's
// timeline, at its place in display order (depth, then ID).
func (tx *Tx) PutMessage(room protocol.RoomID, m *Message) error {
	if m.Alias == 0 {
		return fmt.Errorf("put message %s: no alias", m.ID)
	}
	te := timelineEntry{Author: m.Author, Time: m.Time, Body: m.Body, Edit: m.Edit, EditedAt: m.EditedAt,
		Deleted: m.Deleted, Alias: m.Alias, Arrival: m.Arrival}
	b, err := protocol.EncodeRecord(&te)
	if err != nil {
		return wrap("put message", err)
	}
	// The record it replaces may hold text that was edited away or
	// deleted: it must not outlive the new one (setDiscard).
	if err := tx.setDiscard(timelineKey(room, m.Depth, m.ID), b); err != nil {
		return wrap("put message", err)
	}
	// The record holds the alias: an alias handed out by this Update
	// need not be kept in the alias index too (schema 10 on).
	tx.unset(key(pAlias, []byte{byte(AliasMessage)}, m.ID[:]), u64(m.Alias))
	// And its key is the event's place in the room's by-depth index:
	// one written by this Update need not be kept (schema 11 on, see
	// RoomEvents).
	tx.unset(roomEventKey(room, m.Depth, m.ID), nil)
	return nil
}

// timelineKey is the key of the timeline record of message id at depth
// in room.
func timelineKey(room protocol.RoomID, depth uint64, id protocol.EventID) []byte {
	return key(pTimeline, room[:], u64(depth), id[:])
}

// messageKey returns the timeline key of message id, found from its
// post event (pEvent), which holds its room and depth; nil if the store
// holds no event id. Up to schema 9 an index (pMessage) held them
// again; the 9→10 migration deletes it.
func (tx *Tx) messageKey(id protocol.EventID) ([]byte, error) {
	b, err := tx.eventValue(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, wire, _ := splitEvent(b)
	e, err := protocol.DecodeStored(wire)
	if err != nil {
		return nil, err
	}
	room := e.RoomID()
	return timelineKey(room, e.Depth, id), nil
}

// timelineAlias returns the alias the timeline record of message id
// holds: 0 if there is no such record, or it holds none (schema 2).
// From schema 10 on, a message's alias is in the alias index (pAlias)
// only while its timeline record does not hold it: hidden messages, and
// schema 2 records; tasks and notices, which have no timeline record,
// keep theirs there.
func (tx *Tx) timelineAlias(id protocol.EventID) (uint64, error) {
	k, err := tx.messageKey(id)
	if err != nil || k == nil {
		return 0, wrap("alias of message "+id.String(), err)
	}
	b, err := tx.get(k)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	var te struct {
		Alias uint64 `cbor:"9,keyasint,omitempty"`
	}
	if err == nil {
		err = protocol.DecodeRecord(b, &te)
	}
	if err != nil {
		return 0, fmt.Errorf("alias of message %s: %w", id, err)
	}
	return te.Alias, nil
}

// Message returns a message and its room; the error wraps ErrNotFound if
// there is no message with that ID.
func (tx *Tx) Message(id protocol.EventID) (protocol.RoomID, *Message, error) {
	var room protocol.RoomID
	k, err := tx.messageKey(id)
	if err == nil && k == nil {
		err = ErrNotFound
	}
	if err != nil {
		return room, nil, fmt.Errorf("get message %s: %w", id, err)
	}
	copy(room[:], k[1:])
	m, err := tx.messageAt(k, be64(k[1+len(room):]), id)
	return room, m, err
}

// ChangedMessage returns the message change c is about (c.Event) and its
// room, as Message does. A change that records the message's depth has
// its room and depth, so the message's timeline record is read at once;
// Message first reads the event for them.
func (tx *Tx) ChangedMessage(c *Change) (protocol.RoomID, *Message, error) {
	if c.Depth == 0 {
		return tx.Message(c.Event)
	}
	m, err := tx.messageAt(timelineKey(c.Room, c.Depth, c.Event), c.Depth, c.Event)
	return c.Room, m, err
}

// messageAt reads the timeline record k of message id at depth.
func (tx *Tx) messageAt(k []byte, depth uint64, id protocol.EventID) (*Message, error) {
	b, err := tx.get(k)
	if err != nil {
		return nil, fmt.Errorf("get message %s: %w", id, err)
	}
	m, err := decodeMessage(b, depth, id)
	if err == nil {
		err = tx.withAlias(m)
	}
	if err != nil {
		return nil, fmt.Errorf("get message %s: %w", id, err)
	}
	return m, nil
}

// Messages returns up to limit messages of room in display order. With a
// zero cursor it returns the newest; otherwise those strictly after cursor
// (forward) or strictly before it (backward). The result is always in
// display order, oldest first.
func (tx *Tx) Messages(room protocol.RoomID, cursor protocol.Order, forward bool, limit int) ([]*Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	reverse := !forward || cursor == (protocol.Order{}) // no cursor: newest first, reversed below
	var ms []*Message
	err := tx.timeline(room, cursor, reverse, func(m *Message) bool {
		ms = append(ms, m)
		return len(ms) < limit
	})
	for _, m := range ms {
		if err == nil {
			err = tx.withAlias(m)
		}
	}
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
func (tx *Tx) CountMessagesAfter(room protocol.RoomID, cursor protocol.Order, limit int, skip func(*Message) bool) (int, error) {
	n := 0
	err := tx.timeline(room, cursor, false, func(m *Message) bool {
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
func (tx *Tx) timeline(room protocol.RoomID, cursor protocol.Order, reverse bool, fn func(*Message) bool) error {
	prefix := key(pTimeline, room[:])
	var from []byte
	if cursor != (protocol.Order{}) {
		from = timelineKey(room, cursor.Depth, cursor.ID)
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
		m, err := decodeMessage(b, be64(k), protocol.EventID(k[8:]))
		if err != nil {
			return false, err
		}
		return fn(m), nil
	})
}

// ExpiredMessages returns the IDs of up to limit messages of room, not
// deleted, posted (by their time) before cutoff, unix milliseconds. Times
// are the origins' and need not grow with depth, so it scans the whole
// timeline: the retention job's cost is one scan of each room with a
// retention per round.
func (tx *Tx) ExpiredMessages(room protocol.RoomID, cutoff int64, limit int) ([]protocol.EventID, error) {
	var ids []protocol.EventID
	err := tx.timeline(room, protocol.Order{}, false, func(m *Message) bool {
		if !m.Deleted && m.Time < cutoff {
			ids = append(ids, m.ID)
		}
		return len(ids) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("list expired messages of %s: %w", room, err)
	}
	return ids, nil
}
