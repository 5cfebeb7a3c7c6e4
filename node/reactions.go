package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Reactions: ChatWork's six fixed reactions to a message. Each is a room
// event (protocol.MessageReact), so partners' members see them like
// posts; applyContent indexes the shown ones and retract drops those
// hidden later, and the index (storage.Tx.Reactions) gives a message's
// reactions with one prefix scan, for a page of the timeline at once.

// Reaction is one kind of reaction to a message and who gave it, in
// storage order (by account ID). Count is len(Accounts).
type Reaction struct {
	Reaction protocol.Reaction    `json:"reaction"`
	Accounts []protocol.AccountID `json:"accounts"`
}

// React gives as's reaction r to message id, or takes it back (remove),
// and returns the message's reactions after. Reacting twice, or taking
// back a reaction not given, changes nothing and publishes no event. An
// unknown reaction, a system message or a deleted one is ErrInvalid; a
// message as may not read is ErrNotFound.
func (n *Node) React(ctx context.Context, as protocol.Handle, id protocol.EventID, r protocol.Reaction, remove bool) ([]Reaction, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("react: %w", problem(ErrInvalid, "unknown reaction %q", r))
	}
	m, err := n.Message(ctx, as, id)
	if err != nil {
		return nil, fmt.Errorf("react: %w", err)
	}
	switch {
	case m.BeforeJoin:
		return nil, fmt.Errorf("react: %w: %w", ErrNotFound, ErrNoMessage)
	case m.Notice != "":
		return nil, fmt.Errorf("react: %w", problem(ErrInvalid, "a system message takes no reactions"))
	case m.Deleted:
		return nil, fmt.Errorf("react: %w", problem(ErrInvalid, "the message is deleted"))
	}
	me := protocol.NewAccountID(n.id, as)
	rs, err := n.MessageReactions(ctx, as, id)
	if err != nil {
		return nil, fmt.Errorf("react: %w", err)
	}
	if reacted(rs, r, me) != remove {
		return rs, nil // already so
	}
	if _, err := n.act(ctx, as, m.Room, &protocol.MessageReact{Message: id, Reaction: r, Remove: remove}); err != nil {
		return nil, fmt.Errorf("react: %w", err)
	}
	return n.MessageReactions(ctx, as, id)
}

// reacted reports whether a is among those who gave r in rs.
func reacted(rs []Reaction, r protocol.Reaction, a protocol.AccountID) bool {
	for _, x := range rs {
		if x.Reaction == r {
			return slices.Contains(x.Accounts, a)
		}
	}
	return false
}

// MessageReactions returns the reactions to message id, of a room as is a
// member of, in the order of protocol.Reactions; kinds nobody gave are
// left out. A message as may not read (history visibility) is
// ErrNotFound, as it is for Message.
func (n *Node) MessageReactions(ctx context.Context, as protocol.Handle, id protocol.EventID) ([]Reaction, error) {
	m, err := n.Message(ctx, as, id)
	if err == nil && m.BeforeJoin {
		err = fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage)
	}
	if err != nil {
		return nil, fmt.Errorf("message reactions: %w", err)
	}
	var out []Reaction
	err = n.store.View(func(tx *storage.Tx) error {
		var err error
		out, err = reactionsOf(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("message reactions: %w", err)
	}
	return out, nil
}

// Reactions returns the reactions to each of ids, messages of room (as
// the timeline shows them), for a member of room: one prefix scan per
// message, in one read transaction. Messages without reactions, and IDs
// that are not room's messages, are left out of the map.
func (n *Node) Reactions(ctx context.Context, as protocol.Handle, room protocol.RoomID, ids []protocol.EventID) (map[protocol.EventID][]Reaction, error) {
	out := map[protocol.EventID][]Reaction{}
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rs, err := reactionsOf(tx, id)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				continue
			}
			at, _, err := tx.Message(id)
			if err != nil || at != room {
				continue // a system message's ID, or another room's: no reactions to show here
			}
			out[id] = rs
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reactions: %w", err)
	}
	return out, nil
}

func reactionsOf(tx *storage.Tx, id protocol.EventID) ([]Reaction, error) {
	rs, err := tx.Reactions(id)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	var out []Reaction
	for _, kind := range protocol.Reactions {
		var as []protocol.AccountID
		for _, r := range rs {
			if r.Reaction == kind {
				as = append(as, r.Account)
			}
		}
		if len(as) > 0 {
			out = append(out, Reaction{Reaction: kind, Accounts: as})
		}
	}
	return out, nil
}
