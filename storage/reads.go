package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// ReadMarker is how far a local account has read a room, and what it has
// not read since.
type ReadMarker struct {
	Read     protocol.Order `cbor:"1,keyasint"` // the last message read; zero: none
	Unread   uint64         `cbor:"2,keyasint"` // messages after Read, not the account's own
	Mentions uint64         `cbor:"3,keyasint"` // of those, the ones addressed to the account
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
