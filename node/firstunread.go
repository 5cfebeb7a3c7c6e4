package node

import (
	"context"
	"errors"
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
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		if out.Count, out.Mentions, err = unreadOf(tx, r, me, mk); err != nil || out.Count == 0 {
			return err
		}
		// The first message counted is the first unread one: after the
		// marker, not as's own, and (since schema 9) arrived after it.
		_, err = tx.CountMessagesAfter(room, mk.Read, 1, func(m *storage.Message) bool {
			if m.Author == me || (m.Arrival != 0 && m.Arrival <= mk.Seen) {
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

// ReadUpTo moves as's read marker in room forward to message upTo, and
// leaves it where it is if it is there or further already: a reader on
// two devices, or a page reloaded while its last update is under way,
// never moves the marker back. It returns the unread and mention counts
// after it. An unknown message, or one of another room, is ErrNotFound
// (wrapping ErrNoMessage).
func (n *Node) ReadUpTo(ctx context.Context, as protocol.Handle, room protocol.RoomID, upTo protocol.EventID) (unread, mentions uint64, err error) {
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		r, m, err := tx.Message(upTo)
		if err != nil || r != room {
			return errors.Join(notFound(err), fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage))
		}
		me := protocol.NewAccountID(n.id, as)
		mk, err := tx.ReadMarker(me, room)
		if err != nil {
			return err
		}
		rm, err := tx.Room(room)
		if err != nil {
			return err
		}
		switch {
		case mk.Read.Compare(m.Order()) >= 0:
			unread, mentions, err = unreadOf(tx, rm, me, mk)
			return err
		case m.Arrival != 0 && m.Arrival <= mk.Seen:
			mk.Read = m.Order() // read by arrival already: only the place moves
		default:
			if mk, err = n.readFrom(tx, rm, me, m.Order(), m.Arrival); err != nil {
				return err
			}
		}
		if unread, mentions, err = unreadOf(tx, rm, me, mk); err != nil {
			return err
		}
		if err := n.record(tx, storage.Change{Kind: string(ChangeRead), Room: room, Account: me}); err != nil {
			return err
		}
		return tx.PutReadMarker(me, room, mk)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("read up to: %w", err)
	}
	return unread, mentions, nil
}
