package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Message is a message as callers see it.
type Message struct {
	ID       protocol.EventID   `json:"id"`
	Alias    uint64             `json:"message_id"` // the ChatWork API's message_id
	Room     protocol.RoomID    `json:"room"`
	Author   protocol.AccountID `json:"author"`
	Body     string             `json:"body"`
	Time     int64              `json:"send_time"`   // unix ms at the author's node
	EditedAt int64              `json:"update_time"` // unix ms of the winning edit; 0 if none
	Deleted  bool               `json:"deleted,omitempty"`
	// BeforeJoin: the caller may not read the message's text, which was
	// written when it was not a member of a room whose history
	// visibility is "joined" (see hideUnreadable). Deleted is set too
	// and Body is empty, so a client that does not know this field shows
	// a deleted message.
	BeforeJoin bool `json:"before_join,omitempty"`
	// Notice is set for a system message (notices.go): ChatWork's dtext
	// key of what it tells, e.g. "task_added". Body is then the notice in
	// ChatWork notation, Author the account that made the change, and the
	// message cannot be edited or deleted.
	Notice string         `json:"notice,omitempty"`
	Order  protocol.Order `json:"-"`
}

// ErrNoMessage is returned (wrapped in ErrNotFound) for an unknown message.
var ErrNoMessage = errors.New("no such message")

// ErrMessageDeleted is returned (wrapped in ErrNotFound) for an edit or a
// deletion of a message that was deleted.
var ErrMessageDeleted = errors.New("the message was deleted")

// checkBody checks a message or task body this node's people write:
// not empty, at most protocol.MaxTextSize bytes, valid UTF-8 and free of
// NUL characters (which the protocol allows in partners' events, but no
// one types). The problem it reports is meant for the client.
func checkBody(body string) error {
	switch {
	case body == "":
		return problem(ErrInvalid, "body is empty")
	case len(body) > protocol.MaxTextSize:
		return problem(ErrInvalid, "body is too long (max %d bytes)", protocol.MaxTextSize)
	case !utf8.ValidString(body):
		return problem(ErrInvalid, "body is not valid UTF-8")
	case strings.IndexByte(body, 0) >= 0:
		return problem(ErrInvalid, "body contains a NUL character")
	}
	return nil
}

// Post posts a message in a room as a member. It returns once the message
// is durable, as posted (an edit or deletion made since is not applied).
// A bad body (see checkBody) is ErrInvalid.
func (n *Node) Post(ctx context.Context, as protocol.Handle, room protocol.RoomID, body string) (*Message, error) {
	if err := checkBody(body); err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	// Whether as may post is checked in the Update, where the store's
	// writer reads it from its cache; in a View of its own it waited
	// for the commit in flight, a post's longest wait after its own.
	// The message's alias is read in the Update that assigned it, from
	// its own writes, rather than from the store once it is committed.
	var alias uint64
	mayPost := func(tx *storage.Tx) error { return n.canRead(tx, as, room) }
	e, err := n.publishThen(ctx, as, room, &protocol.MessagePost{Body: body}, mayPost, func(tx *storage.Tx, e *protocol.Signed) {
		alias, _ = tx.LookupAlias(storage.AliasMessage, e.ID[:]) // 0 on failure: read below
	})
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	m := &storage.Message{Message: *protocol.NewMessage(e), Alias: alias}
	if m.Alias == 0 {
		err = n.store.View(func(tx *storage.Tx) error {
			var err error
			m.Alias, err = tx.LookupAlias(storage.AliasMessage, e.ID[:])
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("post: %w", err)
		}
	}
	return messageView(room, m), nil
}

// EditMessage replaces the body of one of as's messages.
func (n *Node) EditMessage(ctx context.Context, as protocol.Handle, id protocol.EventID, body string) error {
	if err := checkBody(body); err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	room, err := n.liveMessageRoom(id)
	if err == nil {
		err = n.checkNotFile(id)
	}
	if err == nil {
		_, err = n.act(ctx, as, room, &protocol.MessageEdit{Message: id, Body: body})
	}
	return wrapOp("edit message", err)
}

// DeleteMessage deletes a message: as's own, or any if as is a room admin.
func (n *Node) DeleteMessage(ctx context.Context, as protocol.Handle, id protocol.EventID) error {
	room, err := n.liveMessageRoom(id)
	if err == nil {
		_, err = n.act(ctx, as, room, &protocol.MessageDelete{Message: id})
	}
	return wrapOp("delete message", err)
}

// liveMessageRoom returns the room of message id, which must not be
// deleted: an edit of a deleted message would change nothing, and a
// second deletion neither, yet both were answered as done.
func (n *Node) liveMessageRoom(id protocol.EventID) (protocol.RoomID, error) {
	var room protocol.RoomID
	err := n.store.View(func(tx *storage.Tx) error {
		r, m, err := tx.Message(id)
		room = r
		if err == nil && m.Deleted {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrMessageDeleted)
		}
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return room, fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage)
	}
	return room, err
}

// Message returns one message of a room as is a member of.
func (n *Node) Message(ctx context.Context, as protocol.Handle, id protocol.EventID) (*Message, error) {
	var out *Message
	err := n.store.View(func(tx *storage.Tx) error {
		room, m, err := tx.Message(id)
		if errors.Is(err, storage.ErrNotFound) {
			// A system message has the ID of the event it tells of.
			e, err := tx.Event(id)
			if err != nil || e == nil {
				return errors.Join(err, fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage))
			}
			out, err = n.noticeInRoom(tx, as, e.RoomID(), id)
			return err
		}
		if err != nil {
			return err
		}
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		out = messageView(room, m)
		return n.hideFrom(tx, as, room, []*storage.Message{m}, []*Message{out})
	})
	if err != nil {
		return nil, fmt.Errorf("get message: %w", err)
	}
	return out, nil
}

// MessageInRoom returns the message a numeric message_id names, if it is
// one of room's and as may read room. Otherwise it returns ErrNotFound
// (wrapping ErrNoMessage): a message of another room is not told apart
// from one that does not exist.
func (n *Node) MessageInRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID, alias uint64) (*Message, error) {
	id, err := n.MessageByAlias(ctx, alias)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("message %d: %w: %w", alias, ErrNotFound, ErrNoMessage)
	}
	if err != nil {
		return nil, err
	}
	m, err := n.Message(ctx, as, id)
	if err != nil {
		return nil, err
	}
	if m.Room != room {
		return nil, fmt.Errorf("message %d: %w: %w in this room", alias, ErrNotFound, ErrNoMessage)
	}
	return m, nil
}

// Page selects messages of a room: with a zero Cursor the newest Limit;
// otherwise Limit messages after (Forward) or before the Cursor.
type Page struct {
	Cursor  protocol.Order
	Forward bool
	Limit   int // at most MaxPage; default 100
}

// MaxPage is the most messages one Messages call returns.
const MaxPage = 1000

// Messages returns a page of a room's messages in display order.
func (n *Node) Messages(ctx context.Context, as protocol.Handle, room protocol.RoomID, p Page) ([]*Message, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	p.Limit = min(p.Limit, MaxPage)
	out := []*Message{}
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		ms, err := tx.Messages(room, p.Cursor, p.Forward, p.Limit)
		if err != nil {
			return err
		}
		for _, m := range ms {
			out = append(out, messageView(room, m))
		}
		if err := n.hideFrom(tx, as, room, ms, out); err != nil {
			return err
		}
		out, err = n.withNotices(tx, as, room, out, p.Cursor, p.Forward, p.Limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

func messageView(room protocol.RoomID, m *storage.Message) *Message {
	return &Message{ID: m.ID, Alias: m.Alias, Room: room, Author: m.Author, Body: m.Body, Time: m.Time,
		EditedAt: m.EditedAt, Deleted: m.Deleted, Order: m.Order()}
}

// hideFrom hides from local account as the text of the messages out of
// room (views of ms, in the same order) that it may not read under the
// room's history visibility (hideUnreadable).
func (n *Node) hideFrom(tx *storage.Tx, as protocol.Handle, room protocol.RoomID, ms []*storage.Message, out []*Message) error {
	r, err := tx.Room(room)
	if err != nil || r.Version < 3 || !r.Restricted {
		return err
	}
	viewer := protocol.NewAccountID(n.id, as)
	memo := map[protocol.SnapshotKey]bool{}
	for i, m := range ms {
		if _, err := n.hideUnreadable(tx, r.Version, viewer, out[i], m.Edit, memo); err != nil {
			return fmt.Errorf("history visibility of %s: %w", m.ID, err)
		}
	}
	return nil
}

// canRead checks that as is an enabled local account and a member of room.
func (n *Node) canRead(tx *storage.Tx, as protocol.Handle, room protocol.RoomID) error {
	// actor's checks, without the account's view (its alias: a read).
	a, err := tx.Account(as)
	if err != nil {
		return notFound(err)
	}
	if a.Disabled {
		return fmt.Errorf("%s: %w", as, ErrDisabled)
	}
	if _, ok, err := tx.IsMember(protocol.NewAccountID(n.id, as), room); err != nil || !ok {
		return errors.Join(err, &notMember{as: as})
	}
	return nil
}

// MarkRead marks a room read for as up to and including message upTo, or
// up to the newest message if upTo is zero, and returns the new unread and
// mention counts.
func (n *Node) MarkRead(ctx context.Context, as protocol.Handle, room protocol.RoomID, upTo protocol.EventID) (unread, mentions uint64, err error) {
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		me := protocol.NewAccountID(n.id, as)
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		var mk storage.ReadMarker
		if upTo.IsZero() {
			last, err := tx.Messages(room, protocol.Order{}, false, 1)
			if err != nil {
				return err
			}
			if len(last) == 1 {
				mk.Read = last[0].Order()
			}
			mk.Seen = r.Arrived
		} else {
			at, m, err := tx.Message(upTo)
			if err != nil || at != room {
				return errors.Join(notFound(err), fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage))
			}
			if mk, err = n.readFrom(tx, r, me, m.Order(), m.Arrival); err != nil {
				return err
			}
		}
		if unread, mentions, err = unreadOf(tx, r, me, mk); err != nil {
			return err
		}
		if err := n.record(tx, storage.Change{Kind: string(ChangeRead), Room: room, Account: me}); err != nil {
			return err
		}
		return tx.PutReadMarker(me, room, mk)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("mark read: %w", err)
	}
	return unread, mentions, nil
}

// readFrom returns me's read marker for room r read up to position read,
// a message that arrived as arrival (0: stored before schema 9, or none).
// The messages that arrived after it are unread; what the marker must know
// of them, its own and the mentions of it, is counted from the timeline
// after read. A marker at a message without arrival counts the messages
// after it once, in Unread, as markers of before schema 9 did.
func (n *Node) readFrom(tx *storage.Tx, r *storage.Room, me protocol.AccountID, read protocol.Order, arrival uint64) (storage.ReadMarker, error) {
	mk := storage.ReadMarker{Read: read, Seen: arrival}
	legacy := arrival == 0 && read != (protocol.Order{})
	if legacy {
		mk.Seen = r.Arrived
	}
	c, err := n.controlOf(tx, r)
	if err != nil {
		return mk, err
	}
	var mentioned, own, toAll uint64
	count, err := tx.CountMessagesAfter(r.ID, read, 1<<30, func(m *storage.Message) bool {
		if !legacy && m.Arrival <= mk.Seen {
			return true // read by arrival, or gone before schema 9
		}
		if m.Author == me {
			own++
			return true
		}
		to, all := n.addressed(m.Body, m.Author, c)
		switch {
		case slices.Contains(to, me):
			mentioned++
		case all && legacy:
			toAll++ // a legacy count holds its messages to all too
		}
		return false
	})
	if legacy {
		mk.Unread, mk.Mentions = uint64(count), mentioned+toAll
		return mk, err
	}
	mk.Mentions, mk.Own = mentioned, own
	return mk, err
}

// MarkUnread marks message from and everything after it unread for as.
func (n *Node) MarkUnread(ctx context.Context, as protocol.Handle, from protocol.EventID) (unread, mentions uint64, err error) {
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		room, m, err := tx.Message(from)
		if err != nil {
			return errors.Join(notFound(err), fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage))
		}
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		me := protocol.NewAccountID(n.id, as)
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		prev, err := tx.Messages(room, m.Order(), false, 1)
		if err != nil {
			return err
		}
		var read protocol.Order
		if len(prev) == 1 {
			read = prev[0].Order()
		}
		arrival := m.Arrival
		if arrival > 0 {
			arrival-- // m itself is unread
		}
		mk, err := n.readFrom(tx, r, me, read, arrival)
		if err != nil {
			return err
		}
		if unread, mentions, err = unreadOf(tx, r, me, mk); err != nil {
			return err
		}
		if err := n.record(tx, storage.Change{Kind: string(ChangeRead), Room: room, Account: me}); err != nil {
			return err
		}
		return tx.PutReadMarker(me, room, mk)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("mark unread: %w", err)
	}
	return unread, mentions, nil
}

// FetchMessages returns up to 100 messages of room that as has not fetched
// with token (an API token or web session of as's) yet, oldest first, and
// marks them fetched: the ChatWork API's message list without force. The
// cursor is the token's, as in ChatWork, so two integrations sharing an
// account each get every message. The first call with a token returns
// the newest 100. It follows the timeline's order, so a partner's message
// that arrives late with a place before the last one fetched is not
// returned again. A token that is not as's is ErrUnauthorized.
func (n *Node) FetchMessages(ctx context.Context, as protocol.Handle, token string, room protocol.RoomID) ([]*Message, error) {
	out := []*Message{}
	h := storage.HashToken(token)
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		out = out[:0]
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		t, err := tx.Token(h)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && t.Handle != as) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		cursor, err := tx.FetchCursor(h, room)
		if err != nil {
			return err
		}
		ms, err := tx.Messages(room, cursor, true, 100)
		if err != nil {
			return err
		}
		for _, m := range ms {
			out = append(out, messageView(room, m))
		}
		if err := n.hideFrom(tx, as, room, ms, out); err != nil {
			return err
		}
		if out, err = n.withNotices(tx, as, room, out, cursor, true, 100); err != nil || len(out) == 0 {
			return err
		}
		return tx.PutFetchCursor(h, room, out[len(out)-1].Order)
	})
	if err != nil {
		return nil, fmt.Errorf("fetch messages: %w", err)
	}
	return out, nil
}
