package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// serve starts a node on a new data directory and serves its control
// socket until the test ends. It returns the data directory and a stop
// function that ends Serve and returns its error.
func serve(t *testing.T) (dir string, n *node.Node, stop func() error) {
	t.Helper()
	// A short path: Unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if _, err := node.Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	n, err = node.New(node.Config{DataDir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, n, SocketPath(dir), log) }()
	var once bool
	var serveErr error
	stop = func() error {
		if !once {
			once = true
			cancel()
			serveErr = <-done
		}
		return serveErr
	}
	t.Cleanup(func() { stop(); n.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := Dial(t.Context(), dir)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("control socket not up: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return dir, n, stop
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func dial(t *testing.T, dir string) *Client {
	t.Helper()
	c, err := Dial(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
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

// TestClient drives an admin's working session through one connection:
// accounts, tokens, a room, members, messages, tasks and a backup.
func TestClient(t *testing.T) {
	dir, n, _ := serve(t)
	ctx := t.Context()
	c := dial(t, dir)

	st := must[*node.Status](t)(c.Status(ctx))
	if st.NodeID != n.ID() || st.Org != "Acme" || st.DataDir != dir {
		t.Fatalf("status = %+v", st)
	}
	alice := must[*node.Account](t)(c.AddUser(ctx, node.NewAccount{Handle: "alice", Password: "long enough", Admin: true}))
	must[*node.Account](t)(c.AddUser(ctx, node.NewAccount{Handle: "bob"}))
	if alice.Handle != "alice" || !alice.Admin || alice.Alias == 0 {
		t.Fatalf("added %+v", alice)
	}
	if users := must[[]*node.Account](t)(c.Users(ctx)); len(users) != 2 {
		t.Fatalf("users = %+v", users)
	}
	token := must[string](t)(c.CreateToken(ctx, "alice", "bot"))
	if _, err := n.Authenticate(ctx, token); err != nil {
		t.Fatalf("the token does not work: %v", err)
	}
	if _, _, err := n.StartSession(ctx, "alice", "long enough", node.Client{}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(ctx, "alice", "short"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("a short password: %v, want ErrInvalid", err)
	}
	if err := c.SetPassword(ctx, "alice", "chosen by the admin"); err != nil {
		t.Fatal(err)
	}
	if ss := must[[]*node.Session](t)(n.Sessions(ctx, "alice")); len(ss) != 0 {
		t.Fatalf("sessions after SetPassword = %+v", ss)
	}
	_, session, err := n.StartSession(ctx, "alice", "chosen by the admin", node.Client{})
	if err != nil {
		t.Fatal(err)
	}
	pw := must[string](t)(c.ResetPassword(ctx, "alice"))
	if _, err := n.Authenticate(ctx, session); !errors.Is(err, node.ErrUnauthorized) {
		t.Fatalf("a session after ResetPassword: %v", err)
	}
	if _, err := n.Login(ctx, "alice", pw); err != nil {
		t.Fatalf("login with the reset password: %v", err)
	}
	if _, err := n.Authenticate(ctx, token); err != nil {
		t.Fatalf("the API token after a reset: %v", err)
	}
	if _, err := c.ResetPassword(ctx, "nobody"); !errors.Is(err, node.ErrNotFound) {
		t.Fatalf("resetting an unknown account: %v, want ErrNotFound", err)
	}
	if err := c.SetUserDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Post(ctx, "bob", 1, "hi"); !errors.Is(err, node.ErrDisabled) && !errors.Is(err, node.ErrNotFound) {
		t.Fatalf("a disabled account posting: %v", err)
	}
	if err := c.SetUserDisabled(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}

	room := must[*node.Room](t)(c.CreateRoom(ctx, "alice", "Launch", "the launch", []string{"bob"}))
	if room.Name != "Launch" || len(room.Members) != 2 {
		t.Fatalf("room = %+v", room)
	}
	room = must[*node.Room](t)(c.SetMember(ctx, "alice", room.Alias, "bob", protocol.RoleAdmin))
	if room.Members[1].Role != protocol.RoleAdmin {
		t.Fatalf("bob's role = %+v", room.Members)
	}
	room = must[*node.Room](t)(c.SetMember(ctx, "alice", room.Alias, "bob", ""))
	if len(room.Members) != 1 {
		t.Fatalf("bob not removed: %+v", room.Members)
	}
	room = must[*node.Room](t)(c.SetMember(ctx, "alice", room.Alias, "bob", protocol.RoleMember))
	if len(room.Members) != 2 {
		t.Fatalf("bob not added back: %+v", room.Members)
	}
	if rooms := must[[]*node.Room](t)(c.Rooms(ctx, "bob")); len(rooms) != 2 { // my chat and Launch
		t.Fatalf("bob's rooms = %+v", rooms)
	}
	if rooms := must[[]*node.Room](t)(c.Rooms(ctx, "")); len(rooms) != 3 { // two my chats and Launch
		t.Fatalf("all rooms = %+v", rooms)
	}

	m := must[*node.Message](t)(c.Post(ctx, "bob", room.Alias, "見積もりをお願いします"))
	ms := must[[]*node.Message](t)(c.Messages(ctx, "alice", room.Alias, 10))
	ms = slices.DeleteFunc(ms, func(m *node.Message) bool { return m.Notice != "" }) // system messages aside
	if len(ms) != 1 || ms[0].ID != m.ID || ms[0].Body != m.Body {
		t.Fatalf("messages = %+v", ms)
	}
	task := must[*node.Task](t)(c.CreateTask(ctx, "alice", room.Alias, "send the quote", []string{"bob"}, 1_900_000_000))
	if task.Limit != protocol.LimitTime || task.Status != protocol.TaskOpen {
		t.Fatalf("task = %+v", task)
	}
	task = must[*node.Task](t)(c.SetTaskStatus(ctx, "bob", task.Alias, protocol.TaskDone))
	if task.Status != protocol.TaskDone {
		t.Fatalf("task = %+v", task)
	}
	if _, err := c.SetTaskStatus(ctx, "bob", task.Alias, "finished"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("an unknown status: %v, want ErrInvalid", err)
	}
	if ts := must[[]*node.Task](t)(c.Tasks(ctx, "alice", room.Alias, protocol.TaskOpen)); len(ts) != 0 {
		t.Fatalf("open tasks = %+v", ts)
	}

	rs := must[*node.Receipts](t)(c.RoomStatus(ctx, "alice", room.Alias))
	if rs.Room != room.ID || rs.Seq == 0 || len(rs.Nodes) != 0 { // one node: no partner to acknowledge
		t.Fatalf("room status = %+v", rs)
	}
	if _, err := c.RoomStatus(ctx, "alice", 999); !errors.Is(err, node.ErrNotFound) {
		t.Fatalf("status of an unknown room: %v, want ErrNotFound", err)
	}

	backup := filepath.Join(t.TempDir(), "node.backup")
	if size := must[int64](t)(c.Backup(ctx, backup)); size <= 0 {
		t.Fatalf("backup size %d", size)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Size() == 0 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	if ps := must[[]*node.Partner](t)(c.Partners(ctx)); len(ps) != 0 {
		t.Fatalf("partners = %+v", ps)
	}
	if _, err := c.AddPartner(ctx, "not an address"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("a bad partner address: %v, want ErrInvalid", err)
	}
}

// TestErrors checks that what the node refuses reaches the client as the
// node's sentinels, and that bad requests get an answer, not a hang.
func TestErrors(t *testing.T) {
	dir, _, _ := serve(t)
	ctx := t.Context()
	c := dial(t, dir)
	must[*node.Account](t)(c.AddUser(ctx, node.NewAccount{Handle: "alice"}))
	for _, tc := range []struct {
		name string
		err  error
		want error
		msg  string // what the admin reads, if set
	}{
		{"duplicate account", func() error { _, err := c.AddUser(ctx, node.NewAccount{Handle: "alice"}); return err }(), node.ErrConflict, "account alice already exists"},
		{"unknown room", func() error { _, err := c.Post(ctx, "alice", 999, "hi"); return err }(), node.ErrNotFound, ""},
		{"unknown account", func() error { _, err := c.CreateToken(ctx, "zzz", "bot"); return err }(), node.ErrNotFound, "no account zzz on this node"},
		{"unknown op", func() error { _, err := call[none](ctx, c, "no.such.op", nil); return err }(), node.ErrInvalid, ""},
		{"unknown argument", func() error {
			_, err := call[none](ctx, c, opUserAdd, map[string]any{"handle": "x", "bogus": 1})
			return err
		}(), node.ErrInvalid, ""},
	} {
		var cerr *Error
		if !errors.Is(tc.err, tc.want) || !errors.As(tc.err, &cerr) {
			t.Errorf("%s: %v, want a control *Error matching %v", tc.name, tc.err, tc.want)
		}
		if tc.msg != "" && tc.err.Error() != tc.msg {
			t.Errorf("%s: told %q, want %q", tc.name, tc.err, tc.msg)
		}
	}
	// The connection still works after refused requests.
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}

	// Malformed JSON is answered, then the connection is closed: the
	// stream is out of step.
	conn, err := net.Dial("unix", SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, `{"op": "status", "args": [}`)
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil || resp.Kind != "invalid" {
		t.Fatalf("malformed request: %+v, %v", resp, err)
	}

	if _, err := Dial(ctx, t.TempDir()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no node: %v, want ErrNotRunning", err)
	}
	if fi, err := os.Stat(SocketPath(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode = %v, %v", fi, err)
	}
}

// TestShutdown checks that Serve returns once its context ends, removes
// the socket, and that a socket file left by a killed node is replaced.
func TestShutdown(t *testing.T) {
	dir, n, stop := serve(t)
	c := dial(t, dir)
	if _, err := c.Status(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after Serve returned: %v", err)
	}
	if _, err := c.Status(t.Context()); err == nil {
		t.Fatal("an open connection still answers after Serve returned")
	}

	// A killed node leaves its socket file behind.
	if err := os.WriteFile(SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, n, SocketPath(dir), slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := Dial(ctx, dir)
		if err == nil {
			defer c.Close()
			if _, err := c.Status(ctx); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Serve did not replace a stale socket file: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCanceledCall checks that a call whose context ends gives up with
// the context's error instead of waiting for the node.
func TestCanceledCall(t *testing.T) {
	dir, _, _ := serve(t)
	c := dial(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Status(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled call: %v, want context.Canceled", err)
	}
}

// TestCallTimesOut checks that a call to a node that does not answer ends
// with its context's deadline, and leaves the client closed rather than
// out of step.
func TestCallTimesOut(t *testing.T) {
	dir, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mute.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, reads, never answers
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := DialSocket(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Status(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call to a mute node: %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.Status(t.Context()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a call after a timed-out one: %v, want net.ErrClosed", err)
	}
}
