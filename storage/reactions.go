package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Reactions, bookmarks and pinned rooms. Reactions are room events
// (protocol.MessageReact): the store keeps an index of the shown ones per
// message, from which a message's reactions are read with one prefix
// scan. Bookmarks and pins are a local account's own: not room events,
// never sent to partners.

// ReactionOf is one account's reaction of one kind to a message, on now.
type ReactionOf struct {
	Reaction protocol.Reaction
	Account  protocol.AccountID
}

// reactionKey is the pReaction key of reaction event e, a MessageReact.
func reactionKey(e *protocol.Signed, p *protocol.MessageReact) []byte {
	return key(pReaction, p.Message[:], append([]byte(p.Reaction), 0), accountPart(e.AuthorID()), u64(e.Depth), e.ID[:])
}

// PutReaction indexes the shown reaction event e (a protocol.MessageReact).
func (tx *Tx) PutReaction(e *protocol.Signed) error {
	p, ok := e.Content.(*protocol.MessageReact)
	if !ok {
		return fmt.Errorf("put reaction: %s is a %s", e.ID, e.Type)
	}
	on := []byte{1}
	if p.Remove {
		on[0] = 0
	}
	return wrap("put reaction", tx.set(reactionKey(e, p), on))
}

// DeleteReaction takes reaction event e out of the index, as when it is
// hidden (soft-failed) after it was shown.
func (tx *Tx) DeleteReaction(e *protocol.Signed) error {
	p, ok := e.Content.(*protocol.MessageReact)
	if !ok {
		return fmt.Errorf("delete reaction: %s is a %s", e.ID, e.Type)
	}
	return wrap("delete reaction", tx.delete(reactionKey(e, p)))
}

// Reactions returns the reactions to message msg that are on: for each
// account and kind, the indexed event latest in the room's order
// (depth, then ID) decides. They come sorted by kind, then account ID.
// Like every scan, it does not see the writes of its own Update.
func (tx *Tx) Reactions(msg protocol.EventID) ([]ReactionOf, error) {
	var out []ReactionOf
	var group []byte // kind, 0x00, account, 0x00 of the group being read
	var on bool
	flush := func() error {
		if group == nil || !on {
			return nil
		}
		kind, acc, ok := bytes.Cut(group[:len(group)-1], []byte{0})
		if !ok {
			return fmt.Errorf("reaction key %x: %w", group, errBadKey)
		}
		out = append(out, ReactionOf{Reaction: protocol.Reaction(kind), Account: protocol.AccountID(acc)})
		return nil
	}
	err := tx.scan(key(pReaction, msg[:]), nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if len(k) < 2+8+32 {
			return false, fmt.Errorf("reaction key %x: %w", k, errBadKey)
		}
		g := k[:len(k)-8-32]
		if !bytes.Equal(g, group) {
			if err := flush(); err != nil {
				return false, err
			}
			group = bytes.Clone(g)
		}
		v, err := val()
		if err != nil {
			return false, err
		}
		on = len(v) == 1 && v[0] == 1
		return true, nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", msg, err)
	}
	return out, nil
}

var errBadKey = errors.New("malformed key")

// Bookmark is a message a local account bookmarked.
type Bookmark struct {
	Message protocol.EventID `cbor:"1,keyasint"`
	Room    protocol.RoomID  `cbor:"2,keyasint"`
	Time    int64            `cbor:"3,keyasint"` // unix ms when it was bookmarked
}

// PutBookmark stores a's bookmark b, replacing one of the same message.
func (tx *Tx) PutBookmark(a protocol.AccountID, b *Bookmark) error {
	return wrap("put bookmark", tx.setRecord(key(pBookmark, accountPart(a), b.Message[:]), b))
}

// DeleteBookmark drops a's bookmark of message msg, if any.
func (tx *Tx) DeleteBookmark(a protocol.AccountID, msg protocol.EventID) error {
	return wrap("delete bookmark", tx.delete(key(pBookmark, accountPart(a), msg[:])))
}

// Bookmarks returns a's bookmarks, in message ID order.
func (tx *Tx) Bookmarks(a protocol.AccountID) ([]*Bookmark, error) {
	var out []*Bookmark
	err := tx.scan(key(pBookmark, accountPart(a)), nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		if err != nil {
			return false, err
		}
		b := new(Bookmark)
		if err := protocol.DecodeRecord(v, b); err != nil {
			return false, err
		}
		out = append(out, b)
		return true, nil
	})
	return out, wrap("list bookmarks", err)
}

// HasBookmark reports whether a bookmarked message msg.
func (tx *Tx) HasBookmark(a protocol.AccountID, msg protocol.EventID) (bool, error) {
	ok, err := tx.has(key(pBookmark, accountPart(a), msg[:]))
	return ok, wrap("get bookmark", err)
}

// PinRoom pins room to the top of a's room list, at unix ms at.
func (tx *Tx) PinRoom(a protocol.AccountID, room protocol.RoomID, at int64) error {
	return wrap("pin room", tx.set(key(pPinned, accountPart(a), room[:]), u64(uint64(at))))
}

// UnpinRoom takes room off the top of a's room list.
func (tx *Tx) UnpinRoom(a protocol.AccountID, room protocol.RoomID) error {
	return wrap("unpin room", tx.delete(key(pPinned, accountPart(a), room[:])))
}

// PinnedRooms returns the rooms a pinned, with when (unix ms).
func (tx *Tx) PinnedRooms(a protocol.AccountID) (map[protocol.RoomID]int64, error) {
	out := map[protocol.RoomID]int64{}
	err := tx.scan(key(pPinned, accountPart(a)), nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		if err != nil {
			return false, err
		}
		if len(k) != 32 || len(v) != 8 {
			return false, fmt.Errorf("pinned room %x: %w", k, errBadKey)
		}
		out[protocol.RoomID(k)] = int64(be64(v))
		return true, nil
	})
	return out, wrap("list pinned rooms", err)
}
