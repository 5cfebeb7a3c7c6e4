package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// RoomByAlias returns the room a ChatWork-style numeric room_id names.
func (n *Node) RoomByAlias(ctx context.Context, alias uint64) (protocol.RoomID, error) {
	var id protocol.RoomID
	err := n.resolve(storage.AliasRoom, alias, func(b []byte) { copy(id[:], b) })
	return id, aliasError("room", alias, err)
}

// TaskByAlias returns the task a numeric task_id names.
func (n *Node) TaskByAlias(ctx context.Context, alias uint64) (protocol.EventID, error) {
	var id protocol.EventID
	err := n.resolve(storage.AliasTask, alias, func(b []byte) { copy(id[:], b) })
	return id, aliasError("task", alias, err)
}

// MessageByAlias returns the message a numeric message_id names.
func (n *Node) MessageByAlias(ctx context.Context, alias uint64) (protocol.EventID, error) {
	var id protocol.EventID
	err := n.resolve(storage.AliasMessage, alias, func(b []byte) { copy(id[:], b) })
	return id, aliasError("message", alias, err)
}

// AccountByAlias returns the account a numeric account_id names.
func (n *Node) AccountByAlias(ctx context.Context, alias uint64) (protocol.AccountID, error) {
	var id protocol.AccountID
	err := n.resolve(storage.AliasAccount, alias, func(b []byte) { id = protocol.AccountID(b) })
	return id, aliasError("account", alias, err)
}

// aliasError names an unknown alias of kind what as such; other errors
// are wrapped with the operation.
func aliasError(what string, alias uint64, err error) error {
	if errors.Is(err, ErrNotFound) {
		return &noAlias{what: what, alias: alias}
	}
	return wrapOp(fmt.Sprintf("resolve %s_id %d", what, alias), err)
}

// resolve calls set with the global key behind alias, of kind. The store
// hands out each alias once and never changes it, so the room and account
// aliases resolved lately are remembered (Node.aliases): every ChatWork
// API call names a room by its alias, and reading it was 3% of a post's
// CPU. A standby, whose store the primary's increments rewrite, remembers
// none.
func (n *Node) resolve(kind storage.AliasKind, alias uint64, set func([]byte)) error {
	remember := (kind == storage.AliasRoom || kind == storage.AliasAccount) && !n.standby()
	if remember {
		if b, ok := n.aliases.Get(aliasKey{kind, alias}); ok {
			set(b)
			return nil
		}
	}
	return n.store.View(func(tx *storage.Tx) error {
		b, err := tx.Resolve(kind, alias)
		if err != nil {
			return notFound(err)
		}
		if remember {
			n.aliases.Add(aliasKey{kind, alias}, bytes.Clone(b))
		}
		set(b)
		return nil
	})
}

// aliasKey names an alias in Node.aliases.
type aliasKey struct {
	kind  storage.AliasKind
	alias uint64
}

// aliasCacheEntries bounds Node.aliases: a room's entry is about 100 bytes.
const aliasCacheEntries = 16384
