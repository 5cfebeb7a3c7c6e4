package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// SetMembers makes want the members of group chat room, with the roles it
// gives: it adds the accounts want names that are not members, changes the
// roles that differ, and removes the members it leaves out, as as (an
// admin of the room). want must name at least one admin.
//
// The additions are one room event (one per protocol.MaxListSize
// accounts), each other change one event, made in an order that keeps an
// admin throughout: the additions first, then promotions to admin, then
// the other role changes, then removals, and as's own demotion or
// departure last, since it may end as's right to make the others. The order is the same for the same
// request, so a retried request makes the same events. An error part-way
// leaves the changes made before it; repeating the call finishes the job.
func (n *Node) SetMembers(ctx context.Context, as protocol.Handle, room protocol.RoomID, want map[protocol.AccountID]protocol.Role) error {
	if !slices.Contains(slices.Collect(maps.Values(want)), protocol.RoleAdmin) {
		return fmt.Errorf("set members: %w", problem(ErrInvalid, "a room needs at least one admin"))
	}
	r, err := n.adminRoom(ctx, as, room, "change its members")
	if err != nil {
		return fmt.Errorf("set members: %w", err)
	}
	return n.changeMembers(ctx, as, r, want)
}

// SetMember adds account a to group chat room with role, or changes its
// role if it is a member already; role "" removes it (a = as's own account
// leaves the room). as must be an admin of the room. Like SetMembers, it
// keeps an admin in the room: the last admin cannot step down or leave.
func (n *Node) SetMember(ctx context.Context, as protocol.Handle, room protocol.RoomID, a protocol.AccountID, role protocol.Role) error {
	r, err := n.adminRoom(ctx, as, room, "change its members")
	if err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	want := make(map[protocol.AccountID]protocol.Role, len(r.Members)+1)
	for _, m := range r.Members {
		want[m.Account] = m.Role
	}
	if role == "" {
		if _, ok := want[a]; !ok {
			return fmt.Errorf("set member: %w", problem(ErrNotFound, "%s is not a member of the room", a))
		}
		delete(want, a)
	} else {
		want[a] = role
	}
	return n.changeMembers(ctx, as, r, want)
}

// LeaveRoom takes as out of a group chat. The last admin must hand over
// first (protocol.ErrLastAdmin).
func (n *Node) LeaveRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID) error {
	_, err := n.act(ctx, as, room, &protocol.MemberLeave{})
	return wrapOp("leave room", err)
}

// DeleteRoom deletes a group chat as its admin as may. Every member's node
// keeps the room's event log, so nothing can be erased: it withdraws the
// room's invitation link, removes every other member, then takes as out,
// which leaves the room with no one to read it.
func (n *Node) DeleteRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID) error {
	r, err := n.adminRoom(ctx, as, room, "delete it")
	if err == nil {
		err = n.DeleteLink(ctx, as, room)
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
	}
	if err == nil {
		err = n.changeMembers(ctx, as, r, map[protocol.AccountID]protocol.Role{})
	}
	return wrapOp("delete room", err)
}

// adminRoom returns group chat room as as sees it, or ErrForbidden if as
// is not its admin; what names the action refused.
func (n *Node) adminRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID, what string) (*Room, error) {
	r, err := n.Room(ctx, as, room)
	if err != nil {
		return nil, err
	}
	if r.Kind != protocol.KindGroup {
		return nil, problem(ErrForbidden, "only a group chat's admin may %s", what)
	}
	if r.Role != protocol.RoleAdmin {
		return nil, problem(ErrForbidden, "only a room admin may %s", what)
	}
	return r, nil
}

// changeMembers turns r's members into want, one event at a time, in the
// order SetMembers describes.
func (n *Node) changeMembers(ctx context.Context, as protocol.Handle, r *Room, want map[protocol.AccountID]protocol.Role) error {
	me := protocol.NewAccountID(n.id, as)
	have := make(map[protocol.AccountID]protocol.Role, len(r.Members))
	for _, m := range r.Members {
		have[m.Account] = m.Role
	}
	accounts := slices.Sorted(maps.Keys(want))
	var adds []MemberSpec
	for _, a := range accounts {
		if _, ok := have[a]; !ok && a != me {
			adds = append(adds, MemberSpec{Account: a, Role: want[a]})
		}
	}
	// Additions never take an admin away: all of them go first, in as
	// few events as the protocol allows (AddMembers).
	if err := n.AddMembers(ctx, as, r.ID, adds); err != nil {
		return err
	}
	for _, adminsFirst := range []bool{true, false} {
		for _, a := range accounts {
			role := want[a]
			if (role == protocol.RoleAdmin) != adminsFirst || a == me {
				continue
			}
			if old, ok := have[a]; ok && old != role {
				if err := n.SetRole(ctx, as, r.ID, a, role); err != nil {
					return err
				}
			}
		}
	}
	var out []protocol.AccountID
	for _, m := range r.Members {
		if _, ok := want[m.Account]; !ok && m.Account != me {
			out = append(out, m.Account)
		}
	}
	if err := n.RemoveMembers(ctx, as, r.ID, out); err != nil {
		return err
	}
	switch role, ok := want[me]; {
	case !ok:
		return n.LeaveRoom(ctx, as, r.ID)
	case role != have[me]:
		return n.SetRole(ctx, as, r.ID, me, role)
	}
	return nil
}

// RoleOf returns account's role in room now, and false if it is not a
// member: what a live "members" change tells its clients, so that they
// need not read a big room's whole member list for one member's change.
func (n *Node) RoleOf(ctx context.Context, room protocol.RoomID, account protocol.AccountID) (protocol.Role, bool, error) {
	var role protocol.Role
	var ok bool
	err := n.store.View(func(tx *storage.Tx) error {
		var err error
		role, ok, err = tx.IsMember(account, room)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("role of %s in %s: %w", account, room, err)
	}
	return role, ok, nil
}
