package storage

import (
	"errors"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
)

// Room is what the node keeps about a room besides its events.
type Room struct {
	ID       protocol.RoomID      `cbor:"1,keyasint"`
	Kind     protocol.RoomKind    `cbor:"2,keyasint"`
	Control  protocol.SnapshotKey `cbor:"3,keyasint"` // the current control state: merge of the heads' snapshots
	Created  int64                `cbor:"4,keyasint"` // unix ms, from the create event
	LastPost int64                `cbor:"5,keyasint,omitempty"`
	Events   uint64               `cbor:"6,keyasint"` // accepted events
	Messages uint64               `cbor:"7,keyasint"` // posted messages, deleted ones included
	Tasks    uint64               `cbor:"8,keyasint"`
	Files    uint64               `cbor:"9,keyasint,omitempty"`
	// Version is the room's version, its create's: every event of the
	// room is signed with it. Set when the room is first stored (schema 4
	// filled it in for rooms stored before).
	Version uint16 `cbor:"10,keyasint"`
	// Seq and Last are this node's latest event in the room, from room
	// version 2 on: its chain position and order. The node's next event
	// follows it. Zero while the node has made none there.
	Seq  uint64         `cbor:"11,keyasint,omitempty"`
	Last protocol.Order `cbor:"12,keyasint,omitzero"`
	// Own counts this node's events in the room that are not
	// acknowledgements (node.ack), for delivery receipts.
	Own uint64 `cbor:"13,keyasint,omitempty"`
	// Restricted is set once the node accepted a room.update that sets
	// the room's history visibility to "joined": until then every member
	// may read every message, and nothing needs the rule.
	Restricted bool `cbor:"14,keyasint,omitempty"`
	// Arrived counts the messages the room took in, in the order it took
	// them (Message.Arrival), deleted and hidden ones included; Uncounted
	// is the highest arrival with an Uncounted record. Unread counts are
	// worked out from them and each member's ReadMarker (since schema 9).
	Arrived   uint64 `cbor:"15,keyasint,omitempty"`
	Uncounted uint64 `cbor:"16,keyasint,omitempty"`
}

// PutRoom stores a copy of r.
func (tx *Tx) PutRoom(r *Room) error {
	c := *r
	return wrap("put room", tx.setDecoded(key(pRoom, r.ID[:]), &c))
}

// maxEncodedSize bounds a Room's CBOR: a map of at most 16 small keys,
// two 32-byte strings, the kind's string, an Order and integers.
func (r *Room) maxEncodedSize() int {
	return 3 + 16*2 + 2*34 + 9 + len(r.Kind) + orderMaxSize + 12*9 + 1
}

func (r *Room) copyTo(dst any) bool {
	d, ok := dst.(*Room)
	if ok {
		*d = *r // a Room holds no slices, maps or pointers
	}
	return ok
}

// orderMaxSize bounds a protocol.Order's CBOR: a map of two keys, a
// 64-bit depth and a 32-byte ID.
const orderMaxSize = 1 + 2 + 9 + 34

// Room returns a room; the error wraps ErrNotFound if the node has none
// with that ID.
func (tx *Tx) Room(id protocol.RoomID) (*Room, error) {
	r := new(Room)
	if err := tx.getRecord(key(pRoom, id[:]), r); err != nil {
		return nil, fmt.Errorf("get room %s: %w", id, err)
	}
	return r, nil
}

// Rooms calls fn for every room the node holds, until fn returns false.
func (tx *Tx) Rooms(fn func(*Room) bool) error {
	err := tx.scan([]byte{pRoom}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		r := new(Room)
		if err := protocol.DecodeRecord(b, r); err != nil {
			return false, err
		}
		return fn(r), nil
	})
	return wrap("list rooms", err)
}

// Tip is a room's heads record: its current heads, and what this node's
// next event there follows besides them (room version 2 on): the room's
// version, this node's latest event there and its chain position. So a
// post reads one record to sign its event. Records of schema 6 and older
// hold the heads alone, and decode with a zero Version: the caller then
// reads the room record.
type Tip struct {
	Heads   []protocol.Order `cbor:"1,keyasint"`
	Version uint16           `cbor:"2,keyasint,omitempty"`
	Seq     uint64           `cbor:"3,keyasint,omitempty"`
	Last    protocol.Order   `cbor:"4,keyasint,omitzero"`
}

// Tip returns the room's heads record; a zero Tip if the room has none.
func (tx *Tx) Tip(room protocol.RoomID) (Tip, error) {
	var t Tip
	k := key(pHeads, room[:])
	if tx.getDecoded(k, &t) {
		return t, nil
	}
	b, err := tx.get(k)
	if errors.Is(err, ErrNotFound) {
		return t, nil
	}
	if err == nil {
		if len(b) > 0 && b[0]>>5 == 4 { // a CBOR array: the heads alone
			err = protocol.DecodeRecord(b, &t.Heads)
		} else {
			err = protocol.DecodeRecord(b, &t)
		}
	}
	if err != nil {
		return t, fmt.Errorf("get heads of %s: %w", room, err)
	}
	return t, nil
}

// Heads returns the room's current heads, in no particular order.
func (tx *Tx) Heads(room protocol.RoomID) ([]protocol.Order, error) {
	t, err := tx.Tip(room)
	return t.Heads, err
}

// AdvanceHeads makes e a head of its room and removes its parents from the
// heads of t, the room's heads record as Tip returned it in this
// transaction, and stores t's Version, Seq and Last with them. The heads
// are one record per room, rewritten on every event: a room has few
// heads, and a key per head would leave a deleted key behind for every
// event, which every later read of the heads would step over.
func (tx *Tx) AdvanceHeads(e *protocol.Signed, t Tip) error {
	room := e.RoomID()
	out := make([]protocol.Order, 0, len(t.Heads)+1)
	for _, h := range t.Heads {
		if !slices.Contains(e.Prev, h.ID) && h.ID != e.ID {
			out = append(out, h)
		}
	}
	t.Heads = append(out, e.Order())
	return wrap("advance heads", tx.setDecoded(key(pHeads, room[:]), &t))
}

// maxEncodedSize bounds a Tip's CBOR: a map of four keys, the heads'
// array and its Orders, a version, a sequence number and an Order.
func (t *Tip) maxEncodedSize() int {
	return 1 + 4 + 9 + len(t.Heads)*orderMaxSize + 3 + 9 + orderMaxSize
}

func (t *Tip) copyTo(dst any) bool {
	d, ok := dst.(*Tip)
	if ok {
		*d = *t
		d.Heads = slices.Clone(t.Heads)
	}
	return ok
}

// SetMember records that a local or remote account is a member of room
// with role, for listing an account's rooms.
func (tx *Tx) SetMember(a protocol.AccountID, room protocol.RoomID, role protocol.Role) error {
	return wrap("set member", tx.set(key(pMember, accountPart(a), room[:]), []byte(role)))
}

// RemoveMember removes what SetMember recorded.
func (tx *Tx) RemoveMember(a protocol.AccountID, room protocol.RoomID) error {
	return wrap("remove member", tx.delete(key(pMember, accountPart(a), room[:])))
}

// Membership is one room an account is in.
type Membership struct {
	Room protocol.RoomID
	Role protocol.Role
}

// RoomsOf returns the rooms a is a member of, by room ID.
func (tx *Tx) RoomsOf(a protocol.AccountID) ([]Membership, error) {
	var ms []Membership
	err := tx.scan(key(pMember, accountPart(a)), nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		if err != nil {
			return false, err
		}
		var m Membership
		copy(m.Room[:], k)
		m.Role = protocol.Role(v)
		ms = append(ms, m)
		return true, nil
	})
	return ms, wrap("list rooms of "+string(a), err)
}

// IsMember reports whether RoomsOf(a) holds room.
func (tx *Tx) IsMember(a protocol.AccountID, room protocol.RoomID) (protocol.Role, bool, error) {
	v, err := tx.get(key(pMember, accountPart(a), room[:]))
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get membership: %w", err)
	}
	return protocol.Role(v), true, nil
}
