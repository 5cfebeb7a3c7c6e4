package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// testLogger logs to t.Log, or for a fuzz test to standard error: the
// fuzz target runs with Ts of its own, and a server logging through the
// F from inside it would panic.
func testLogger(t testing.TB) *slog.Logger {
	var w io.Writer = tWriter{t}
	if _, fuzz := t.(*testing.F); fuzz {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// user is a test account with an API token.
type user struct {
	*node.Account
	token    string
	password string
}

// env is a real node (Badger in a temp dir) behind the API on a loopback
// HTTP server, with three accounts: alice and bob share the group chat
// "Launch" (alice admin), carol is in no room with them.
type env struct {
	t                 testing.TB
	node              *node.Node
	api               *Server
	srv               *httptest.Server
	alice, bob, carol *user
	room              *node.Room // "Launch"
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	return newEnvWith(t, node.Config{}, cfg)
}

// newEnvWith is newEnv with a node configured by ncfg (its DataDir and,
// unless set, Logger filled in).
func newEnvWith(t testing.TB, ncfg node.Config, cfg Config) *env {
	t.Helper()
	dir := t.TempDir()
	if _, err := node.Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	ncfg.DataDir = dir
	if ncfg.Logger == nil {
		ncfg.Logger = testLogger(t)
	}
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	e := &env{t: t, node: n, api: New(n, cfg)}
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.api.Shutdown)
	e.alice = e.newUser("alice", "Alice Sato")
	e.bob = e.newUser("bob", "Bob Tanaka")
	e.carol = e.newUser("carol", "Carol Suzuki")
	e.room = e.newRoom(e.alice, "Launch", e.bob)
	return e
}

func (e *env) newUser(handle, name string) *user {
	e.t.Helper()
	ctx := e.t.Context()
	pw := handle + "-password"
	a, err := e.node.CreateAccount(ctx, node.NewAccount{Handle: protocol.Handle(handle), Name: name,
		Email: handle + "@acme.example", Password: pw})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.node.CreateToken(ctx, a.Handle, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return &user{Account: a, token: tok, password: pw}
}

// newRoom creates a group chat of admin's with members.
func (e *env) newRoom(admin *user, name string, members ...*user) *node.Room {
	e.t.Helper()
	nr := node.NewRoom{Name: name}
	for _, m := range members {
		nr.Members = append(nr.Members, node.MemberSpec{Account: m.ID})
	}
	r, err := e.node.CreateRoom(e.t.Context(), admin.Handle, nr)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) post(as *user, room *node.Room, body string) *node.Message {
	e.t.Helper()
	m, err := e.node.Post(e.t.Context(), as.Handle, room.ID, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode decodes the JSON body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %s: %v", r, err)
	}
}

// errors returns the body's ChatWork error messages, failing the test if
// the body is not that shape.
func (r *response) errors(t testing.TB) []string {
	t.Helper()
	var body struct {
		Errors []string `json:"errors"`
	}
	r.decode(t, &body)
	if len(body.Errors) == 0 || body.Errors[0] == "" {
		t.Fatalf("response %s: want {\"errors\": [\"...\"]}", r)
	}
	return body.Errors
}

// req describes a request: its credentials and parameters.
type req struct {
	token  string
	form   url.Values // sent as the query for GET, else as a form body
	header map[string]string
	cookie *http.Cookie
	json   string // a JSON body instead of form
}

func (e *env) do(method, path string, q req) *response {
	e.t.Helper()
	target := e.srv.URL + path
	var body io.Reader
	if q.json != "" {
		body = strings.NewReader(q.json)
	} else if q.form != nil {
		if method == http.MethodGet {
			target += "?" + q.form.Encode()
		} else {
			body = strings.NewReader(q.form.Encode())
		}
	}
	r, err := http.NewRequestWithContext(e.t.Context(), method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case q.json != "":
		r.Header.Set("Content-Type", "application/json")
	case body != nil:
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if q.token != "" {
		r.Header.Set("X-ChatWorkToken", q.token)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.cookie != nil {
		r.AddCookie(q.cookie)
	}
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Config{})
	resp := e.do("GET", "/api/health", req{})
	var body struct {
		Status string `json:"status"`
		NodeID string `json:"node_id"`
	}
	resp.decode(t, &body)
	if resp.status != http.StatusOK || body.Status != "ok" || body.NodeID != string(e.node.ID()) {
		t.Fatalf("health = %s", resp)
	}
	// A store that does not answer makes the node unhealthy.
	if err := e.node.Close(); err != nil {
		t.Fatal(err)
	}
	if resp := e.do("GET", "/api/health", req{}); resp.status != http.StatusServiceUnavailable {
		t.Fatalf("health with the store closed = %s", resp)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/v2/nope"}, {"PATCH", "/v2/me"}, {"DELETE", "/v2/me"}, {"GET", "/api/nope"}, {"POST", "/v2/rooms/1/messages/read"},
	} {
		resp := e.do(c.method, c.path, req{token: e.alice.token})
		if resp.status != http.StatusNotFound || resp.errors(t)[0] != "Invalid Endpoint or HTTP method" {
			t.Errorf("%s %s = %s, want 404 with ChatWork's errors shape", c.method, c.path, resp)
		}
	}
}

// TestWebAppMounted checks that everything outside /v2 and /api is the
// web app.
func TestWebAppMounted(t *testing.T) {
	e := newEnv(t, Config{})
	resp := e.do("GET", "/", req{})
	if resp.status != http.StatusOK || !strings.Contains(string(resp.body), "<html") {
		t.Fatalf("GET / = %s, want the web app", resp)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Config{MaxBodyBytes: 1 << 10})
	resp := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: e.alice.token,
		form: form("body", strings.Repeat("x", 2<<10))})
	if resp.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body = %s, want 413", resp)
	}
	resp.errors(t)
}

func TestAuthHeaders(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"X-ChatWorkToken", map[string]string{"X-ChatWorkToken": e.alice.token}, 200},
		{"lower-case header name", map[string]string{"x-chatworktoken": e.alice.token}, 200},
		{"bearer", map[string]string{"Authorization": "Bearer " + e.alice.token}, 200},
		{"bearer lower-case scheme", map[string]string{"Authorization": "bearer " + e.alice.token}, 200},
		{"basic", map[string]string{"Authorization": "Basic " + e.alice.token}, 401},
		{"none", nil, 401},
		{"wrong token", map[string]string{"X-ChatWorkToken": "nope"}, 401},
		{"token prefix", map[string]string{"X-ChatWorkToken": e.alice.token[:10]}, 401},
		{"huge token", map[string]string{"X-ChatWorkToken": strings.Repeat("a", 4096)}, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("GET", "/v2/me", req{header: c.header})
			if resp.status != c.want {
				t.Fatalf("GET /v2/me = %s, want %d", resp, c.want)
			}
			if c.want == 401 {
				resp.errors(t)
			}
		})
	}
}

func TestDisabledAccountTokenStopsAtOnce(t *testing.T) {
	e := newEnv(t, Config{})
	if resp := e.do("GET", "/v2/me", req{token: e.bob.token}); resp.status != 200 {
		t.Fatalf("before = %s", resp)
	}
	if err := e.node.SetDisabled(t.Context(), e.bob.Handle, true); err != nil {
		t.Fatal(err)
	}
	if resp := e.do("GET", "/v2/me", req{token: e.bob.token}); resp.status != 401 {
		t.Fatalf("after disabling = %s, want 401", resp)
	}
}

// bodyOf returns the stored (global) body of a message.
func (e *env) bodyOf(as *user, alias uint64) string {
	e.t.Helper()
	id, err := e.node.MessageByAlias(e.t.Context(), alias)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.node.Message(e.t.Context(), as.Handle, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Body
}

func TestMessageNotationRoundTrip(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	first := e.post(e.bob, e.room, "first")
	body := fmt.Sprintf("[To:%d] Bob\n[rp aid=%d to=%d-%d] re\n[qt][qtmeta aid=%d time=1400000000]q[/qt][piconname:%d]",
		e.bob.Alias, e.bob.Alias, e.room.Alias, first.Alias, e.bob.Alias, e.alice.Alias)
	resp := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: e.alice.token, form: form("body", body)})
	var posted struct {
		MessageID string `json:"message_id"`
	}
	resp.decode(t, &posted)
	var alias uint64
	fmt.Sscan(posted.MessageID, &alias)
	want := fmt.Sprintf("[To:%s] Bob\n[rp aid=%s to=%s-%s] re\n[qt][qtmeta aid=%s time=1400000000]q[/qt][piconname:%s]",
		e.bob.ID, e.bob.ID, e.room.ID, first.ID, e.bob.ID, e.alice.ID)
	if got := e.bodyOf(e.alice, alias); got != want {
		t.Fatalf("stored body = %q, want %q", got, want)
	}
	// Bob was mentioned: the node counted it from the global form.
	r, err := e.node.Room(ctx, e.bob.Handle, e.room.ID)
	if err != nil || r.Mentions != 1 {
		t.Fatalf("bob's mentions = %v %v, want 1", r, err)
	}
	resp = e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%d", e.room.Alias, alias), req{token: e.bob.token})
	var got messageJSON
	resp.decode(t, &got)
	if got.Body != body {
		t.Fatalf("body read back = %q, want %q", got.Body, body)
	}
}

// TestReplyToUnreadableMessageStaysText: bob replies, in a room he is
// in, to a message of a room he is not in, and to that message under the
// alias of his own room. Neither reference is resolved: the stored body
// keeps the numbers he wrote, not the other room's global IDs, while a
// reply to a message he can read is resolved.
func TestReplyToUnreadableMessageStaysText(t *testing.T) {
	e := newEnv(t, Config{})
	secret := e.newRoom(e.alice, "Board")
	hidden := e.post(e.alice, secret, "the merger is on")
	open := e.post(e.alice, e.room, "hello")
	for _, c := range []struct{ name, body, want string }{
		{"a room he is not in", fmt.Sprintf("[rp aid=%d to=%d-%d] really?", e.alice.Alias, secret.Alias, hidden.Alias),
			fmt.Sprintf("[rp aid=%s to=%d-%d] really?", e.alice.ID, secret.Alias, hidden.Alias)},
		{"another room's message", fmt.Sprintf("[rp aid=%d to=%d-%d] really?", e.alice.Alias, e.room.Alias, hidden.Alias),
			fmt.Sprintf("[rp aid=%s to=%d-%d] really?", e.alice.ID, e.room.Alias, hidden.Alias)},
		{"a message he can read", fmt.Sprintf("[rp aid=%d to=%d-%d] hi", e.alice.Alias, e.room.Alias, open.Alias),
			fmt.Sprintf("[rp aid=%s to=%s-%s] hi", e.alice.ID, e.room.ID, open.ID)},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: e.bob.token, form: form("body", c.body)})
			var posted struct {
				MessageID string `json:"message_id"`
			}
			resp.decode(t, &posted)
			var alias uint64
			fmt.Sscan(posted.MessageID, &alias)
			if got := e.bodyOf(e.bob, alias); got != c.want {
				t.Fatalf("stored body = %q, want %q", got, c.want)
			}
			if strings.Contains(e.bodyOf(e.bob, alias), secret.ID.String()) {
				t.Fatal("the stored body names the room bob is not in")
			}
		})
	}
}

func TestPostIsDurableAndIDsStable(t *testing.T) {
	// node.Post returns once the event is fsynced; the API answers only
	// after it returns. Reopening the store shows what was acknowledged.
	dir := t.TempDir()
	if _, err := node.Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := n.CreateAccount(t.Context(), node.NewAccount{Handle: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := n.CreateToken(t.Context(), "alice", "t")
	srv := httptest.NewServer(New(n, Config{Logger: testLogger(t)}))
	my, _ := n.Room(t.Context(), "alice", a.MyChat)
	r, _ := http.NewRequest("POST", fmt.Sprintf("%s/v2/rooms/%d/messages", srv.URL, my.Alias), strings.NewReader("body=kept"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-ChatWorkToken", tok)
	resp, err := http.DefaultClient.Do(r)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post = %v %v", resp, err)
	}
	var posted struct {
		MessageID string `json:"message_id"`
	}
	json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	srv.Close()
	n.Close()
	n, err = node.New(node.Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ms, err := n.Messages(t.Context(), "alice", a.MyChat, node.Page{})
	if err != nil || len(ms) != 1 || ms[0].Body != "kept" {
		t.Fatalf("after reopening: %v %v", ms, err)
	}
	// IDs are stable across restarts.
	if fmt.Sprint(ms[0].Alias) != posted.MessageID {
		t.Fatalf("message_id %s became %d", posted.MessageID, ms[0].Alias)
	}
	if again, err := n.Room(t.Context(), "alice", a.MyChat); err != nil || again.Alias != my.Alias {
		t.Fatalf("room_id %d became %v (%v)", my.Alias, again, err)
	}
}

func TestJSONAndQueryParams(t *testing.T) {
	e := newEnv(t, Config{})
	path := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	if resp := e.do("POST", path, req{token: e.alice.token, json: `{"body": "from json", "self_unread": false}`}); resp.status != 200 {
		t.Fatalf("JSON body = %s", resp)
	}
	if resp := e.do("POST", path+"?body=from+query", req{token: e.alice.token}); resp.status != 200 {
		t.Fatalf("query parameters on POST = %s", resp)
	}
	for _, c := range []struct{ name, json, ct, body string }{
		{"JSON array", `[1,2]`, "", ""},
		{"JSON object value", `{"body": {"x": 1}}`, "", ""},
		{"two JSON objects", `{"body": "a"}{"body": "b"}`, "", ""},
		{"unknown content type", "", "text/plain", "body=x"},
		{"duplicate parameter", "", "application/x-www-form-urlencoded", "body=a&body=b"},
		{"bad form", "", "application/x-www-form-urlencoded", "body=%zz"},
		{"invalid UTF-8", "", "application/x-www-form-urlencoded", "body=%ff%fe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var resp *response
			if c.json != "" {
				resp = e.do("POST", path, req{token: e.alice.token, json: c.json})
			} else {
				r, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(c.body))
				r.Header.Set("Content-Type", c.ct)
				r.Header.Set("X-ChatWorkToken", e.alice.token)
				hr, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(hr.Body)
				hr.Body.Close()
				resp = &response{status: hr.StatusCode, body: b}
			}
			if resp.status != 400 {
				t.Fatalf("= %s, want 400", resp)
			}
			resp.errors(t)
		})
	}
}
