package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
	"github.com/horenso/horenso/node/web"
	"github.com/horenso/horenso/protocol"
)

// The browser tests drive the real app in headless Chromium through
// playwright-core (testdata/browser/*.test.mjs) against real nodes started
// here. testdata/setup.sh installs Chromium and playwright-core. Without
// them the tests skip, except under CI (env CI set), where that fails.
//
// Env:
//
//	HORENSO_SCREENSHOTS=1   write screenshots of the main screens to docs/img/
//	HORENSO_CHROMIUM=path   another Chromium binary (default /usr/bin/chromium)
//	HORENSO_BROWSER_TRACE=1 print the browser's console and the app's requests

// testNode is one node serving the API and the web app on 127.0.0.1.
type testNode struct {
	n    *node.Node
	api  *api.Server
	srv  *httptest.Server
	URL  string
	name string

	blocked atomic.Bool // /api/events answers 503, as if the network were down
}

func startNode(t *testing.T, org string) *testNode {
	t.Helper()
	dir := t.TempDir()
	if _, err := node.Init(dir, org); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t, org}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := node.New(node.Config{DataDir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{n: n, name: org}
	tn.api = api.New(n, api.Config{Logger: log, RateLimit: -1, Heartbeat: 5 * time.Second})
	app := web.Handler()
	mux := http.NewServeMux()
	// Test hooks: cut every connection and refuse the event stream until
	// unblocked, the way a flaky network and a restarting proxy look to a
	// browser.
	mux.HandleFunc("POST /_test/events/block", func(w http.ResponseWriter, r *http.Request) {
		tn.blocked.Store(true)
		w.WriteHeader(http.StatusNoContent)
		http.NewResponseController(w).Flush()
		tn.srv.CloseClientConnections()
	})
	mux.HandleFunc("POST /_test/events/unblock", func(w http.ResponseWriter, r *http.Request) {
		tn.blocked.Store(false)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api/events" && tn.blocked.Load() {
			http.Error(w, "blocked by the test", http.StatusServiceUnavailable)
			return
		}
		// node/api may mount the app itself; until then, route here.
		if p == "/v2" || p == "/api" || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/api/") {
			tn.api.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})
	tn.srv = httptest.NewUnstartedServer(mux)
	tn.srv.Config.RegisterOnShutdown(tn.api.Shutdown)
	tn.srv.Start()
	tn.URL = tn.srv.URL
	t.Cleanup(func() {
		tn.api.Shutdown() // ends the event streams, so Close does not wait for them
		tn.srv.CloseClientConnections()
		tn.srv.Close()
		n.Close()
	})
	return tn
}

// testWriter sends a node's log lines to t.Log, tagged with the node.
type testWriter struct {
	t   *testing.T
	tag string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("[%s] %s", w.tag, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// person is someone the browser scripts log in as.
type person struct {
	Base     string `json:"base"` // the URL of their node
	Login    string `json:"login"`
	Password string `json:"password"`
	Name     string `json:"name"`
	ID       uint64 `json:"account_id"`
	Global   string `json:"global_id"` // handle@nodeid

	acc *node.Account
}

func (tn *testNode) person(t *testing.T, handle, name string) *person {
	t.Helper()
	pw := handle + "-secret-pw"
	acc, err := tn.n.CreateAccount(t.Context(), node.NewAccount{Handle: protocol.Handle(handle), Name: name, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return &person{Base: tn.URL, Login: handle, Password: pw, Name: name, ID: acc.Alias, Global: string(acc.ID), acc: acc}
}

// room creates a group chat owned by owner with the others as members and
// returns its room_id.
func (tn *testNode) room(t *testing.T, owner *person, name, desc string, others ...*person) uint64 {
	t.Helper()
	var ms []node.MemberSpec
	for _, o := range others {
		ms = append(ms, node.MemberSpec{Account: o.acc.ID, Role: protocol.RoleMember})
	}
	r, err := tn.n.CreateRoom(t.Context(), owner.acc.Handle, node.NewRoom{Name: name, Description: desc, Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	return r.Alias
}

func (tn *testNode) roomID(t *testing.T, alias uint64) protocol.RoomID {
	t.Helper()
	id, err := tn.n.RoomByAlias(t.Context(), alias)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (tn *testNode) post(t *testing.T, as *person, room uint64, bodies ...string) []*node.Message {
	t.Helper()
	id := tn.roomID(t, room)
	var ms []*node.Message
	for _, b := range bodies {
		m, err := tn.n.Post(t.Context(), as.acc.Handle, id, b)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// postMany posts n messages concurrently, so that the store commits them
// in groups.
func (tn *testNode) postMany(t *testing.T, as *person, room uint64, n int) {
	t.Helper()
	id := tn.roomID(t, room)
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 1)
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				body := fmt.Sprintf("Message %d of the long history — 長い履歴のメッセージ %d", i, i)
				if _, err := tn.n.Post(t.Context(), as.acc.Handle, id, body); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// e2eConfig is what the browser scripts get in env HORENSO_E2E.
type e2eConfig struct {
	People      map[string]*person `json:"people"`
	Rooms       map[string]uint64  `json:"rooms"`
	Hooks       map[string]string  `json:"hooks"`            // person → base URL of their node's test hooks
	Values      map[string]string  `json:"values,omitempty"` // anything else a script needs, by name
	Screenshots string             `json:"screenshots,omitempty"`
	Trace       bool               `json:"trace,omitempty"`
}

// browserEnv finds Chromium, Node.js and playwright-core, or skips (fails
// under CI) with what to run.
func browserEnv(t *testing.T) (chromium, nodeBin string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := what + "; run node/web/testdata/setup.sh to install what the browser tests need"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	chromium = os.Getenv("HORENSO_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no Chromium at " + chromium)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing("no Node.js (node) on PATH")
	}
	if _, err := os.Stat("node_modules/playwright-core/package.json"); err != nil {
		missing("playwright-core is not installed in node/web/node_modules")
	}
	return chromium, nodeBin
}

// runScripts runs node's test runner on the browser scripts and fails the
// test if any fails. Output goes to the test log as it comes.
func runScripts(t *testing.T, nodeBin, chromium string, cfg e2eConfig, scripts ...string) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, scripts...)
	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Env = append(os.Environ(), "HORENSO_E2E="+string(raw), "HORENSO_CHROMIUM="+chromium, "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var tail []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		tail = append(tail, line)
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	t.Logf("browser scripts took %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("browser tests failed (%v); see the log above", err)
		}
		t.Fatal(err)
	}
	if !passLine.MatchString(strings.Join(tail, "\n")) {
		t.Fatal("the browser test runner reported no passing tests")
	}
}

// passLine is the summary line of node's test runner (spec or TAP
// reporter) when at least one test passed.
var passLine = regexp.MustCompile(`(?m)^(ℹ|#) pass [1-9]`)

func screenshotDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("HORENSO_SCREENSHOTS") == "" {
		return ""
	}
	dir, err := filepath.Abs("../../docs/img")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser logs people in and has them work together in the app: live
// messages, unread counts, mentions, replies, quotes, notation, an XSS
// attempt, tasks, editing, group chats and roles, a dropped connection,
// contacts, and logging out. People are parameters with their own node's
// URL, so the same scripts run across federated nodes.
func TestBrowser(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme 株式会社")
	alice := acme.person(t, "alice", "佐藤 花子")
	bob := acme.person(t, "bob", "Bob Tanaka")
	carol := acme.person(t, "carol", "鈴木 一郎")
	mallory := acme.person(t, "mallory", `<img src=x onerror="window.__xss='name'">Mallory`)

	launch := acme.room(t, alice, "Launch プロジェクト",
		"[info][title]Launch plan[/title]Ship v1 by Friday. Plan: https://example.com/plan[/info]", bob, mallory)
	general := acme.room(t, alice, "全体 General", "Everyone at Acme.", bob)
	xssRoom := acme.room(t, alice, `<img src=x onerror="window.__xss='room'">Room`, `<script>window.__xss='desc'</script>`, bob)
	for _, name := range []string{"営業チーム", "経理", "Design", "あいさつ"} {
		acme.room(t, alice, name, "", bob)
	}
	ms := acme.post(t, alice, launch, "おはようございます！ Kickoff at 10:00 ☕", "[To:"+bob.Global+"]Bob Tanaka\nPlease review the plan before the meeting.")
	acme.post(t, bob, launch, "[rp aid="+alice.Global+" to="+acme.roomID(t, launch).String()+"-"+ms[1].ID.String()+"]佐藤 花子\nWill do. 了解です。")
	acme.post(t, mallory, launch, `Hi <b>all</b> <img src=x onerror="window.__xss='seed'">`)
	acme.post(t, alice, general, "Welcome to Horenso 🎉")

	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob, "carol": carol, "mallory": mallory},
		Rooms:       map[string]uint64{"launch": launch, "general": general, "xss": xssRoom},
		Hooks:       map[string]string{"alice": acme.URL, "bob": acme.URL, "carol": acme.URL},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/app.test.mjs")
}

// TestBrowserSessions: in Settings, Alice sees her sessions, logs another
// device out, and changes her password, which logs out her other sessions
// (testdata/browser/sessions.test.mjs).
func TestBrowserSessions(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	acme.room(t, alice, "General", "")
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/sessions.test.mjs")
}

// TestBrowserFirstScreen checks the first screen renders within a second
// for someone in 100 rooms whose open room holds 10,000 messages.
func TestBrowserFirstScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 messages")
	}
	if raceEnabled {
		t.Skip("seeding 10,000 messages takes minutes under the race detector; run without -race: go test -run TestBrowserFirstScreen ./node/web")
	}
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	perf := acme.person(t, "perf", "Perf Tester")
	other := acme.person(t, "other", "山田 さくら")
	start := time.Now()
	var big uint64
	for i := range 100 {
		r := acme.room(t, perf, fmt.Sprintf("Room %03d 部屋", i), "", other)
		if i == 0 {
			big = r
		}
	}
	acme.postMany(t, other, big, 10000)
	t.Logf("seeded 100 rooms and 10,000 messages in %v", time.Since(start).Round(time.Millisecond))
	cfg := e2eConfig{
		People: map[string]*person{"perf": perf},
		Rooms:  map[string]uint64{"big": big},
		Trace:  os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/perf.test.mjs")
}

// TestNotation checks every module parses and runs the unit tests of the
// pure ones (the notation parser, text helpers). It needs only Node.js.
func TestNotation(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no Node.js (node) on PATH; run node/web/testdata/setup.sh")
		}
		t.Skip("no Node.js (node) on PATH")
	}
	mods, err := filepath.Glob("static/js/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if out, err := exec.CommandContext(t.Context(), nodeBin, "--check", m).CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", m, err, out)
		}
	}
	out, err := exec.CommandContext(t.Context(), nodeBin, "--test", "--test-reporter=spec", "testdata/unit/notation.test.mjs").CombinedOutput()
	t.Log(string(out))
	if err != nil {
		t.Fatalf("notation unit tests: %v", err)
	}
}

// TestBrowserAcrossNodes: Alice and Bob work for two organizations whose
// nodes are partners; each logs in to their own node and they share a
// room (testdata/browser/federation.test.mjs).
func TestBrowserAcrossNodes(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	c := nodetest.NewCluster(t, 2, nodetest.Options{API: api.Config{RateLimit: -1}})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	aliceID, bobID := a.User("alice"), b.User("bob")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Org A × Org B 共同", Members: []node.MemberSpec{{Account: bobID}}})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until B holds the room and each node knows the other's member
	// by name.
	var onB uint64
	nodetest.Await(t, 30*time.Second, func() (bool, string) {
		rb, err := b.Room(ctx, "bob", room.ID)
		if err != nil {
			return false, fmt.Sprint("room on b: ", err)
		}
		onB = rb.Alias
		ra, err := a.Room(ctx, "alice", room.ID)
		if err != nil {
			return false, fmt.Sprint("room on a: ", err)
		}
		for _, r := range []*node.Room{ra, rb} {
			for _, m := range r.Members {
				if m.Name == "" {
					return false, fmt.Sprintf("%s has no name yet", m.Account)
				}
			}
		}
		return true, ""
	})
	alias := func(nd *nodetest.Node, id protocol.AccountID) uint64 {
		p, err := nd.Profile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Alias
	}
	cfg := e2eConfig{
		People: map[string]*person{
			"alice": {Base: a.URL, Login: "alice", Password: nodetest.Password("alice"), Name: "Alice", ID: alias(a, aliceID), Global: string(aliceID)},
			"bob":   {Base: b.URL, Login: "bob", Password: nodetest.Password("bob"), Name: "Bob", ID: alias(b, bobID), Global: string(bobID)},
		},
		Rooms: map[string]uint64{"alice": room.Alias, "bob": onB},
		Trace: os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/federation.test.mjs")
}

// TestBrowserUnconfirmedMember: Alice adds Bob of a partner node and a
// made-up ceo@b to a room. Her member list marks ceo unconfirmed, and Bob
// not once his node has taken the room in
// (testdata/browser/unconfirmed.test.mjs).
func TestBrowserUnconfirmedMember(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	c := nodetest.NewCluster(t, 2, nodetest.Options{API: api.Config{RateLimit: -1}})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	aliceID, bobID := a.User("alice"), b.User("bob")
	ceo := protocol.NewAccountID(b.ID(), "ceo")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Deal",
		Members: []node.MemberSpec{{Account: bobID}, {Account: ceo}}})
	if err != nil {
		t.Fatal(err)
	}
	alias := func(id protocol.AccountID) uint64 {
		p, err := a.Profile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Alias
	}
	cfg := e2eConfig{
		People: map[string]*person{
			"alice": {Base: a.URL, Login: "alice", Password: nodetest.Password("alice"), Name: "Alice", ID: alias(aliceID), Global: string(aliceID)},
			"bob":   {Base: a.URL, Name: "Bob", ID: alias(bobID), Global: string(bobID)},
			"ceo":   {Base: a.URL, Name: "ceo", ID: alias(ceo), Global: string(ceo)},
		},
		Rooms: map[string]uint64{"alice": room.Alias},
		Trace: os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/unconfirmed.test.mjs")
}
