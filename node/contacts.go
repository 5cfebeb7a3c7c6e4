package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Contacts are direct chats. Asking an account to become a contact opens
// the direct chat with it (on its node too, when it lives on a partner's
// node, since the chat is an ordinary federated room) and posts the
// request's message there. For the account asked, a direct chat another
// account opened is an incoming request until it accepts or rejects it; the
// answer is kept on its own node. The asking side lists the contact at
// once: it cannot tell an unanswered request from an accepted one.

// Contact is an account as holds in its contacts.
type Contact struct {
	Account   protocol.AccountID `json:"id"`
	Alias     uint64             `json:"account_id"`
	Handle    protocol.Handle    `json:"chatwork_id"`
	Name      string             `json:"name"`
	Org       string             `json:"organization_name"`
	Room      protocol.RoomID    `json:"room"`
	RoomAlias uint64             `json:"room_id"` // the direct chat
}

// ContactRequest is a direct chat another account opened with as, not
// answered yet. ID is the direct chat's room alias.
type ContactRequest struct {
	ID        uint64             `json:"request_id"`
	From      protocol.AccountID `json:"id"`
	FromAlias uint64             `json:"account_id"`
	Handle    protocol.Handle    `json:"chatwork_id"`
	Name      string             `json:"name"`
	Org       string             `json:"organization_name"`
	Message   string             `json:"message"`
	Room      protocol.RoomID    `json:"room"`
}

// directChat is one of an account's direct chats.
type directChat struct {
	room      protocol.RoomID
	alias     uint64
	other     protocol.AccountID
	info      protocol.Member
	fromOther bool // the other account opened it
	answer    storage.ContactAnswer
}

// directChats returns me's direct chats.
func (n *Node) directChats(tx *storage.Tx, me protocol.AccountID) ([]directChat, error) {
	ms, err := tx.RoomsOf(me)
	if err != nil {
		return nil, err
	}
	var out []directChat
	for _, m := range ms {
		c, err := n.control(tx, m.Room)
		if err != nil {
			return nil, err
		}
		if c.Kind != protocol.KindDirect {
			continue
		}
		d := directChat{room: m.Room}
		for a, info := range c.Members.All() {
			if a != me {
				d.other, d.info = a, info
			}
		}
		if d.other == "" {
			continue
		}
		create, err := tx.Event(protocol.EventID(m.Room))
		if err != nil || create == nil {
			return nil, errors.Join(err, fmt.Errorf("room %s has no create event", m.Room))
		}
		d.fromOther = create.AuthorID() != me
		if d.answer, err = tx.ContactAnswer(me, m.Room); err != nil {
			return nil, err
		}
		if d.alias, err = tx.LookupAlias(storage.AliasRoom, m.Room[:]); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// directChatsOf returns the enabled local account as and its direct chats.
func (n *Node) directChatsOf(tx *storage.Tx, as protocol.Handle) (*Account, []directChat, error) {
	me, err := n.actor(tx, as)
	if err != nil {
		return nil, nil, err
	}
	ds, err := n.directChats(tx, me.ID)
	return me, ds, err
}

func (d directChat) pending() bool { return d.fromOther && d.answer == storage.ContactPending }

// Contacts returns as's contacts: the accounts of its direct chats, but
// not those it has not answered or has rejected.
func (n *Node) Contacts(ctx context.Context, as protocol.Handle) ([]*Contact, error) {
	var out []*Contact
	err := n.store.View(func(tx *storage.Tx) error {
		_, ds, err := n.directChatsOf(tx, as)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.pending() || d.answer == storage.ContactRejected {
				continue
			}
			alias, err := tx.Alias(storage.AliasAccount, []byte(d.other))
			if err != nil {
				return err
			}
			out = append(out, &Contact{Account: d.other, Alias: alias, Handle: d.other.Handle(),
				Name: n.displayName(tx, d.other, d.info), Org: d.info.Org, Room: d.room, RoomAlias: d.alias})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return out, nil
}

// displayName is a's name as this node knows it.
func (n *Node) displayName(tx *storage.Tx, a protocol.AccountID, info protocol.Member) string {
	if a.Node() == n.id {
		if acc, err := tx.Account(a.Handle()); err == nil {
			return acc.Name
		}
	}
	if info.Name != "" {
		return info.Name
	}
	return string(a.Handle())
}

// RequestContact asks account to, local or on a partner's node, to become
// as's contact: it opens (or reuses) their direct chat and posts message
// there, if it is not empty.
func (n *Node) RequestContact(ctx context.Context, as protocol.Handle, to protocol.AccountID, message string) error {
	r, err := n.DirectRoom(ctx, as, to)
	if err != nil {
		return fmt.Errorf("request contact: %w", err)
	}
	if message != "" {
		if _, err := n.Post(ctx, as, r.ID, message); err != nil {
			return fmt.Errorf("request contact: %w", err)
		}
	}
	return nil
}

// IncomingRequests returns the contact requests as has not answered,
// oldest first.
func (n *Node) IncomingRequests(ctx context.Context, as protocol.Handle) ([]*ContactRequest, error) {
	var out []*ContactRequest
	err := n.store.View(func(tx *storage.Tx) error {
		_, ds, err := n.directChatsOf(tx, as)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if !d.pending() {
				continue
			}
			alias, err := tx.Alias(storage.AliasAccount, []byte(d.other))
			if err != nil {
				return err
			}
			req := &ContactRequest{ID: d.alias, From: d.other, FromAlias: alias, Handle: d.other.Handle(),
				Name: n.displayName(tx, d.other, d.info), Org: d.info.Org, Room: d.room}
			first, err := tx.Messages(d.room, protocol.Order{Depth: 0}, true, 1)
			if err != nil {
				return err
			}
			if len(first) == 1 && first[0].Author == d.other && !first[0].Deleted {
				req.Message = first[0].Body
			}
			out = append(out, req)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("incoming requests: %w", err)
	}
	return out, nil
}

// AcceptRequest accepts the contact request id (from IncomingRequests)
// and returns the new contact; ErrNotFound if as has no such request.
func (n *Node) AcceptRequest(ctx context.Context, as protocol.Handle, id uint64) (*Contact, error) {
	room, err := n.answer(ctx, as, id, storage.ContactAccepted)
	if err != nil {
		return nil, fmt.Errorf("accept request: %w", err)
	}
	cs, err := n.Contacts(ctx, as)
	if err != nil {
		return nil, fmt.Errorf("accept request: %w", err)
	}
	for _, c := range cs {
		if c.Room == room {
			return c, nil
		}
	}
	return nil, fmt.Errorf("accept request: %w", problem(ErrConflict, "contact vanished"))
}

// RejectRequest rejects the contact request id; ErrNotFound if as has no
// such request. The direct chat stays, hidden from as's contacts.
func (n *Node) RejectRequest(ctx context.Context, as protocol.Handle, id uint64) error {
	_, err := n.answer(ctx, as, id, storage.ContactRejected)
	return wrapOp("reject request", err)
}

func (n *Node) answer(ctx context.Context, as protocol.Handle, id uint64, ans storage.ContactAnswer) (protocol.RoomID, error) {
	var room protocol.RoomID
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		me, ds, err := n.directChatsOf(tx, as)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.alias == id && d.pending() {
				room = d.room
				return tx.PutContactAnswer(me.ID, d.room, ans)
			}
		}
		return problem(ErrNotFound, "no contact request %d", id)
	})
	return room, err
}
