package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Invitation links. A group chat's admin may publish one link per room;
// an account of this node that has the link's code joins the room with it,
// at once or, for a link that needs acceptance, once an admin approves.
// Links are this node's own: they are not room events and partner nodes do
// not see them. A join is a member.add event, which the room rules only
// allow an admin to author: the node authors it for one of the room's
// local admins (the link's creator if still an admin), who published the
// link and so delegated the decision to it.

// Link is a room's invitation link as callers see it.
type Link struct {
	Room           protocol.RoomID    `json:"room"`
	Code           string             `json:"code"`
	NeedAcceptance bool               `json:"need_acceptance"`
	Description    string             `json:"description"`
	Creator        protocol.AccountID `json:"creator"`
	Created        int64              `json:"created"` // unix ms
}

// LinkSpec describes a link to create.
type LinkSpec struct {
	Code           string // default: 16 random characters
	NeedAcceptance bool
	Description    string
}

// LinkChange changes a link; nil fields stay as they are.
type LinkChange struct {
	Code           *string
	NeedAcceptance *bool
	Description    *string
}

// JoinRequest is a pending request to join a room through a link that
// needs acceptance.
type JoinRequest struct {
	Account protocol.AccountID `json:"account"`
	Alias   uint64             `json:"account_id"`
	Name    string             `json:"name"`
	Org     string             `json:"org,omitempty"`
	Message string             `json:"message,omitempty"`
	Time    int64              `json:"time"` // unix ms
}

// Limits on links.
const (
	MaxLinkCode        = 50   // characters in a code
	MaxLinkDescription = 1024 // bytes in a description
	MaxJoinRequests    = 100  // pending requests per link
)

// ErrNoLink is returned (wrapped in ErrNotFound) for a room without a link
// or a code no link has.
var ErrNoLink = errors.New("no such invitation link")

// ValidLinkCode reports whether code may be a link's code: 1 to
// MaxLinkCode characters from A-Z, a-z, 0-9, '_' and '-'.
func ValidLinkCode(code string) error {
	if len(code) == 0 || len(code) > MaxLinkCode {
		return problem(ErrInvalid, "a link code has 1 to %d characters", MaxLinkCode)
	}
	for _, c := range []byte(code) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return problem(ErrInvalid, "a link code is made of A-Z a-z 0-9 _ -")
		}
	}
	return nil
}

func validLinkDescription(d string) error {
	if len(d) > MaxLinkDescription {
		return problem(ErrInvalid, "link description longer than %d bytes", MaxLinkDescription)
	}
	return nil
}

// RoomLink returns the link of a room as is a member of; ErrNotFound
// (wrapping ErrNoLink) if it has none.
func (n *Node) RoomLink(ctx context.Context, as protocol.Handle, room protocol.RoomID) (*Link, error) {
	var out *Link
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		l, err := roomLink(tx, room)
		out = linkView(l)
		return err
	})
	return out, wrapOp("get link", err)
}

func roomLink(tx *storage.Tx, room protocol.RoomID) (*storage.Link, error) {
	l, err := tx.Link(room)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoLink)
	}
	return l, err
}

func linkView(l *storage.Link) *Link {
	if l == nil {
		return nil
	}
	return &Link{Room: l.Room, Code: l.Code, NeedAcceptance: l.NeedAcceptance, Description: l.Description,
		Creator: l.Creator, Created: l.Created}
}

// CreateLink creates the link of a group chat as is an admin of. It fails
// with ErrConflict if the room has a link already or another room's link
// has the code, ErrInvalid for a bad code or description, and
// ErrForbidden if as is not an admin or the room is not a group chat.
func (n *Node) CreateLink(ctx context.Context, as protocol.Handle, room protocol.RoomID, spec LinkSpec) (*Link, error) {
	if spec.Code == "" {
		b := make([]byte, 12)
		rand.Read(b)
		spec.Code = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := ValidLinkCode(spec.Code); err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	}
	if err := validLinkDescription(spec.Description); err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	}
	var out *Link
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		me, err := n.linkAdmin(tx, as, room)
		if err != nil {
			return err
		}
		if _, err := tx.Link(room); err == nil {
			return problem(ErrConflict, "the room has a link already")
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := codeFree(tx, spec.Code, room); err != nil {
			return err
		}
		l := &storage.Link{Room: room, Code: spec.Code, NeedAcceptance: spec.NeedAcceptance,
			Description: spec.Description, Creator: me, Created: n.cfg.Now().UnixMilli()}
		out = linkView(l)
		return tx.PutLink(nil, l)
	})
	if err != nil {
		return nil, fmt.Errorf("create link: %w", err)
	}
	return out, nil
}

// codeFree checks that no room but room has a link with code.
func codeFree(tx *storage.Tx, code string, room protocol.RoomID) error {
	other, err := tx.LinkByCode(code)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.Room != room:
		return problem(ErrConflict, "link code %q is taken", code)
	}
	return nil
}

// UpdateLink changes the link of a group chat as is an admin of; errors
// as for CreateLink, and ErrNotFound if the room has no link.
func (n *Node) UpdateLink(ctx context.Context, as protocol.Handle, room protocol.RoomID, ch LinkChange) (*Link, error) {
	if ch.Code != nil {
		if err := ValidLinkCode(*ch.Code); err != nil {
			return nil, fmt.Errorf("update link: %w", err)
		}
	}
	if ch.Description != nil {
		if err := validLinkDescription(*ch.Description); err != nil {
			return nil, fmt.Errorf("update link: %w", err)
		}
	}
	var out *Link
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if _, err := n.linkAdmin(tx, as, room); err != nil {
			return err
		}
		old, err := roomLink(tx, room)
		if err != nil {
			return err
		}
		l := *old
		if ch.Code != nil {
			if err := codeFree(tx, *ch.Code, room); err != nil {
				return err
			}
			l.Code = *ch.Code
		}
		if ch.NeedAcceptance != nil {
			l.NeedAcceptance = *ch.NeedAcceptance
		}
		if ch.Description != nil {
			l.Description = *ch.Description
		}
		out = linkView(&l)
		return tx.PutLink(old, &l)
	})
	if err != nil {
		return nil, fmt.Errorf("update link: %w", err)
	}
	return out, nil
}

// DeleteLink deletes the link of a group chat as is an admin of, and any
// pending join requests with it; ErrNotFound if it has none.
func (n *Node) DeleteLink(ctx context.Context, as protocol.Handle, room protocol.RoomID) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if _, err := n.linkAdmin(tx, as, room); err != nil {
			return err
		}
		l, err := roomLink(tx, room)
		if err != nil {
			return err
		}
		return tx.DeleteLink(l)
	})
	return wrapOp("delete link", err)
}

// linkAdmin checks that as is an admin of room, a group chat, and returns
// as's account ID.
func (n *Node) linkAdmin(tx *storage.Tx, as protocol.Handle, room protocol.RoomID) (protocol.AccountID, error) {
	if err := n.canRead(tx, as, room); err != nil {
		return "", err
	}
	me := protocol.NewAccountID(n.id, as)
	c, err := n.control(tx, room)
	if err != nil {
		return "", err
	}
	if c.Kind != protocol.KindGroup {
		return "", problem(ErrForbidden, "only group chats have invitation links")
	}
	if m, _ := c.Members.Get(me); m.Role != protocol.RoleAdmin {
		return "", problem(ErrForbidden, "only a room admin may manage its invitation link")
	}
	return me, nil
}

// LinkTarget is what a link's code shows to someone who may join with it.
type LinkTarget struct {
	Link
	RoomAlias uint64 `json:"room_id"`
	Name      string `json:"name"`
	Member    bool   `json:"member"` // the viewer is a member already
}

// LinkByCode returns the link with code and the room it leads to, for an
// enabled local account as; ErrNotFound (wrapping ErrNoLink) for an
// unknown code.
func (n *Node) LinkByCode(ctx context.Context, as protocol.Handle, code string) (*LinkTarget, error) {
	var out *LinkTarget
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		l, err := tx.LinkByCode(code)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoLink)
		}
		if err != nil {
			return err
		}
		c, err := n.control(tx, l.Room)
		if err != nil {
			return err
		}
		alias, err := tx.LookupAlias(storage.AliasRoom, l.Room[:])
		if err != nil {
			return err
		}
		member := c.Members.Has(me.ID)
		out = &LinkTarget{Link: *linkView(l), RoomAlias: alias, Name: c.Name, Member: member}
		return nil
	})
	return out, wrapOp("get link", err)
}

// JoinByLink makes as a member of the room whose link has code. If the
// link needs acceptance, it records a join request (with an optional
// message) for the room's admins instead and returns pending true; asking
// again while a request is pending changes nothing. A member already is
// left as it is. It fails with ErrNotFound for an unknown code and
// ErrForbidden if no admin of the room is an enabled account of this node
// or too many requests are pending.
func (n *Node) JoinByLink(ctx context.Context, as protocol.Handle, code, message string) (room protocol.RoomID, pending bool, err error) {
	if len(message) > MaxLinkDescription {
		return room, false, fmt.Errorf("join by link: %w", problem(ErrInvalid, "message longer than %d bytes", MaxLinkDescription))
	}
	var admin protocol.Handle
	var me protocol.AccountID
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		acc, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		me = acc.ID
		l, err := tx.LinkByCode(code)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoLink)
		}
		if err != nil {
			return err
		}
		room = l.Room
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		if c.Members.Has(me) {
			return nil
		}
		if l.NeedAcceptance {
			pending = true
			if slices.ContainsFunc(l.Requests, func(r storage.JoinRequest) bool { return r.Account == me }) {
				return nil
			}
			if len(l.Requests) >= MaxJoinRequests {
				return problem(ErrForbidden, "too many requests to join this room are pending")
			}
			nl := *l
			nl.Requests = append(slices.Clone(l.Requests), storage.JoinRequest{Account: me, Time: n.cfg.Now().UnixMilli(), Message: message})
			return tx.PutLink(l, &nl)
		}
		admin, err = n.localAdmin(tx, c, l.Creator)
		return err
	})
	if err == nil && admin != "" {
		err = n.AddMember(ctx, admin, room, MemberSpec{Account: me, Role: protocol.RoleMember})
	}
	if err != nil {
		return room, false, fmt.Errorf("join by link: %w", err)
	}
	return room, pending, nil
}

// localAdmin picks an enabled local admin of a room to author a join:
// prefer, if it still qualifies, else the first by account ID.
func (n *Node) localAdmin(tx *storage.Tx, c *protocol.Control, prefer protocol.AccountID) (protocol.Handle, error) {
	var ids []protocol.AccountID
	for a, m := range c.Members.All() {
		if m.Role == protocol.RoleAdmin && a.Node() == n.id {
			ids = append(ids, a)
		}
	}
	slices.Sort(ids)
	if slices.Contains(ids, prefer) {
		ids = append([]protocol.AccountID{prefer}, ids...)
	}
	for _, a := range ids {
		if acc, err := tx.Account(a.Handle()); err == nil && !acc.Disabled {
			return a.Handle(), nil
		}
	}
	return "", problem(ErrForbidden, "no admin of this room is on this node")
}

// JoinRequests returns the pending join requests of a room as is an admin
// of, oldest first.
func (n *Node) JoinRequests(ctx context.Context, as protocol.Handle, room protocol.RoomID) ([]*JoinRequest, error) {
	out := []*JoinRequest{}
	err := n.store.View(func(tx *storage.Tx) error {
		if _, err := n.linkAdmin(tx, as, room); err != nil {
			return err
		}
		l, err := tx.Link(room)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range l.Requests {
			jr := &JoinRequest{Account: r.Account, Name: string(r.Account.Handle()), Message: r.Message, Time: r.Time}
			if alias, err := tx.LookupAlias(storage.AliasAccount, []byte(r.Account)); err == nil {
				jr.Alias = alias
			}
			if acc, err := tx.Account(r.Account.Handle()); err == nil && r.Account.Node() == n.id {
				jr.Name, jr.Org = acc.Name, acc.Org
			}
			out = append(out, jr)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list join requests: %w", err)
	}
	return out, nil
}

// DecideJoin accepts or rejects the pending request of account a to join
// a room as is an admin of; ErrNotFound if there is no such request.
// Accepting adds a as a member, authored by as.
func (n *Node) DecideJoin(ctx context.Context, as protocol.Handle, room protocol.RoomID, a protocol.AccountID, accept bool) error {
	var member bool
	err := n.store.View(func(tx *storage.Tx) error {
		if _, err := n.linkAdmin(tx, as, room); err != nil {
			return err
		}
		l, err := roomLink(tx, room)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(l.Requests, func(r storage.JoinRequest) bool { return r.Account == a }) {
			return problem(ErrNotFound, "no pending request of %s to join", a)
		}
		_, member, err = tx.IsMember(a, room)
		return err
	})
	if err == nil && accept && !member {
		err = n.AddMember(ctx, as, room, MemberSpec{Account: a, Role: protocol.RoleMember})
	}
	if err == nil {
		err = n.store.Update(ctx, func(tx *storage.Tx) error {
			l, err := roomLink(tx, room)
			if err != nil {
				return err
			}
			nl := *l
			nl.Requests = slices.DeleteFunc(slices.Clone(l.Requests), func(r storage.JoinRequest) bool { return r.Account == a })
			return tx.PutLink(l, &nl)
		})
	}
	return wrapOp("decide join request", err)
}
