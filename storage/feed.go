package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// feedCounter is the pCounter kind holding the last change sequence number.
// It cannot clash with an AliasKind: those are letters.
const feedCounter byte = 0x01

// Change is one entry of the node's change feed: something happened in a
// room that clients watching it want to hear about. Entries are numbered
// from 1 in commit order and never change, so a client that remembers the
// last number it saw can resume after a disconnect without missing any.
type Change struct {
	Kind    string             `cbor:"1,keyasint"`           // what happened; the node defines the kinds
	Room    protocol.RoomID    `cbor:"2,keyasint"`           // where
	Event   protocol.EventID   `cbor:"3,keyasint,omitempty"` // the message or task concerned, if any
	Account protocol.AccountID `cbor:"4,keyasint,omitempty"` // the account concerned (a member change, a read marker), if any
	// Alias is, in the stored record only, the message alias of Event,
	// kept instead of it when the Update that appended the change handed
	// the alias out (a new message's or task's): 8 bytes that compress,
	// not 32 random ones (schema 11 on; ~20 bytes on disk per message).
	// Changes puts Event back and Alias to 0.
	Alias uint64 `cbor:"5,keyasint,omitempty"`
	// Depth is the depth of the message Event in its room, when the
	// change records it (the node records it for a new message, whose
	// event it holds): ChangedMessage then reads the message's timeline
	// record at once instead of finding it from the event. 0: not
	// recorded (every change before it was added, and others).
	Depth uint64 `cbor:"6,keyasint,omitempty"`
}

// AppendChange adds c to the change feed and returns its sequence number.
func (tx *Tx) AppendChange(c Change) (uint64, error) {
	seq, err := tx.nextNumber(feedCounter)
	if err != nil {
		return 0, fmt.Errorf("append change: %w", err)
	}
	c.Alias = 0
	if c.Event != (protocol.EventID{}) {
		if a, ok := tx.handed[string(key(byte(AliasMessage), c.Event[:]))]; ok {
			c.Alias, c.Event = a, protocol.EventID{}
		}
	}
	return seq, wrap("append change", tx.setRecord(key(pChange, u64(seq)), &c))
}

// LastChange returns the sequence number of the newest change; 0 if none.
// It is the feed's last key, not its counter, which runs ahead of it (see
// counters.go); in an Update, the Update's own changes count.
func (tx *Tx) LastChange() (uint64, error) {
	var seq uint64
	for _, i := range tx.ownBy[pChange] {
		if o := tx.ops[i]; !o.dropped && !o.del && len(o.key) == 9 {
			seq = max(seq, be64(o.key[1:]))
		}
	}
	err := tx.scan([]byte{pChange}, nil, true, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		if len(k) == 8 {
			seq = max(seq, be64(k))
		}
		return false, nil
	})
	return seq, wrap("last change", err)
}

// Changes calls fn for each change after seq after, oldest first, until fn
// returns false.
func (tx *Tx) Changes(after uint64, fn func(seq uint64, c *Change) bool) error {
	prefix := []byte{pChange}
	err := tx.scan(prefix, key(pChange, u64(after+1)), false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		var c Change
		if err := protocol.DecodeRecord(b, &c); err != nil {
			return false, err
		}
		if c.Alias != 0 {
			id, err := tx.Resolve(AliasMessage, c.Alias)
			if err != nil {
				return false, fmt.Errorf("change %d: %w", be64(k), err)
			}
			c.Event, c.Alias = protocol.EventID(id), 0
		}
		return fn(be64(k), &c), nil
	})
	return wrap("scan changes", err)
}

// FetchCursor returns the last message of room fetched with token h
// through the ChatWork API's unforced message list; the zero Order if
// none. Cursors are per token, as in ChatWork: two integrations sharing
// an account each get every message.
func (tx *Tx) FetchCursor(h TokenHash, room protocol.RoomID) (protocol.Order, error) {
	var o protocol.Order
	err := tx.getRecord(key(pCursor, h[:], room[:]), &o)
	if errors.Is(err, ErrNotFound) {
		return protocol.Order{}, nil
	}
	return o, wrap("get fetch cursor", err)
}

// PutFetchCursor records the last message of room fetched with token h.
func (tx *Tx) PutFetchCursor(h TokenHash, room protocol.RoomID, o protocol.Order) error {
	return wrap("put fetch cursor", tx.setRecord(key(pCursor, h[:], room[:]), &o))
}

// deleteFetchCursors deletes the fetch cursors of token h, with the token.
func (tx *Tx) deleteFetchCursors(h TokenHash) error {
	var ks [][]byte
	err := tx.scan(key(pCursor, h[:]), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		ks = append(ks, key(pCursor, h[:], k))
		return true, nil
	})
	if err != nil {
		return wrap("delete fetch cursors", err)
	}
	for _, k := range ks {
		if err := tx.delete(k); err != nil {
			return wrap("delete fetch cursors", err)
		}
	}
	return nil
}
