package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// ReadMarker is how far a local account has read a room. Its unread
// count is not kept in it but worked out against the room's arrivals, so
// that a post writes nothing for the members who merely did not read it
// (node.unreadOf): the messages that arrived after Seen, less the
// account's own (Own) and those since deleted or hidden (Uncounted
// records), plus Unread. Its mentions are Mentions plus the messages to
// all ([toall]) that arrived after Seen and are not gone.
type ReadMarker struct {
	Read protocol.Order `cbor:"1,keyasint"` // the last message read; zero: none
	// Unread is, in markers written before schema 9, the messages after
	// Read not the account's own; 0 since (new markers count by Seen).
	Unread uint64 `cbor:"2,keyasint"`
	// Mentions counts the messages after Seen addressed to the account by
	// [To:] or a reply, not to all (those count from the room's Uncounted
	// records), and not gone.
	Mentions uint64 `cbor:"3,keyasint"`
	// Seen is the room's Arrived when the account read: later arrivals
	// are unread.
	Seen uint64 `cbor:"4,keyasint,omitempty"`
	// Own counts the account's own messages that arrived after Seen.
	Own uint64 `cbor:"5,keyasint,omitempty"`
}

// ReadMarker returns a's marker for room; a zero marker if none is stored.
func (tx *Tx) ReadMarker(a protocol.AccountID, room protocol.RoomID) (ReadMarker, error) {
	var m ReadMarker
	err := tx.getRecord(key(pRead, accountPart(a), room[:]), &m)
	if errors.Is(err, ErrNotFound) {
		return ReadMarker{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("get read marker: %w", err)
	}
	return m, nil
}

// PutReadMarker stores a's marker for room.
func (tx *Tx) PutReadMarker(a protocol.AccountID, room protocol.RoomID, m ReadMarker) error {
	return wrap("put read marker", tx.setRecord(key(pRead, accountPart(a), room[:]), &m))
}

// Uncounted is a message that unread counting treats apart from the room's
// other arrivals: one gone since it arrived (deleted, or hidden by the
// room rules), which counts as unread for no one, or one to all
// ([toall]), which is a mention for everyone but its author while it is
// not gone. Its author never counts it either way.
type Uncounted struct {
	Arrival uint64             `cbor:"-"`
	Author  protocol.AccountID `cbor:"1,keyasint"`
	Gone    bool               `cbor:"2,keyasint,omitempty"`
	ToAll   bool               `cbor:"3,keyasint,omitempty"`
}

// PutUncounted stores u for the message of arrival u.Arrival in room, or
// drops its record if u is neither gone nor to all, and raises
// r.Uncounted to u.Arrival if it is lower (the caller stores r).
func (tx *Tx) PutUncounted(r *Room, u Uncounted) error {
	k := key(pUncounted, r.ID[:], u64(u.Arrival))
	if !u.Gone && !u.ToAll {
		return wrap("put uncounted message", tx.delete(k))
	}
	r.Uncounted = max(r.Uncounted, u.Arrival)
	return wrap("put uncounted message", tx.setRecord(k, &u))
}

// UncountedOf returns the record of the message of arrival a in room;
// a zero one (with that arrival) if there is none.
func (tx *Tx) UncountedOf(room protocol.RoomID, a uint64) (Uncounted, error) {
	u := Uncounted{Arrival: a}
	err := tx.getRecord(key(pUncounted, room[:], u64(a)), &u)
	if errors.Is(err, ErrNotFound) {
		return u, nil
	}
	return u, wrap("get uncounted message", err)
}

// UncountedAfter calls fn with the records of the messages of room that
// arrived after arrival a, in arrival order, until fn returns false.
func (tx *Tx) UncountedAfter(room protocol.RoomID, a uint64, fn func(Uncounted) bool) error {
	prefix := key(pUncounted, room[:])
	err := tx.scan(prefix, key(pUncounted, room[:], u64(a+1)), false,
		func(k []byte, val func() ([]byte, error)) (bool, error) {
			b, err := val()
			if err != nil {
				return false, err
			}
			u := Uncounted{Arrival: be64(k)}
			if err := protocol.DecodeRecord(b, &u); err != nil {
				return false, err
			}
			return fn(u), nil
		})
	return wrap("list uncounted messages", err)
}
