package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Bookmarks and pinned rooms: a local account's own marks, kept on its
// node only. They are not room events; partners never see them.

// Bookmark is a message an account bookmarked, as it reads now.
type Bookmark struct {
	Message *Message `json:"message"`
	Time    int64    `json:"time"` // unix ms when it was bookmarked
}

// AddBookmark bookmarks message id for as, which must be able to read it.
// Bookmarking a message again moves it to the top of the list.
func (n *Node) AddBookmark(ctx context.Context, as protocol.Handle, id protocol.EventID) error {
	m, err := n.Message(ctx, as, id)
	if err == nil && m.BeforeJoin {
		err = fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage)
	}
	if err != nil {
		return fmt.Errorf("add bookmark: %w", err)
	}
	me := protocol.NewAccountID(n.id, as)
	b := &storage.Bookmark{Message: id, Room: m.Room, Time: n.cfg.Now().UnixMilli()}
	return wrapOp("add bookmark", n.store.Update(ctx, func(tx *storage.Tx) error { return tx.PutBookmark(me, b) }))
}

// RemoveBookmark drops as's bookmark of message id; none is no error.
func (n *Node) RemoveBookmark(ctx context.Context, as protocol.Handle, id protocol.EventID) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		return tx.DeleteBookmark(me.ID, id)
	})
	return wrapOp("remove bookmark", err)
}

// Bookmarks returns as's bookmarks, most recently bookmarked first. A
// bookmark of a message as can no longer read (it left the room, the
// message is gone) is left out, and comes back if it can again.
func (n *Node) Bookmarks(ctx context.Context, as protocol.Handle) ([]*Bookmark, error) {
	var bs []*storage.Bookmark
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		bs, err = tx.Bookmarks(me.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list bookmarks: %w", err)
	}
	slices.SortFunc(bs, func(a, b *storage.Bookmark) int { return cmp.Compare(b.Time, a.Time) })
	out := make([]*Bookmark, 0, len(bs))
	for _, b := range bs {
		m, err := n.Message(ctx, as, b.Message)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden):
			continue
		case err != nil:
			return nil, fmt.Errorf("list bookmarks: %w", err)
		case m.BeforeJoin:
			continue
		}
		out = append(out, &Bookmark{Message: m, Time: b.Time})
	}
	return out, nil
}

// HasBookmarks reports, for each of ids, whether as bookmarked it.
func (n *Node) HasBookmarks(ctx context.Context, as protocol.Handle, ids []protocol.EventID) (map[protocol.EventID]bool, error) {
	out := map[protocol.EventID]bool{}
	err := n.store.View(func(tx *storage.Tx) error {
		me := protocol.NewAccountID(n.id, as)
		for _, id := range ids {
			ok, err := tx.HasBookmark(me, id)
			if err != nil {
				return err
			}
			if ok {
				out[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bookmarks of messages: %w", err)
	}
	return out, nil
}

// PinRoom pins room to the top of as's room list (ChatWork's "sticky"),
// or unpins it. as must be a member.
func (n *Node) PinRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID, pin bool) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		me := protocol.NewAccountID(n.id, as)
		var err error
		if pin {
			err = tx.PinRoom(me, room, n.cfg.Now().UnixMilli())
		} else {
			err = tx.UnpinRoom(me, room)
		}
		if err != nil {
			return err
		}
		return n.record(tx, storage.Change{Kind: string(ChangePin), Room: room, Account: me})
	})
	return wrapOp("pin room", err)
}

// pinned returns the rooms account me pinned.
func pinned(tx *storage.Tx, me protocol.AccountID) (map[protocol.RoomID]int64, error) {
	return tx.PinnedRooms(me)
}
