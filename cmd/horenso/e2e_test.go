package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
)

// horensoBin is the binary under test, built once by TestMain.
var horensoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "horenso-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	horensoBin = filepath.Join(dir, "horenso")
	args := []string{"build", "-o", horensoBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build horenso:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// horenso runs an admin subcommand against data with --json and decodes
// its output into out (if not nil).
func horenso(t *testing.T, data string, out any, args ...string) {
	t.Helper()
	horensoIn(t, data, "", out, args...)
}

// horensoIn is horenso with stdin.
func horensoIn(t *testing.T, data, stdin string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(horensoBin, append([]string{"--data", data, "--json"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("horenso %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			t.Fatalf("horenso %s: decode %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
}

// process is a running `horenso run`.
type process struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	logs   *lockedBuffer // its stderr, as logged so far
	exited chan error
}

// stderr returns what the process wrote to stderr so far.
func (p *process) stderr() string { return p.logs.String() }

// start runs `horenso run` on data, listening on loopback ports only, and
// waits until its control socket answers. extra flags follow the defaults
// and override them.
func start(t *testing.T, data string, extra ...string) *process {
	t.Helper()
	return startBin(t, horensoBin, data, extra...)
}

// startBin is start with another program in place of the horenso binary,
// such as a script that runs it under other limits.
func startBin(t *testing.T, bin, data string, extra ...string) *process {
	t.Helper()
	args := append([]string{"run", "--data", data, "--http", "127.0.0.1:0", "--org", "Acme",
		"--listen", "/ip4/127.0.0.1/tcp/0"}, extra...)
	cmd := exec.Command(bin, args...)
	p := &process{cmd: cmd, stdout: new(lockedBuffer), logs: new(lockedBuffer), exited: make(chan error, 1)}
	cmd.Stdout = p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs sync.WaitGroup
	logs.Go(func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			fmt.Fprintln(p.logs, sc.Text())
		}
	})
	go func() {
		logs.Wait()
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for !answers(t.Context(), data) {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("horenso run exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("node did not come up within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stop sends sig and waits for the process to exit.
func (p *process) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("horenso run did not exit within 30s")
		return nil
	}
}

func TestEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var initOut struct {
		NodeID string `json:"node_id"`
	}
	horenso(t, data, &initOut, "init", "--org", "Acme")
	if !strings.HasPrefix(initOut.NodeID, "12D3KooW") {
		t.Fatalf("init printed node ID %q, want an Ed25519 peer ID", initOut.NodeID)
	}
	p := start(t, data, "--session-idle", "24h", "--session-max", "720h")
	if !strings.Contains(p.stdout.String(), "login:    admin") {
		t.Errorf("first run did not print the admin login:\n%s", p.stdout)
	}
	var st node.Status
	horenso(t, data, &st, "status")
	if string(st.NodeID) != initOut.NodeID || st.Org != "Acme" || st.Accounts != 1 {
		t.Fatalf("status = %+v", st)
	}
	horenso(t, data, nil, "user", "add", "alice", "--email", "alice@acme.example", "--password", "alice-password")
	horenso(t, data, nil, "user", "add", "bob", "--email", "bob@acme.example")
	// Passwords: set by the admin from stdin (never a flag), or reset to a
	// new one shown once; either ends the account's web sessions.
	base := httpBase(t, p)
	session := login(t, base, "alice", "alice-password")
	horensoIn(t, data, "a brand new secret\n", nil, "user", "passwd", "alice", "--password-stdin")
	if code := get(t, base+"/api/session", session); code != 401 {
		t.Fatalf("alice's session after passwd: %d, want 401", code)
	}
	login(t, base, "alice", "a brand new secret")
	cmd := exec.Command(horensoBin, "--data", data, "user", "passwd", "alice")
	cmd.Stdin = strings.NewReader("from a pipe\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--password-stdin") {
		t.Fatalf("passwd without a terminal or --password-stdin: %v, %s", err, out)
	}
	var reset struct{ Password string }
	horenso(t, data, &reset, "user", "reset-password", "bob")
	login(t, base, "bob", reset.Password)

	var tok struct{ Token string }
	horenso(t, data, &tok, "token", "create", "alice")
	if len(tok.Token) < 40 {
		t.Fatalf("token %q too short", tok.Token)
	}
	var room node.Room
	horenso(t, data, &room, "room", "create", "Launch", "--as", "alice", "--members", "bob")
	rid := fmt.Sprint(room.Alias)
	var msg node.Message
	horenso(t, data, &msg, "message", "post", rid, "[To:bob@"+initOut.NodeID+"] 見積もりをお願いします", "--as", "alice")
	var task node.Task
	horenso(t, data, &task, "task", "create", rid, "send the quote", "--as", "alice", "--to", "bob")
	horenso(t, data, nil, "task", "done", fmt.Sprint(task.Alias), "--as", "bob")
	backup := filepath.Join(t.TempDir(), "acme.backup")
	horenso(t, data, nil, "backup", backup)

	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("horenso run after SIGTERM: %v, want a clean exit", err)
	}
	if answers(t.Context(), data) {
		t.Fatal("control socket still answers after the node stopped")
	}

	p = start(t, data)
	if strings.Contains(p.stdout.String(), "password:") {
		t.Errorf("second run created another admin:\n%s", p.stdout)
	}
	var ms []node.Message
	horenso(t, data, &ms, "message", "list", rid, "--as", "bob")
	ms = posts(ms)
	if len(ms) != 1 || ms[0].Body != msg.Body || ms[0].Alias != msg.Alias {
		t.Fatalf("messages after restart = %+v, want %q", ms, msg.Body)
	}
	var ts []node.Task
	horenso(t, data, &ts, "task", "list", rid, "--as", "alice")
	if len(ts) != 1 || ts[0].Status != "done" || ts[0].Alias != task.Alias {
		t.Fatalf("tasks after restart = %+v", ts)
	}
	var rooms []node.Room
	horenso(t, data, &rooms, "room", "list", "--as", "bob")
	if len(rooms) != 2 || rooms[0].Alias != room.Alias || rooms[0].Unread != 1 || rooms[0].Mentions != 1 {
		t.Fatalf("bob's rooms after restart = %+v", rooms)
	}
	// The table shows both counts too, as the README says.
	table, err := exec.Command(horensoBin, "--data", data, "room", "list", "--as", "bob").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(table)), "\n")
	if head := strings.Fields(lines[0]); head[len(head)-2] != "UNREAD" || head[len(head)-1] != "MENTIONS" {
		t.Fatalf("room list's columns: %q", lines[0])
	}
	found := false
	for _, l := range lines[1:] {
		if f := strings.Fields(l); f[0] == fmt.Sprint(room.Alias) {
			found = true
			if f[len(f)-2] != "1" || f[len(f)-1] != "1" {
				t.Errorf("bob's row %q, want 1 unread and 1 mention", l)
			}
		}
	}
	if !found {
		t.Errorf("room list lacks room %d:\n%s", room.Alias, table)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// The backup taken while the node ran restores into a new data
	// directory that serves the same node and the same room.
	restored := filepath.Join(t.TempDir(), "restored")
	horenso(t, restored, nil, "restore", backup)
	p = start(t, restored)
	horenso(t, restored, &st, "status")
	horenso(t, restored, &ts, "task", "list", rid, "--as", "bob")
	if string(st.NodeID) != initOut.NodeID || len(ts) != 1 || ts[0].Status != "done" {
		t.Fatalf("restored node: status %+v, tasks %+v", st, ts)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// TestKill9LosesNoAcknowledgedWrite kills the node with SIGKILL while
// writers are posting, restarts it, and checks that every post the node
// acknowledged is there.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, data)
	ctx := t.Context()
	admin := dial(t, data)
	if _, err := admin.AddUser(ctx, node.NewAccount{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := admin.CreateRoom(ctx, "alice", "load", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	wctx, stopWriters := context.WithCancel(ctx)
	defer stopWriters()
	for w := range 8 {
		wg.Go(func() {
			c, err := control.Dial(wctx, data)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := 0; wctx.Err() == nil; i++ {
				body := fmt.Sprintf("w%d-%d", w, i)
				if _, err := c.Post(wctx, "alice", room.Alias, body); err != nil {
					return // the node died: this post was not acknowledged
				}
				mu.Lock()
				acked[body] = true
				mu.Unlock()
			}
		})
	}
	// Let the writers get going, then kill the node mid-stream.
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
	p.stop(t, syscall.SIGKILL)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()

	start(t, data)
	ms, err := dial(t, data).Messages(ctx, "alice", room.Alias, node.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(acked) >= node.MaxPage {
		t.Fatalf("test posted %d messages; message.list shows at most %d", len(acked), node.MaxPage)
	}
	have := map[string]bool{}
	for _, m := range ms {
		have[m.Body] = true
	}
	lost := 0
	for body := range acked {
		if !have[body] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged posts lost after kill -9", lost, len(acked))
	}
	t.Logf("%d acknowledged posts, %d stored after kill -9", len(acked), len(ms))
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAdminCommandWithoutNode(t *testing.T) {
	cmd := exec.Command(horensoBin, "--data", t.TempDir(), "user", "list")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("user list without a node succeeded: %s", out)
	}
	if !strings.Contains(string(out), "node is not running") {
		t.Fatalf("output %q does not say the node is not running", out)
	}
}

// answers reports whether a node answers on data's control socket.
func answers(ctx context.Context, data string) bool {
	c, err := control.Dial(ctx, data)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.Status(ctx)
	return err == nil
}

// dial connects to the node running on data; the connection is closed
// when the test ends.
func dial(t *testing.T, data string) *control.Client {
	t.Helper()
	c, err := control.Dial(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpBase returns the base URL of p's HTTP API, as `horenso run` prints
// it.
func httpBase(t *testing.T, p *process) string {
	t.Helper()
	m := regexp.MustCompile(`HTTP:\s+(http://\S+)/`).FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no HTTP address in the output of horenso run:\n%s", p.stdout)
	}
	return m[1]
}

// login logs in over HTTP and returns the session cookie.
func login(t *testing.T, base, name, password string) *http.Cookie {
	t.Helper()
	resp, err := http.PostForm(base+"/api/login", url.Values{"login": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
		t.Fatalf("login %s: %s", name, resp.Status)
	}
	return resp.Cookies()[0]
}

// get makes a GET request with a cookie and returns the status.
func get(t *testing.T, u string, c *http.Cookie) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// posts returns the messages of ms that are not system messages (task,
// member and room notices), which these tests do not count.
func posts(ms []node.Message) []node.Message {
	return slices.DeleteFunc(ms, func(m node.Message) bool { return m.Notice != "" })
}
