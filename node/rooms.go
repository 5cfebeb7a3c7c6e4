package node

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Member is a room member as callers see it.
type Member struct {
	Account protocol.AccountID `json:"id"`
	Alias   uint64             `json:"account_id"`
	Role    protocol.Role      `json:"role"`
	Name    string             `json:"name,omitempty"`
	Org     string             `json:"org,omitempty"`
	// Unconfirmed is set while the account's home node has not confirmed
	// the entry: an account of this node that does not exist here, or a
	// partner's account its node has signed nothing about in the room yet
	// (see Node.unconfirmed).
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// Room is a room as one of its members sees it.
type Room struct {
	ID          protocol.RoomID   `json:"id"`
	Alias       uint64            `json:"room_id"` // the ChatWork API's room_id
	Kind        protocol.RoomKind `json:"type"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Icon        string            `json:"icon,omitempty"`
	Role        protocol.Role     `json:"role"`         // the viewer's role
	Members     []Member          `json:"members"`      // only in single-room views
	MemberCount int               `json:"member_count"` // in every view
	Unread      uint64            `json:"unread_num"`
	Mentions    uint64            `json:"mention_num"`
	Messages    uint64            `json:"message_num"`
	Tasks       uint64            `json:"task_num"`
	LastPost    int64             `json:"last_update_time"` // unix ms of the newest message
	Created     int64             `json:"created"`
	// Sticky: the viewer pinned the room to the top of its list
	// (bookmarks.go); Rooms lists pinned rooms first.
	Sticky bool `json:"sticky,omitempty"`
	// History is the room's history settings; nil in rooms of versions
	// before 3, which have none.
	History *History `json:"history,omitempty"`
}

// History is a room's history settings, agreed in its log (a room.update
// of version 3 and later).
type History struct {
	// Visibility is which messages a member sees: "everything", or
	// "joined": only those posted while it was a member.
	Visibility protocol.HistoryVisibility `json:"visibility"`
	// RetentionDays is how many days every member node keeps a message's
	// text after it was posted; 0 keeps it forever.
	RetentionDays uint32 `json:"retention_days"`
}

// MemberSpec names an account to put in a room, and its role.
type MemberSpec struct {
	Account protocol.AccountID
	Role    protocol.Role
}

// NewRoom describes a group chat to create.
type NewRoom struct {
	Name        string
	Description string
	Icon        string
	Members     []MemberSpec // besides the creator, who is always an admin
}

// ErrNoRoom is returned (wrapped in ErrNotFound) for a room the node does
// not hold or the caller is not a member of; the two are not told apart.
var ErrNoRoom = errors.New("no such room")

// CreateRoom creates a group chat with as as its admin. The room.create
// lists as many of the members as one event may (protocol.MaxListSize);
// the others follow in as few member.add events as the bound allows
// (AddMembers). If adding them fails, the room exists with the members
// added so far, and the error says so.
func (n *Node) CreateRoom(ctx context.Context, as protocol.Handle, nr NewRoom) (*Room, error) {
	var create *protocol.Signed
	var rest []MemberSpec
	rc := &protocol.RoomCreate{Kind: protocol.KindGroup, Name: nr.Name, Description: nr.Description, Icon: nr.Icon,
		Nonce: make([]byte, 8)}
	rand.Read(rc.Nonce)
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		rc.Creator = n.memberInfo(tx, me.ID, protocol.RoleAdmin)
		rc.Members, rest = rc.Members[:0], rest[:0] // the Update may run again
		seen := make(map[protocol.AccountID]bool, len(nr.Members))
		size := entrySize(rc.Creator)
		for _, m := range nr.Members {
			if m.Account == me.ID {
				continue
			}
			if seen[m.Account] {
				return problem(ErrInvalid, "%s is listed twice", m.Account)
			}
			seen[m.Account] = true
			if m.Role == "" {
				m.Role = protocol.RoleMember
			}
			if err := n.knownAccount(tx, m.Account); err != nil {
				return err
			}
			info := n.memberInfo(tx, m.Account, m.Role)
			if len(rest) > 0 || len(rc.Members) == protocol.MaxListSize || size+entrySize(info) > memberListBudget {
				rest = append(rest, m)
				continue
			}
			size += entrySize(info)
			rc.Members = append(rc.Members, info)
		}
		if create, err = protocol.Sign(n.key, protocol.Event{Version: protocol.Version, Author: as, Time: n.cfg.Now().UnixMilli()}, rc); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return n.accept(tx, create)
	})
	if err != nil {
		return nil, fmt.Errorf("create room: %w", ruleError(err))
	}
	n.metrics.published(create)
	if err := n.AddMembers(ctx, as, create.RoomID(), rest); err != nil {
		return nil, fmt.Errorf("create room: room %s was created, but not with all its members: %w", create.RoomID(), err)
	}
	return n.Room(ctx, as, create.RoomID())
}

// DirectRoom returns the direct chat between as and other, creating it if
// there is none yet.
func (n *Node) DirectRoom(ctx context.Context, as protocol.Handle, other protocol.AccountID) (*Room, error) {
	var room protocol.RoomID
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		if other == me.ID {
			return problem(ErrInvalid, "a direct chat needs another account")
		}
		if err := n.knownAccount(tx, other); err != nil {
			return err
		}
		ms, err := tx.RoomsOf(me.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			c, err := n.control(tx, m.Room)
			if err != nil {
				return err
			}
			if c.Members.Has(other) && c.Kind == protocol.KindDirect {
				room = m.Room
				// Opening a chat someone asked for answers the request.
				if ans, err := tx.ContactAnswer(me.ID, room); err != nil || ans != storage.ContactPending {
					return err
				}
				return tx.PutContactAnswer(me.ID, room, storage.ContactAccepted)
			}
		}
		rc := &protocol.RoomCreate{Kind: protocol.KindDirect, Nonce: make([]byte, 8),
			Creator: n.memberInfo(tx, me.ID, protocol.RoleAdmin),
			Members: []protocol.MemberInfo{n.memberInfo(tx, other, protocol.RoleAdmin)}}
		rand.Read(rc.Nonce)
		create, err := protocol.Sign(n.key, protocol.Event{Version: protocol.Version, Author: as, Time: n.cfg.Now().UnixMilli()}, rc)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		room = create.RoomID()
		if err := n.accept(tx, create); err != nil {
			return err
		}
		tx.AfterCommit(func() { n.metrics.published(create) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("direct room: %w", ruleError(err))
	}
	return n.Room(ctx, as, room)
}

// Room returns a room as seen by as, a member.
func (n *Node) Room(ctx context.Context, as protocol.Handle, id protocol.RoomID) (*Room, error) {
	var out *Room
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		if out, err = n.roomView(tx, me.ID, id, true); err != nil {
			return err
		}
		pins, err := pinned(tx, me.ID)
		_, out.Sticky = pins[id]
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get room: %w", err)
	}
	return out, nil
}

// Rooms returns the rooms as is a member of: those it pinned first, then
// the most recently active first.
func (n *Node) Rooms(ctx context.Context, as protocol.Handle) ([]*Room, error) {
	out := []*Room{}
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		ms, err := tx.RoomsOf(me.ID)
		if err != nil {
			return err
		}
		pins, err := pinned(tx, me.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			r, err := n.roomView(tx, me.ID, m.Room, false)
			if err != nil {
				return err
			}
			_, r.Sticky = pins[m.Room]
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	slices.SortStableFunc(out, func(a, b *Room) int {
		if a.Sticky != b.Sticky {
			if a.Sticky {
				return -1
			}
			return 1
		}
		return cmp.Compare(max(b.LastPost, b.Created), max(a.LastPost, a.Created))
	})
	return out, nil
}

// AllRooms returns every room the node holds, for admins; Role and the
// unread counts are empty.
func (n *Node) AllRooms(ctx context.Context) ([]*Room, error) {
	out := []*Room{}
	err := n.store.View(func(tx *storage.Tx) error {
		var ids []protocol.RoomID
		if err := tx.Rooms(func(r *storage.Room) bool { ids = append(ids, r.ID); return true }); err != nil {
			return err
		}
		for _, id := range ids {
			r, err := n.roomView(tx, "", id, true)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list all rooms: %w", err)
	}
	return out, nil
}

// roomView builds what viewer (empty: an admin) sees of a room.
func (n *Node) roomView(tx *storage.Tx, viewer protocol.AccountID, id protocol.RoomID, members bool) (*Room, error) {
	r, err := tx.Room(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoRoom)
	}
	if err != nil {
		return nil, err
	}
	c, err := n.control(tx, id)
	if err != nil {
		return nil, err
	}
	out := &Room{ID: id, Kind: c.Kind, Name: c.Name, Description: c.Description, Icon: c.Icon,
		Messages: r.Messages, Tasks: r.Tasks, LastPost: r.LastPost, Created: r.Created, MemberCount: c.Members.Len()}
	if out.Alias, err = tx.LookupAlias(storage.AliasRoom, id[:]); err != nil {
		return nil, err
	}
	if r.Version >= 3 {
		out.History = &History{Visibility: cmp.Or(c.Visibility, protocol.VisibilityAll), RetentionDays: c.Retention}
	}
	if viewer != "" {
		m, ok := c.Members.Get(viewer)
		if !ok {
			return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoRoom)
		}
		out.Role = m.Role
		mk, err := tx.ReadMarker(viewer, id)
		if err != nil {
			return nil, err
		}
		if out.Unread, out.Mentions, err = unreadOf(tx, r, viewer, mk); err != nil {
			return nil, err
		}
	}
	if out.Kind == protocol.KindDirect && out.Name == "" {
		for a, m := range c.Members.All() {
			if a != viewer {
				out.Name = cmp.Or(m.Name, string(a.Handle()))
			}
		}
	}
	if members {
		if out.Members, err = n.members(tx, r.Control); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// members lists the members of the control snapshot with key k. The list
// is cached by k: it depends on the snapshot, the accounts' aliases, which
// never change, and which local accounts exist, which changes only when one
// is made (the cache is then dropped). A room of 5,000 members would
// otherwise read 10,000 records each time it is opened.
func (n *Node) members(tx *storage.Tx, k protocol.SnapshotKey) ([]Member, error) {
	if ms, ok := n.memberLists.get(k); ok {
		return slices.Clone(ms), nil
	}
	gen := n.memberLists.generation()
	ms, err := n.listMembers(tx, k)
	if err != nil {
		return nil, err
	}
	n.memberLists.addIf(gen, k, ms)
	return slices.Clone(ms), nil
}

func (n *Node) listMembers(tx *storage.Tx, k protocol.SnapshotKey) ([]Member, error) {
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(k)
	if err != nil {
		return nil, err
	}
	unconfirmed, err := n.unconfirmed(tx, s)
	if err != nil {
		return nil, err
	}
	c := s.State
	out := make([]Member, 0, c.Members.Len())
	for a, m := range c.Members.All() {
		alias, err := tx.LookupAlias(storage.AliasAccount, []byte(a)) // assigned on acceptance
		if err != nil {
			return nil, err
		}
		out = append(out, Member{Account: a, Alias: alias, Role: m.Role, Name: m.Name, Org: m.Org, Unconfirmed: unconfirmed[a]})
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Alias, b.Alias) })
	return out, nil
}

// control returns a room's current control state.
func (n *Node) control(tx *storage.Tx, id protocol.RoomID) (*protocol.Control, error) {
	r, err := tx.Room(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoRoom)
	}
	if err != nil {
		return nil, err
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
	if err != nil {
		return nil, err
	}
	return s.State, nil
}

// RoomChange changes a room's settings; nil fields stay as they are.
type RoomChange struct {
	Name        *string
	Description *string
	Icon        *string
}

// UpdateRoom changes a room's name, description or icon. Only admins may.
func (n *Node) UpdateRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID, ch RoomChange) error {
	_, err := n.act(ctx, as, room, &protocol.RoomUpdate{Name: ch.Name, Description: ch.Description, Icon: ch.Icon})
	return wrapOp("update room", err)
}

// HistoryChange changes a room's history settings; nil fields stay as
// they are.
type HistoryChange struct {
	Visibility    *protocol.HistoryVisibility
	RetentionDays *uint32
}

// SetHistory changes a room's history settings (see History) by a
// room.update, agreed in the room's log like its name. Only admins may, in
// rooms other than direct chats; a room made by a version before 3 has no
// such settings (ErrInvalid), since its events' IDs cover their text,
// which no node can then drop. Visibility "joined" applies to messages
// posted after the update, on every node: sync serves a node the redacted
// form of those made while it hosted no member, and the API hides their
// text from members who were not members then (see textReadable).
func (n *Node) SetHistory(ctx context.Context, as protocol.Handle, room protocol.RoomID, ch HistoryChange) error {
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		if r.Version < 3 {
			return &Problem{Kind: ErrInvalid, Msg: "this room was made by an older Horenso and has no history settings",
				Cause: fmt.Errorf("room %s is of version %d", room, r.Version)}
		}
		return nil
	})
	if err == nil {
		_, err = n.publish(ctx, as, room, &protocol.RoomUpdate{Visibility: ch.Visibility, Retention: ch.RetentionDays})
		err = ruleError(err)
	}
	return wrapOp("set room history", err)
}

// AddMember adds an account to a group chat with role. Only admins may.
func (n *Node) AddMember(ctx context.Context, as protocol.Handle, room protocol.RoomID, m MemberSpec) error {
	return n.AddMembers(ctx, as, room, []MemberSpec{m})
}

// SetRole changes a member's role. Only admins may; the last admin cannot
// step down.
func (n *Node) SetRole(ctx context.Context, as protocol.Handle, room protocol.RoomID, a protocol.AccountID, role protocol.Role) error {
	_, err := n.act(ctx, as, room, &protocol.MemberRole{Account: a, Role: role})
	return wrapOp("set role", err)
}

// RemoveMember removes a member from a group chat. Only admins may.
func (n *Node) RemoveMember(ctx context.Context, as protocol.Handle, room protocol.RoomID, a protocol.AccountID) error {
	_, err := n.act(ctx, as, room, &protocol.MemberRemove{Account: a})
	return wrapOp("remove member", err)
}

// RemoveMembers removes accounts from a group chat, as RemoveMember
// does each, but storing many removals in each durable commit
// (publishAll): taking 5,000 people out of a room waited for 5,000 commits
// one after another. Only admins may. An account that is not a member
// when its turn comes (another admin took it out, or it left) is skipped.
func (n *Node) RemoveMembers(ctx context.Context, as protocol.Handle, room protocol.RoomID, accounts []protocol.AccountID) error {
	if len(accounts) == 0 {
		return nil
	}
	if err := n.store.View(func(tx *storage.Tx) error { return n.canRead(tx, as, room) }); err != nil {
		return wrapOp("remove members", err)
	}
	contents := make([]protocol.Content, len(accounts))
	for i, a := range accounts {
		contents[i] = &protocol.MemberRemove{Account: a}
	}
	member := func(tx *storage.Tx, c protocol.Content) (bool, error) {
		s, err := n.control(tx, room)
		if err != nil {
			return false, err
		}
		return s.Members.Has(c.(*protocol.MemberRemove).Account), nil
	}
	return wrapOp("remove members", n.publishAll(ctx, as, room, contents, member))
}

// act publishes an event of as's in a room as is a member of, checked in
// the publishing Update (see Post).
func (n *Node) act(ctx context.Context, as protocol.Handle, room protocol.RoomID, c protocol.Content) (*protocol.Signed, error) {
	mayAct := func(tx *storage.Tx) error { return n.canRead(tx, as, room) }
	return n.publishThen(ctx, as, room, c, mayAct, nil)
}

func wrapOp(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// actor returns the local, enabled account with handle h.
func (n *Node) actor(tx *storage.Tx, h protocol.Handle) (*Account, error) {
	a, err := tx.Account(h)
	if err != nil {
		return nil, noAccount(h, err)
	}
	if a.Disabled {
		return nil, problem(ErrDisabled, "account %s is disabled", h)
	}
	return n.account(tx, a)
}

// knownAccount checks that a is a valid account ID and, if it is local,
// that the account exists and is enabled.
func (n *Node) knownAccount(tx *storage.Tx, a protocol.AccountID) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if a.Node() != n.id {
		return nil
	}
	_, err := n.actor(tx, a.Handle())
	return err
}

// memberInfo describes a for a room event: its name and organization as
// this node knows them.
func (n *Node) memberInfo(tx *storage.Tx, a protocol.AccountID, role protocol.Role) protocol.MemberInfo {
	info := protocol.MemberInfo{Account: a, Role: role}
	if a.Node() == n.id {
		if acc, err := tx.Account(a.Handle()); err == nil {
			info.Name, info.Org = acc.Name, acc.Org
		}
	}
	return info
}

// ParseAccount reads an account reference: a full account ID
// (handle@nodeid) or the handle of a local account.
func (n *Node) ParseAccount(s string) (protocol.AccountID, error) {
	if !strings.Contains(s, "@") {
		s = string(protocol.NewAccountID(n.id, protocol.Handle(s)))
	}
	a := protocol.AccountID(s)
	if err := a.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return a, nil
}
