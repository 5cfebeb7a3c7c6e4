package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Profile is what the node knows of an account, local or on a partner
// node. Name and Org of a partner's account are those its rooms carry.
type Profile struct {
	ID           protocol.AccountID `json:"id"`
	Alias        uint64             `json:"account_id"` // the ChatWork API's account_id
	Handle       protocol.Handle    `json:"handle"`
	Name         string             `json:"name"`
	Org          string             `json:"org,omitempty"`
	Local        bool               `json:"local,omitempty"`
	Email        string             `json:"email,omitempty"` // local accounts only, as the rest below
	Title        string             `json:"title,omitempty"`
	Department   string             `json:"department,omitempty"`
	Introduction string             `json:"introduction,omitempty"`
	Avatar       string             `json:"avatar,omitempty"` // the avatar picture's version; "": none (local accounts only)
}

// Profile returns what the node knows of account a: ErrNotFound if it has
// never met it (a local account that does not exist, or a partner's
// account in none of the node's rooms).
func (n *Node) Profile(ctx context.Context, a protocol.AccountID) (*Profile, error) {
	p := &Profile{ID: a, Handle: a.Handle(), Name: string(a.Handle())}
	err := n.store.View(func(tx *storage.Tx) error {
		alias, err := tx.LookupAlias(storage.AliasAccount, []byte(a))
		if err != nil {
			return notFound(err)
		}
		p.Alias = alias
		if a.Node() == n.id {
			acc, err := tx.Account(a.Handle())
			if err != nil {
				return notFound(err)
			}
			p.Local, p.Name, p.Org, p.Email = true, acc.Name, acc.Org, acc.Email
			p.Title, p.Department, p.Introduction = acc.Title, acc.Department, acc.Introduction
			p.Avatar = avatarVersion(acc.Avatar)
			return nil
		}
		ms, err := tx.RoomsOf(a)
		if err != nil {
			return err
		}
		for _, m := range ms {
			c, err := n.control(tx, m.Room)
			if err != nil {
				return err
			}
			if info, ok := c.Members.Get(a); ok && info.Name != "" {
				p.Name, p.Org = info.Name, info.Org
				return nil
			}
		}
		// Not in a room this node holds any more: the name it had.
		past, ok, err := tx.PastName(a)
		if ok {
			p.Name, p.Org = past.Name, past.Org
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("profile of %s: %w", a, err)
	}
	return p, nil
}

// RoomAlias returns the numeric room_id of a room the node holds, whether
// or not anyone asking is a member; ErrNotFound if it has none.
func (n *Node) RoomAlias(ctx context.Context, id protocol.RoomID) (uint64, error) {
	return n.aliasOf(storage.AliasRoom, id[:], "room "+id.String())
}

// MessageAlias returns the numeric message_id of a message the node holds;
// ErrNotFound if it has none.
func (n *Node) MessageAlias(ctx context.Context, id protocol.EventID) (uint64, error) {
	return n.aliasOf(storage.AliasMessage, id[:], "message "+id.String())
}

func (n *Node) aliasOf(kind storage.AliasKind, global []byte, what string) (uint64, error) {
	var alias uint64
	err := n.store.View(func(tx *storage.Tx) error {
		var err error
		alias, err = tx.LookupAlias(kind, global)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	})
	return alias, wrapOp("alias of "+what, err)
}
