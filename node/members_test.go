package node

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// roles returns a room's members and roles as as sees them.
func roles(t *testing.T, n *Node, as protocol.Handle, room protocol.RoomID) map[protocol.AccountID]protocol.Role {
	t.Helper()
	r := must[*Room](t)(n.Room(t.Context(), as, room))
	out := map[protocol.AccountID]protocol.Role{}
	for _, m := range r.Members {
		out[m.Account] = m.Role
	}
	return out
}

func TestSetMembers(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	id := map[protocol.Handle]protocol.AccountID{}
	for _, h := range []protocol.Handle{"alice", "bob", "carol", "dave"} {
		id[h] = must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h})).ID
	}
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch",
		Members: []MemberSpec{{Account: id["bob"]}, {Account: id["carol"]}}})).ID

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name string
			as   protocol.Handle
			want map[protocol.AccountID]protocol.Role
			err  error
		}{
			{"no admin", "alice", map[protocol.AccountID]protocol.Role{id["alice"]: protocol.RoleMember}, ErrInvalid},
			{"not an admin", "bob", map[protocol.AccountID]protocol.Role{id["bob"]: protocol.RoleAdmin}, ErrForbidden},
			{"not a member", "dave", map[protocol.AccountID]protocol.Role{id["dave"]: protocol.RoleAdmin}, ErrNotFound},
		} {
			if err := n.SetMembers(ctx, c.as, room, c.want); !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
		}
		if got := roles(t, n, "alice", room); len(got) != 3 || got[id["alice"]] != protocol.RoleAdmin {
			t.Fatalf("a refused change changed the room: %v", got)
		}
	})

	// alice hands the room over to dave and steps down in one request:
	// dave must be admin before alice's demotion, which must come last.
	want := map[protocol.AccountID]protocol.Role{id["alice"]: protocol.RoleReadonly, id["bob"]: protocol.RoleMember,
		id["dave"]: protocol.RoleAdmin}
	if err := n.SetMembers(ctx, "alice", room, want); err != nil {
		t.Fatal(err)
	}
	if got := roles(t, n, "dave", room); len(got) != 3 || got[id["alice"]] != protocol.RoleReadonly ||
		got[id["dave"]] != protocol.RoleAdmin || got[id["bob"]] != protocol.RoleMember {
		t.Fatalf("members = %v, want %v", got, want)
	}
	if err := n.SetMembers(ctx, "alice", room, want); !errors.Is(err, ErrForbidden) {
		t.Fatalf("alice, no longer admin: %v, want ErrForbidden", err)
	}

	// dave leaves himself out: he leaves, last.
	if err := n.SetMembers(ctx, "dave", room, map[protocol.AccountID]protocol.Role{id["bob"]: protocol.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if got := roles(t, n, "bob", room); len(got) != 1 || got[id["bob"]] != protocol.RoleAdmin {
		t.Fatalf("members = %v, want bob alone", got)
	}
	if _, err := n.Room(ctx, "dave", room); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dave's view after leaving: %v, want ErrNotFound", err)
	}

	direct := must[*Room](t)(n.DirectRoom(ctx, "alice", id["bob"])).ID
	err := n.SetMembers(ctx, "alice", direct, map[protocol.AccountID]protocol.Role{id["alice"]: protocol.RoleAdmin, id["carol"]: protocol.RoleAdmin})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("changing a direct chat's members: %v, want ErrForbidden", err)
	}
}

func TestSetMember(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	alice := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"})).ID
	bob := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob"})).ID
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch"})).ID

	for _, step := range []struct {
		role protocol.Role
		want map[protocol.AccountID]protocol.Role
	}{
		{protocol.RoleReadonly, map[protocol.AccountID]protocol.Role{alice: protocol.RoleAdmin, bob: protocol.RoleReadonly}},
		{protocol.RoleAdmin, map[protocol.AccountID]protocol.Role{alice: protocol.RoleAdmin, bob: protocol.RoleAdmin}},
		{"", map[protocol.AccountID]protocol.Role{alice: protocol.RoleAdmin}},
	} {
		if err := n.SetMember(ctx, "alice", room, bob, step.role); err != nil {
			t.Fatalf("bob as %q: %v", step.role, err)
		}
		if got := roles(t, n, "alice", room); len(got) != len(step.want) || got[bob] != step.want[bob] {
			t.Fatalf("bob as %q: members = %v, want %v", step.role, got, step.want)
		}
	}
	if err := n.SetMember(ctx, "alice", room, bob, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing a non-member: %v, want ErrNotFound", err)
	}
	if err := n.SetMember(ctx, "alice", room, bob, protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := n.SetMember(ctx, "alice", room, alice, protocol.RoleMember); !errors.Is(err, protocol.ErrLastAdmin) {
		t.Fatalf("last admin stepping down: %v, want ErrLastAdmin", err)
	}
}

func TestDeleteRoom(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	bob := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob"}))
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch", Members: []MemberSpec{{Account: bob.ID}}})).ID
	must[*Link](t)(n.CreateLink(ctx, "alice", room, LinkSpec{}))

	if err := n.DeleteRoom(ctx, "bob", room); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member deleting: %v, want ErrForbidden", err)
	}
	if err := n.DeleteRoom(ctx, "alice", room); err != nil {
		t.Fatal(err)
	}
	for _, h := range []protocol.Handle{"alice", "bob"} {
		if _, err := n.Room(ctx, h, room); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s's view of the deleted room: %v, want ErrNotFound", h, err)
		}
	}
	all := must[[]*Room](t)(n.AllRooms(ctx))
	for _, r := range all {
		if r.ID == room && r.MemberCount != 0 {
			t.Fatalf("deleted room has %d members", r.MemberCount)
		}
	}
}

func TestCreateTasksAndLookups(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	bob := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob"})).ID
	carol := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "carol"})).ID
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch", Members: []MemberSpec{{Account: bob}}})).ID
	other := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Other"})).ID

	alice := protocol.NewAccountID(n.ID(), "alice")
	if _, err := n.CreateTasks(ctx, "alice", room, NewTask{Body: "x", Assignees: []protocol.AccountID{bob, carol}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a non-member assignee: %v, want ErrInvalid", err)
	}
	if ts := must[[]*Task](t)(n.Tasks(ctx, "alice", room, TaskFilter{})); len(ts) != 0 {
		t.Fatalf("a refused request created %d tasks", len(ts))
	}
	for _, c := range []struct {
		name string
		nt   NewTask
	}{
		{"due without a limit", NewTask{Body: "x", Assignees: []protocol.AccountID{bob}, Due: 1, Limit: protocol.LimitNone}},
		{"a limit without a due time", NewTask{Body: "x", Assignees: []protocol.AccountID{bob}, Limit: protocol.LimitDate}},
		{"no assignee", NewTask{Body: "x"}},
	} {
		if _, err := n.CreateTasks(ctx, "alice", room, c.nt); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
		}
	}
	ts := must[[]*Task](t)(n.CreateTasks(ctx, "alice", room, NewTask{Body: "review", Assignees: []protocol.AccountID{bob, alice}, Due: 1_900_000_000}))
	if len(ts) != 2 || ts[0].Assignees[0] != bob || ts[1].Assignees[0] != alice || ts[0].Limit != protocol.LimitTime {
		t.Fatalf("tasks = %+v, want one per assignee, limit type time", ts)
	}

	if got := must[*Task](t)(n.TaskInRoom(ctx, "bob", room, ts[0].Alias)); got.ID != ts[0].ID {
		t.Fatalf("TaskInRoom = %+v", got)
	}
	m := must[*Message](t)(n.Post(ctx, "alice", room, "hi"))
	if got := must[*Message](t)(n.MessageInRoom(ctx, "bob", room, m.Alias)); got.ID != m.ID {
		t.Fatalf("MessageInRoom = %+v", got)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"task of another room", func() error { _, err := n.TaskInRoom(ctx, "alice", other, ts[0].Alias); return err }()},
		{"unknown task", func() error { _, err := n.TaskInRoom(ctx, "alice", room, 1<<40); return err }()},
		{"task of a room not joined", func() error { _, err := n.TaskInRoom(ctx, "carol", room, ts[0].Alias); return err }()},
		{"message of another room", func() error { _, err := n.MessageInRoom(ctx, "alice", other, m.Alias); return err }()},
		{"unknown message", func() error { _, err := n.MessageInRoom(ctx, "alice", room, 1<<40); return err }()},
	} {
		if !errors.Is(c.err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", c.name, c.err)
		}
	}
}
