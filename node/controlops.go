package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Arguments of the control ops. The CLI fills them in; tests may too.
type (
	// UserAddArgs are the arguments of "user.add".
	UserAddArgs struct {
		Handle   string `json:"handle"`
		Name     string `json:"name,omitempty"`
		Email    string `json:"email,omitempty"`
		Password string `json:"password,omitempty"`
		Admin    bool   `json:"admin,omitempty"`
	}
	// UserArgs name one account: "user.disable", "user.enable".
	UserArgs struct {
		Handle string `json:"handle"`
	}
	// TokenCreateArgs are the arguments of "token.create".
	TokenCreateArgs struct {
		Handle string `json:"handle"`
		Name   string `json:"name,omitempty"`
	}
	// TokenResult is the result of "token.create".
	TokenResult struct {
		Token string `json:"token"`
	}
	// RoomListArgs are the arguments of "room.list"; without As it lists
	// every room on the node.
	RoomListArgs struct {
		As string `json:"as,omitempty"`
	}
	// RoomCreateArgs are the arguments of "room.create".
	RoomCreateArgs struct {
		As          string   `json:"as"`
		Name        string   `json:"name"`
		Description string   `json:"description,omitempty"`
		Members     []string `json:"members,omitempty"` // handles or account IDs
	}
	// PostArgs are the arguments of "message.post".
	PostArgs struct {
		As   string `json:"as"`
		Room uint64 `json:"room_id"`
		Body string `json:"body"`
	}
	// MessageListArgs are the arguments of "message.list".
	MessageListArgs struct {
		As    string `json:"as"`
		Room  uint64 `json:"room_id"`
		Limit int    `json:"limit,omitempty"`
	}
	// TaskCreateArgs are the arguments of "task.create".
	TaskCreateArgs struct {
		As        string   `json:"as"`
		Room      uint64   `json:"room_id"`
		Body      string   `json:"body"`
		Assignees []string `json:"assignees"` // handles or account IDs
		Due       int64    `json:"limit,omitempty"`
	}
	// TaskStatusArgs are the arguments of "task.status".
	TaskStatusArgs struct {
		As     string              `json:"as"`
		Task   uint64              `json:"task_id"`
		Status protocol.TaskStatus `json:"status"`
	}
	// BackupArgs are the arguments of "backup".
	BackupArgs struct {
		Path string `json:"path"` // absolute; written by the node's process
	}
	// BackupResult is the result of "backup".
	BackupResult struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	}
	// PartnerArgs are the arguments of "partner.add" (Addr) and
	// "partner.remove" (ID).
	PartnerArgs struct {
		Addr string          `json:"addr,omitempty"`
		ID   protocol.NodeID `json:"node_id,omitempty"`
	}
	// MemberArgs are the arguments of "room.member.add", "room.member.role"
	// and "room.member.remove".
	MemberArgs struct {
		As      string        `json:"as"`
		Room    uint64        `json:"room_id"`
		Account string        `json:"account"` // a handle or an account ID
		Role    protocol.Role `json:"role,omitempty"`
	}
	// TaskListArgs are the arguments of "task.list".
	TaskListArgs struct {
		As     string              `json:"as"`
		Room   uint64              `json:"room_id"`
		Status protocol.TaskStatus `json:"status,omitempty"`
	}
)

// Status is the result of "status".
type Status struct {
	NodeID   protocol.NodeID `json:"node_id"`
	Org      string          `json:"org"`
	DataDir  string          `json:"data_dir"`
	Version  int             `json:"protocol_version"`
	Started  time.Time       `json:"started"`
	Accounts int             `json:"accounts"`
	Rooms    int             `json:"rooms"`
	Events   uint64          `json:"events"`
	// Addrs are the libp2p addresses partners add this node by.
	Addrs []string `json:"addrs"`
	// Partners counts partner nodes, and Connected those connected now.
	Partners  int `json:"partners"`
	Connected int `json:"connected"`
	// Network counts gossip and sync traffic since start: what was
	// received, accepted, rejected and dropped, and what sync repaired.
	Network p2p.Stats `json:"network"`
	// OutboxDropped counts publications dropped because the node's network
	// outbox was full; partners got those events by sync instead.
	OutboxDropped uint64 `json:"outbox_dropped"`
}

// Status reports what the node is and holds.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	st := &Status{NodeID: n.id, Org: n.settings.Org, DataDir: n.cfg.DataDir, Version: protocol.Version, Started: n.started,
		Addrs: n.Addrs(), Network: n.net.host.Stats(), OutboxDropped: n.net.dropped.Load()}
	for _, p := range n.net.host.Partners() {
		st.Partners++
		if p.Connected {
			st.Connected++
		}
	}
	err := n.store.View(func(tx *storage.Tx) error {
		as, err := tx.Accounts()
		st.Accounts = len(as)
		if err != nil {
			return err
		}
		return tx.Rooms(func(r *storage.Room) bool {
			st.Rooms++
			st.Events += r.Events
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

var controlOps = map[string]controlOp{
	"backup": op(func(ctx context.Context, n *Node, a BackupArgs) (any, error) {
		size, err := n.Backup(ctx, a.Path)
		return BackupResult{Path: a.Path, Bytes: size}, err
	}),
	"partner.add":  op(func(ctx context.Context, n *Node, a PartnerArgs) (any, error) { return n.AddPartner(ctx, a.Addr) }),
	"partner.list": op(func(ctx context.Context, n *Node, _ struct{}) (any, error) { return n.Partners(ctx) }),
	"partner.remove": op(func(ctx context.Context, n *Node, a PartnerArgs) (any, error) {
		return nil, n.RemovePartner(ctx, a.ID)
	}),
	"room.member": op(func(ctx context.Context, n *Node, a MemberArgs) (any, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		id, err := n.ParseAccount(a.Account)
		if err != nil {
			return nil, err
		}
		as := protocol.Handle(a.As)
		switch a.Role {
		case "":
			err = n.RemoveMember(ctx, as, room, id)
		default:
			err = n.AddMember(ctx, as, room, MemberSpec{Account: id, Role: a.Role})
			if errors.Is(err, ErrInvalid) { // already a member: change the role
				err = n.SetRole(ctx, as, room, id, a.Role)
			}
		}
		if err != nil {
			return nil, err
		}
		return n.Room(ctx, as, room)
	}),
	"status": op(func(ctx context.Context, n *Node, _ struct{}) (any, error) { return n.Status(ctx) }),
	"user.add": op(func(ctx context.Context, n *Node, a UserAddArgs) (any, error) {
		return n.CreateAccount(ctx, NewAccount{Handle: protocol.Handle(a.Handle), Name: a.Name, Email: a.Email,
			Password: a.Password, Admin: a.Admin})
	}),
	"user.list": op(func(ctx context.Context, n *Node, _ struct{}) (any, error) { return n.Accounts(ctx) }),
	"user.disable": op(func(ctx context.Context, n *Node, a UserArgs) (any, error) {
		return nil, n.SetDisabled(ctx, protocol.Handle(a.Handle), true)
	}),
	"user.enable": op(func(ctx context.Context, n *Node, a UserArgs) (any, error) {
		return nil, n.SetDisabled(ctx, protocol.Handle(a.Handle), false)
	}),
	"token.create": op(func(ctx context.Context, n *Node, a TokenCreateArgs) (any, error) {
		t, err := n.CreateToken(ctx, protocol.Handle(a.Handle), a.Name)
		return TokenResult{Token: t}, err
	}),
	"room.list": op(func(ctx context.Context, n *Node, a RoomListArgs) (any, error) {
		if a.As == "" {
			return n.AllRooms(ctx)
		}
		return n.Rooms(ctx, protocol.Handle(a.As))
	}),
	"room.create": op(func(ctx context.Context, n *Node, a RoomCreateArgs) (any, error) {
		nr := NewRoom{Name: a.Name, Description: a.Description}
		for _, m := range a.Members {
			id, err := n.ParseAccount(m)
			if err != nil {
				return nil, err
			}
			nr.Members = append(nr.Members, MemberSpec{Account: id, Role: protocol.RoleMember})
		}
		return n.CreateRoom(ctx, protocol.Handle(a.As), nr)
	}),
	"message.post": op(func(ctx context.Context, n *Node, a PostArgs) (any, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Post(ctx, protocol.Handle(a.As), room, a.Body)
	}),
	"message.list": op(func(ctx context.Context, n *Node, a MessageListArgs) (any, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Messages(ctx, protocol.Handle(a.As), room, Page{Limit: a.Limit})
	}),
	"task.create": op(func(ctx context.Context, n *Node, a TaskCreateArgs) (any, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		nt := NewTask{Body: a.Body, Due: a.Due}
		for _, s := range a.Assignees {
			id, err := n.ParseAccount(s)
			if err != nil {
				return nil, err
			}
			nt.Assignees = append(nt.Assignees, id)
		}
		return n.CreateTask(ctx, protocol.Handle(a.As), room, nt)
	}),
	"task.status": op(func(ctx context.Context, n *Node, a TaskStatusArgs) (any, error) {
		id, err := n.TaskByAlias(ctx, a.Task)
		if err != nil {
			return nil, err
		}
		if a.Status != protocol.TaskOpen && a.Status != protocol.TaskDone {
			return nil, fmt.Errorf("%w: status must be open or done, not %s", ErrInvalid, strconv.Quote(string(a.Status)))
		}
		return n.UpdateTask(ctx, protocol.Handle(a.As), id, TaskChange{Status: &a.Status})
	}),
	"task.list": op(func(ctx context.Context, n *Node, a TaskListArgs) (any, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Tasks(ctx, protocol.Handle(a.As), room, TaskFilter{Status: a.Status})
	}),
}
