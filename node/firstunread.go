package node

import (
	"context"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Unread is where as stands in a room: how many messages are unread, how
// many of them mention as, and the first of them.
type Unread struct {
	Count    uint64
	Mentions uint64
	// First is the oldest unread message: the first message after the
	// read marker that is neither as's own nor deleted (the messages the
	// count counts). Nil when nothing is unread.
	First *Message
}

// FirstUnread returns as's unread position in room, so that a client can
// open the room where the reader left off rather than at the newest
// message. It returns ErrNotFound (or ErrNotMember) as Messages does.
func (n *Node) FirstUnread(ctx context.Context, as protocol.Handle, room protocol.RoomID) (Unread, error) {
	var out Unread
	var first protocol.EventID
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		me := protocol.NewAccountID(n.id, as)
		mk, err := tx.ReadMarker(me, room)
		if err != nil {
			return err
		}
		out.Count, out.Mentions = mk.Unread, mk.Mentions
		if mk.Unread == 0 {
			return nil
		}
		// The first message counted is the first unread one; the count
		// stops there.
		_, err = tx.CountMessagesAfter(room, mk.Read, 1, func(m *protocol.Message) bool {
			if m.Author == me {
				return true
			}
			first = m.ID
			return false
		})
		return err
	})
	if err != nil {
		return Unread{}, fmt.Errorf("first unread of %s: %w", room, err)
	}
	if first.IsZero() {
		return out, nil
	}
	if out.First, err = n.Message(ctx, as, first); err != nil {
		return Unread{}, fmt.Errorf("first unread of %s: %w", room, err)
	}
	return out, nil
}
