package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// PastName is the name and organization a partner's account last had as
// a member of a room this node holds.
type PastName struct {
	Name string `cbor:"1,keyasint"`
	Org  string `cbor:"2,keyasint,omitempty"`
}

// PutPastName keeps p as the name account a of a partner's node had in a
// room it has left or was removed from.
func (tx *Tx) PutPastName(a protocol.AccountID, p PastName) error {
	return wrap("put past name", tx.setRecord(key(pPastName, accountPart(a)), &p))
}

// PastName returns what PutPastName kept for a; false if nothing.
func (tx *Tx) PastName(a protocol.AccountID) (PastName, bool, error) {
	var p PastName
	err := tx.getRecord(key(pPastName, accountPart(a)), &p)
	if errors.Is(err, ErrNotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("get past name of %s: %w", a, err)
	}
	return p, true, nil
}
