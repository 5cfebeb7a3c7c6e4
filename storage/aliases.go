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
	c, err := tx.get(key(pCounter, []byte{byte(kind)}))
	switch {
	case err == nil:
		n = be64(c)
	case !errors.Is(err, ErrNotFound):
		return 0, fmt.Errorf("get alias counter: %w", err)
	}
	n++
	if err := tx.set(key(pCounter, []byte{byte(kind)}), u64(n)); err != nil {
		return 0, wrap("assign alias", err)
	}
	if err := tx.set(key(pAlias, []byte{byte(kind)}, global), u64(n)); err != nil {
		return 0, wrap("assign alias", err)
	}
	if tx.handed == nil {
		tx.handed = map[string]uint64{}
	}
	tx.handed[string(key(byte(kind), global))] = n
	return n, wrap("assign alias", tx.set(key(pAliasOf, []byte{byte(kind)}, u64(n)), global))
}

// LookupAlias returns the alias of a global key without assigning one; the
// error wraps ErrNotFound if it has none.
func (tx *Tx) LookupAlias(kind AliasKind, global []byte) (uint64, error) {
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
