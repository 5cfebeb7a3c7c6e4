package node

import (
	"context"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// The live event stream's fan-out (node/api) reads the change feed once
// for all its clients instead of once per client: FeedAfter gives it
// every change, and MemberRooms and ViewerDependent tell it who may see
// one and whether one rendering fits them all.

// FeedAfter returns up to limit changes after seq after, in any room and
// about any account, unfiltered: the caller decides who sees each (as
// Changes does for one account).
func (n *Node) FeedAfter(ctx context.Context, after uint64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	var out []Change
	err := n.store.View(func(tx *storage.Tx) error {
		return tx.Changes(after, func(seq uint64, c *storage.Change) bool {
			out = append(out, Change{Seq: seq, Kind: ChangeKind(c.Kind), Room: c.Room, Event: c.Event, Account: c.Account})
			return len(out) < limit && ctx.Err() == nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("feed after %d: %w", after, err)
	}
	return out, ctx.Err()
}

// MemberRooms returns the rooms local account as is a member of now.
func (n *Node) MemberRooms(ctx context.Context, as protocol.Handle) ([]protocol.RoomID, error) {
	var out []protocol.RoomID
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		ms, err := tx.RoomsOf(me.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			out = append(out, m.Room)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rooms of %s: %w", as, err)
	}
	return out, ctx.Err()
}

// ViewerDependent reports whether what Message, Task and the notices show
// of room depends on who looks, beyond being a member: in a room whose
// history is restricted (room version 3 and later), each member sees only
// what the room held while it was a member. Otherwise every member sees
// the same.
func (n *Node) ViewerDependent(ctx context.Context, room protocol.RoomID) (bool, error) {
	var out bool
	err := n.store.View(func(tx *storage.Tx) error {
		r, err := tx.Room(room)
		if err != nil {
			return notFound(err)
		}
		out = r.Version >= 3 && r.Restricted
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("room %s viewers: %w", room, err)
	}
	return out, ctx.Err()
}

// MembersAmong returns which of accounts are members of room now, read
// in one transaction.
func (n *Node) MembersAmong(ctx context.Context, room protocol.RoomID, accounts []protocol.AccountID) (map[protocol.AccountID]bool, error) {
	out := map[protocol.AccountID]bool{}
	err := n.store.View(func(tx *storage.Tx) error {
		for _, a := range accounts {
			if _, ok, err := tx.IsMember(a, room); err != nil {
				return err
			} else if ok {
				out[a] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", room, err)
	}
	return out, ctx.Err()
}
