package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// ContactAnswer is a local account's answer to a contact request: the
// direct chat another account opened with it.
type ContactAnswer byte

// Answers.
const (
	ContactPending  ContactAnswer = 0 // not answered (never stored)
	ContactAccepted ContactAnswer = 'a'
	ContactRejected ContactAnswer = 'r'
)

// ContactAnswer returns a's answer about the direct chat room.
func (tx *Tx) ContactAnswer(a protocol.AccountID, room protocol.RoomID) (ContactAnswer, error) {
	b, err := tx.get(key(pContact, accountPart(a), room[:]))
	if errors.Is(err, ErrNotFound) {
		return ContactPending, nil
	}
	if err != nil || len(b) != 1 {
		return ContactPending, fmt.Errorf("get contact answer: %v %w", b, err)
	}
	return ContactAnswer(b[0]), nil
}

// PutContactAnswer records a's answer about the direct chat room.
func (tx *Tx) PutContactAnswer(a protocol.AccountID, room protocol.RoomID, ans ContactAnswer) error {
	return wrap("put contact answer", tx.set(key(pContact, accountPart(a), room[:]), []byte{byte(ans)}))
}
