package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Link is a room's invitation link. Links are this node's own: they are
// not room events and are not shared with partner nodes.
type Link struct {
	Room           protocol.RoomID    `cbor:"1,keyasint"`
	Code           string             `cbor:"2,keyasint"` // the link's path part: 1-50 of A-Z a-z 0-9 _ -
	NeedAcceptance bool               `cbor:"3,keyasint,omitempty"`
	Description    string             `cbor:"4,keyasint,omitempty"`
	Creator        protocol.AccountID `cbor:"5,keyasint"`
	Created        int64              `cbor:"6,keyasint"` // unix ms
	Requests       []JoinRequest      `cbor:"7,keyasint,omitempty"`
}

// JoinRequest is an account's request to join a room through a link that
// needs an admin's approval.
type JoinRequest struct {
	Account protocol.AccountID `cbor:"1,keyasint"`
	Time    int64              `cbor:"2,keyasint"` // unix ms
	Message string             `cbor:"3,keyasint,omitempty"`
}

// PutLink stores a room's link and keeps the code index in step with old,
// the state PutLink last stored for the room (nil for a new link). It does
// not check that the code is free: callers look it up with LinkByCode
// first.
func (tx *Tx) PutLink(old, l *Link) error {
	if old != nil && old.Code != l.Code {
		if err := tx.delete(key(pLinkCode, []byte(old.Code))); err != nil {
			return wrap("put link", err)
		}
	}
	if err := tx.set(key(pLinkCode, []byte(l.Code)), l.Room[:]); err != nil {
		return wrap("put link", err)
	}
	return wrap("put link", tx.setRecord(key(pLink, l.Room[:]), l))
}

// Link returns a room's link; the error wraps ErrNotFound if it has none.
func (tx *Tx) Link(room protocol.RoomID) (*Link, error) {
	l := new(Link)
	if err := tx.getRecord(key(pLink, room[:]), l); err != nil {
		return nil, fmt.Errorf("get link of %s: %w", room, err)
	}
	return l, nil
}

// LinkByCode returns the link with a code; the error wraps ErrNotFound if
// there is none.
func (tx *Tx) LinkByCode(code string) (*Link, error) {
	b, err := tx.get(key(pLinkCode, []byte(code)))
	if err != nil {
		return nil, fmt.Errorf("get link %q: %w", code, err)
	}
	var room protocol.RoomID
	copy(room[:], b)
	return tx.Link(room)
}

// DeleteLink deletes a room's link l and its code index entry.
func (tx *Tx) DeleteLink(l *Link) error {
	if err := tx.delete(key(pLinkCode, []byte(l.Code))); err != nil {
		return wrap("delete link", err)
	}
	return wrap("delete link", tx.delete(key(pLink, l.Room[:])))
}
