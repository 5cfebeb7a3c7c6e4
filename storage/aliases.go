package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// AliasKind names a family of local numeric aliases. The ChatWork API
// addresses rooms, accounts, tasks and messages by small numbers; the node
// hands them out in order as it first meets each global ID, and they never
// change.
type AliasKind byte

// Alias kinds.
const (
	AliasRoom    AliasKind = 'r'
	AliasAccount AliasKind = 'a'
	AliasTask    AliasKind = 't'
	AliasMessage AliasKind = 'm'
	AliasFile    AliasKind = 'f' // a file post's event ID: the ChatWork API's file_id
)

// Alias returns the alias of a global key (a room or event ID's bytes, an
// account ID's string), handing out the next one if it has none yet.
//
// A message's alias is kept in its timeline record, and in the alias
// index (pAlias) only while its timeline record does not hold it (see
// timelineAlias); the index from alias to message (pAliasOf) holds them
// all.
func (tx *Tx) Alias(kind AliasKind, global []byte) (uint64, error) {
	n, err := tx.LookupAlias(kind, global)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if n, err = tx.nextAlias(kind); err != nil {
		return 0, err
	}
	if err := tx.set(key(pAlias, []byte{byte(kind)}, global), u64(n)); err != nil {
		return 0, wrap("assign alias", err)
	}
	return n, tx.handOut(kind, global, n)
}

// MessageAlias returns the alias of message id as its timeline record
// is about to be written (PutMessage): the one the alias index holds for
// it (a message hidden, then shown again), or else the next one, recorded
// only from alias to message, since the timeline record keeps it. It is
// Alias for that case without Alias's reads of the event and the
// timeline record, which cannot hold an alias yet.
func (tx *Tx) MessageAlias(id protocol.EventID) (uint64, error) {
	b, err := tx.get(key(pAlias, []byte{byte(AliasMessage)}, id[:]))
	if err == nil {
		return be64(b), nil
	}
	if !errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("get alias of message %s: %w", id, err)
	}
	return tx.NewMessageAlias(id)
}

// NewMessageAlias is MessageAlias for a message that has no alias yet
// (its post is being accepted now): it hands out the next alias without
// looking for one.
func (tx *Tx) NewMessageAlias(id protocol.EventID) (uint64, error) {
	n, err := tx.nextAlias(AliasMessage)
	if err != nil {
		return 0, err
	}
	return n, tx.handOut(AliasMessage, id[:], n)
}

// handOut records alias n of kind as global's (pAliasOf), and as handed
// out by this Update (Tx.handed, which the change feed reads).
func (tx *Tx) handOut(kind AliasKind, global []byte, n uint64) error {
	if tx.handed == nil {
		tx.handed = map[string]uint64{}
	}
	tx.handed[string(key(byte(kind), global))] = n
	return wrap("assign alias", tx.set(key(pAliasOf, []byte{byte(kind)}, u64(n)), global))
}

// nextAlias hands out the next alias of kind.
func (tx *Tx) nextAlias(kind AliasKind) (uint64, error) {
	n, err := tx.nextNumber(byte(kind))
	return n, wrap("assign alias", err)
}

// LookupAlias returns the alias of a global key without assigning one; the
// error wraps ErrNotFound if it has none.
func (tx *Tx) LookupAlias(kind AliasKind, global []byte) (uint64, error) {
	if n, ok := tx.handed[string(key(byte(kind), global))]; ok {
		// Handed out by this Update: a new message's alias, asked for
		// right after its post was applied, is not read back.
		return n, nil
	}
	b, err := tx.get(key(pAlias, []byte{byte(kind)}, global))
	if errors.Is(err, ErrNotFound) && kind == AliasMessage && len(global) == len(protocol.EventID{}) {
		n, terr := tx.timelineAlias(protocol.EventID(global))
		if terr != nil || n != 0 {
			return n, wrap("get alias", terr)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("get alias: %w", err)
	}
	return be64(b), nil
}

// Resolve returns the global key behind an alias; the error wraps
// ErrNotFound for an alias never handed out.
func (tx *Tx) Resolve(kind AliasKind, alias uint64) ([]byte, error) {
	b, err := tx.get(key(pAliasOf, []byte{byte(kind)}, u64(alias)))
	if err != nil {
		return nil, fmt.Errorf("resolve alias %c%d: %w", kind, alias, err)
	}
	return b, nil
}
