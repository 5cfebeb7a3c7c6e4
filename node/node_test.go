package node

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// testLogger logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Helper(); w.t.Log(string(p)); return len(p), nil }

func newTestNode(t *testing.T, dir string) *Node {
	t.Helper()
	if !Initialized(dir) {
		if _, err := Init(dir, "Acme"); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestInitTwice(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, "Acme"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Init = %v, want ErrConflict", err)
	}
	if _, err := New(Config{DataDir: t.TempDir()}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("New on empty dir = %v, want ErrNotInitialized", err)
	}
}

func TestSecondNodeOnSameDirFails(t *testing.T) {
	dir := t.TempDir()
	newTestNode(t, dir)
	if _, err := New(Config{DataDir: dir}); err == nil {
		t.Fatal("second node opened a locked data directory")
	}
}

func TestAccountsAndTokens(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	alice := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Name: "Alice", Email: "alice@acme.example", Password: "correct horse"}))
	if alice.MyChat.IsZero() || alice.Org != "Acme" || alice.Alias == 0 {
		t.Fatalf("account = %+v", alice)
	}
	for _, c := range []struct {
		name string
		na   NewAccount
		want error
	}{
		{"taken handle", NewAccount{Handle: "alice"}, ErrConflict},
		{"taken email", NewAccount{Handle: "alice2", Email: "ALICE@acme.example"}, ErrConflict},
		{"bad handle", NewAccount{Handle: "Alice!"}, ErrInvalid},
		{"bad email", NewAccount{Handle: "bob", Email: "not an email"}, ErrInvalid},
		{"short password", NewAccount{Handle: "bob", Password: "short"}, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := n.CreateAccount(ctx, c.na); !errors.Is(err, c.want) {
				t.Fatalf("CreateAccount = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := n.Login(ctx, "alice@acme.example", "correct horse"); err != nil {
		t.Fatalf("login by email: %v", err)
	}
	if _, err := n.Login(ctx, "alice", "wrong password"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := n.Login(ctx, "nobody", "whatever1"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("unknown account: %v", err)
	}
	tok := must[string](t)(n.CreateToken(ctx, "alice", "bot"))
	if a, err := n.Authenticate(ctx, tok); err != nil || a.Handle != "alice" {
		t.Fatalf("Authenticate = %v, %v", a, err)
	}
	if _, err := n.Authenticate(ctx, tok+"x"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("bad token: %v", err)
	}
	if err := n.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("token of disabled account: %v, want ErrUnauthorized", err)
	}
	if _, err := n.Login(ctx, "alice", "correct horse"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("login of disabled account: %v", err)
	}
	if _, err := n.Rooms(ctx, "alice"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled account acting: %v", err)
	}
}

// TestRoomLifecycle walks a group chat through everything one node does
// alone, then reopens the node and checks it all survived.
func TestRoomLifecycle(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	for _, h := range []protocol.Handle{"alice", "bob", "carol"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	bob, carol := protocol.NewAccountID(n.ID(), "bob"), protocol.NewAccountID(n.ID(), "carol")
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch", Members: []MemberSpec{{Account: bob}}}))
	if room.Role != protocol.RoleAdmin || len(room.Members) != 2 || room.MemberCount != 2 || room.Alias == 0 {
		t.Fatalf("room = %+v", room)
	}
	if _, err := n.Post(ctx, "carol", room.ID, "let me in"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("non-member post: %v, want ErrNotFound", err)
	}
	if err := n.AddMember(ctx, "bob", room.ID, MemberSpec{Account: carol, Role: protocol.RoleReadonly}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("member adding member: %v, want ErrForbidden", err)
	}
	if err := n.AddMember(ctx, "alice", room.ID, MemberSpec{Account: carol, Role: protocol.RoleReadonly}); err != nil {
		t.Fatal(err)
	}
	if err := n.AddMember(ctx, "alice", room.ID, MemberSpec{Account: carol}); !errors.Is(err, protocol.ErrAlreadyMember) || !errors.Is(err, ErrConflict) {
		t.Fatalf("adding a member twice: %v, want ErrConflict wrapping ErrAlreadyMember", err)
	}
	if _, err := n.Post(ctx, "carol", room.ID, "hello?"); !errors.Is(err, protocol.ErrReadOnly) || !errors.Is(err, ErrForbidden) {
		t.Fatalf("readonly post: %v, want ErrForbidden wrapping ErrReadOnly", err)
	}
	m1 := must[*Message](t)(n.Post(ctx, "alice", room.ID, "[To:"+string(bob)+"] please review"))
	m2 := must[*Message](t)(n.Post(ctx, "bob", room.ID, "on it"))
	if err := n.EditMessage(ctx, "bob", m1.ID, "hijack"); !errors.Is(err, protocol.ErrNotAuthor) {
		t.Fatalf("editing another's message: %v", err)
	}
	if err := n.EditMessage(ctx, "bob", m2.ID, "on it!"); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteMessage(ctx, "bob", m1.ID); !errors.Is(err, protocol.ErrNotAuthorOrAdmin) {
		t.Fatalf("a member deleting another's message: %v, want ErrNotAuthorOrAdmin", err)
	}
	if err := n.DeleteMessage(ctx, "alice", m2.ID); err != nil { // admins may delete any message
		t.Fatal(err)
	}
	// A deleted message can be neither edited nor deleted again.
	if err := n.EditMessage(ctx, "bob", m2.ID, "zombie"); !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrMessageDeleted) {
		t.Fatalf("editing a deleted message: %v, want ErrNotFound wrapping ErrMessageDeleted", err)
	}
	if err := n.DeleteMessage(ctx, "alice", m2.ID); !errors.Is(err, ErrMessageDeleted) {
		t.Fatalf("deleting a deleted message: %v, want ErrMessageDeleted", err)
	}
	bobsView := must[*Room](t)(n.Room(ctx, "bob", room.ID))
	if bobsView.Unread != 1 || bobsView.Mentions != 1 {
		t.Fatalf("bob's unread/mentions = %d/%d, want 1/1", bobsView.Unread, bobsView.Mentions)
	}
	task := must[*Task](t)(n.CreateTask(ctx, "alice", room.ID, NewTask{Body: "write the spec", Assignees: []protocol.AccountID{bob}, Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix(), Limit: protocol.LimitDate}))
	if _, err := n.CreateTask(ctx, "alice", room.ID, NewTask{Body: "x", Assignees: []protocol.AccountID{"zed@" + protocol.AccountID(n.ID())}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("task for a non-member: %v, want ErrInvalid", err)
	}
	done := protocol.TaskDone
	if _, err := n.UpdateTask(ctx, "bob", task.ID, TaskChange{Status: &done}); err != nil {
		t.Fatal(err)
	}
	if err := n.LeaveRoom(ctx, "alice", room.ID); !errors.Is(err, protocol.ErrLastAdmin) {
		t.Fatalf("last admin leaving: %v", err)
	}
	if _, _, err := n.MarkRead(ctx, "bob", room.ID, protocol.EventID{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = newTestNode(t, dir)
	ms := must[[]*Message](t)(n.Messages(ctx, "bob", room.ID, Page{}))
	// The task's added and done system messages are derived: posts only.
	ms = slices.DeleteFunc(ms, func(m *Message) bool { return m.Notice != "" })
	if len(ms) != 2 || ms[0].Body != m1.Body || !ms[1].Deleted || ms[1].Body != "" {
		t.Fatalf("messages after reopen = %+v", ms)
	}
	tasks := must[[]*Task](t)(n.MyTasks(ctx, "bob", TaskFilter{Status: protocol.TaskDone}))
	if len(tasks) != 1 || tasks[0].Alias != task.Alias || tasks[0].Limit != protocol.LimitDate {
		t.Fatalf("bob's done tasks = %+v", tasks)
	}
	if open := must[[]*Task](t)(n.Tasks(ctx, "alice", room.ID, TaskFilter{Status: protocol.TaskOpen})); len(open) != 0 {
		t.Fatalf("open tasks = %+v", open)
	}
	bobsView = must[*Room](t)(n.Room(ctx, "bob", room.ID))
	if bobsView.Unread != 0 || bobsView.Mentions != 0 || bobsView.Messages != 2 {
		t.Fatalf("bob's room after reading = %+v", bobsView)
	}
	got := must[protocol.RoomID](t)(n.RoomByAlias(ctx, room.Alias))
	if got != room.ID {
		t.Fatalf("RoomByAlias = %s, want %s", got, room.ID)
	}
	rooms := must[[]*Room](t)(n.Rooms(ctx, "carol"))
	if len(rooms) != 2 { // her my chat and Launch
		t.Fatalf("carol's rooms = %d, want 2", len(rooms))
	}
}

func TestDirectRoom(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Name: "Alice"}))
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob", Name: "Bob"}))
	bob := protocol.NewAccountID(n.ID(), "bob")
	r1 := must[*Room](t)(n.DirectRoom(ctx, "alice", bob))
	r2 := must[*Room](t)(n.DirectRoom(ctx, "bob", protocol.NewAccountID(n.ID(), "alice")))
	if r1.ID != r2.ID || r1.Kind != protocol.KindDirect || r1.Name != "Bob" || r2.Name != "Alice" {
		t.Fatalf("direct rooms: %+v / %+v", r1, r2)
	}
	if err := n.AddMember(ctx, "alice", r1.ID, MemberSpec{Account: protocol.NewAccountID(n.ID(), "alice")}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("adding to a direct chat: %v", err)
	}
}

// TestRoomListCountsMembers: the room list, which leaves members out,
// still says how many there are.
func TestRoomListCountsMembers(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob"}))
	must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Pair", Members: []MemberSpec{{Account: protocol.NewAccountID(n.ID(), "bob")}}}))
	for _, r := range must[[]*Room](t)(n.Rooms(ctx, "alice")) {
		want := map[protocol.RoomKind]int{protocol.KindGroup: 2, protocol.KindMy: 1}[r.Kind]
		if r.MemberCount != want || r.Members != nil {
			t.Errorf("%s room in the list: %d members counted, %d listed; want %d counted, none listed", r.Kind, r.MemberCount, len(r.Members), want)
		}
	}
}

// TestAliasCache: a room's alias resolves the same from the cache as from
// the store, and an alias never handed out is not found, nor remembered.
func TestAliasCache(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, t.TempDir())
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch"}))
	for range 2 { // from the store, then from the cache
		if got := must[protocol.RoomID](t)(n.RoomByAlias(ctx, room.Alias)); got != room.ID {
			t.Fatalf("RoomByAlias = %s, want %s", got, room.ID)
		}
		if b, ok := n.aliases.Get(aliasKey{storage.AliasRoom, room.Alias}); !ok || !bytes.Equal(b, room.ID[:]) {
			t.Fatalf("cached %x, %v; want the room's ID", b, ok)
		}
	}
	if _, err := n.RoomByAlias(ctx, room.Alias+1000); !errors.Is(err, ErrNotFound) {
		t.Errorf("an alias never handed out: %v, want ErrNotFound", err)
	}
	if _, ok := n.aliases.Get(aliasKey{storage.AliasRoom, room.Alias + 1000}); ok {
		t.Error("an alias never handed out was remembered")
	}
}
