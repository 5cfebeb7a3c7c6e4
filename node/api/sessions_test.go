package api

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_800_000_000, 0)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// loginAs logs u in with a User-Agent and returns the cookie and CSRF
// token.
func (e *env) loginAs(u *user, agent string) (*http.Cookie, string) {
	e.t.Helper()
	r := e.do("POST", "/api/login", req{form: form("login", string(u.Handle), "password", u.password),
		header: map[string]string{"User-Agent": agent}})
	if r.status != 200 {
		e.t.Fatalf("login = %s", r)
	}
	var s sessionJSON
	r.decode(e.t, &s)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie {
			return c, s.CSRFToken
		}
	}
	e.t.Fatal("no session cookie")
	return nil, ""
}

func TestSessionExpiryOverHTTP(t *testing.T) {
	clk := newTestClock()
	e := newEnvWith(t, node.Config{Now: clk.Now, SessionIdle: time.Hour, SessionMax: 2 * time.Hour}, Config{RateLimit: -1, Now: clk.Now})
	idle, _ := e.login(e.alice)
	used, _ := e.login(e.alice)
	works := func(c *http.Cookie) bool { return e.do("GET", "/api/session", req{cookie: c}).status == 200 }
	clk.advance(59 * time.Minute)
	if !works(used) {
		t.Fatal("session used within its idle limit failed")
	}
	clk.advance(2 * time.Minute)
	if !works(used) {
		t.Fatal("session used within its idle limit failed")
	}
	if works(idle) {
		t.Fatal("session idle for 61 minutes still works")
	}
	if r := e.do("GET", "/v2/me", req{cookie: idle}); r.status != 401 || r.errors(t)[0] != "Invalid API token" {
		t.Fatalf("expired session = %s, want 401 like an unknown token", r)
	}
	clk.advance(58 * time.Minute) // 1h59m after login
	if !works(used) {
		t.Fatal("session in use failed before SessionMax")
	}
	clk.advance(2 * time.Minute) // 2h01m after login
	if works(used) {
		t.Fatal("session works past SessionMax")
	}
	if r := e.do("GET", "/v2/me", req{token: e.alice.token}); r.status != 200 {
		t.Fatalf("bot token after 2 hours = %s", r)
	}
}

func TestSessionsListAndRevoke(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	laptop, csrf := e.loginAs(e.alice, "Laptop Browser")
	phone, _ := e.loginAs(e.alice, "Phone Browser")
	bobs, bobCSRF := e.loginAs(e.bob, "Bob's Browser")

	r := e.do("GET", "/api/sessions", req{cookie: laptop})
	var ss []sessionView
	r.decode(t, &ss)
	if r.status != 200 || len(ss) != 2 {
		t.Fatalf("sessions = %s", r)
	}
	byAgent := map[string]sessionView{}
	for _, s := range ss {
		byAgent[s.UserAgent] = s
		if strings.Contains(string(r.body), laptop.Value) || strings.Contains(string(r.body), phone.Value) {
			t.Fatal("the list shows a session token")
		}
	}
	l, p := byAgent["Laptop Browser"], byAgent["Phone Browser"]
	if !l.Current || p.Current || l.Address != "127.0.0.1" || l.Created == 0 || l.LastUsed < l.Created || l.ID == "" || l.ID == p.ID {
		t.Fatalf("sessions = %+v", ss)
	}
	// By API token: the same list, none current.
	r = e.do("GET", "/api/sessions", req{token: e.alice.token})
	r.decode(t, &ss)
	if len(ss) != 2 || ss[0].Current || ss[1].Current {
		t.Fatalf("sessions by token = %s", r)
	}

	for _, c := range []struct {
		name string
		path string
		q    req
		want int
	}{
		{"without CSRF", "/api/sessions/" + p.ID, req{cookie: laptop}, 403},
		{"another account's session", "/api/sessions/" + p.ID, req{cookie: bobs, header: map[string]string{csrfHeader: bobCSRF}}, 404},
		{"unknown", "/api/sessions/nope", req{cookie: laptop, header: map[string]string{csrfHeader: csrf}}, 404},
		{"the phone's", "/api/sessions/" + p.ID, req{cookie: laptop, header: map[string]string{csrfHeader: csrf}}, 204},
		{"again", "/api/sessions/" + p.ID, req{cookie: laptop, header: map[string]string{csrfHeader: csrf}}, 404},
	} {
		if r := e.do("DELETE", c.path, c.q); r.status != c.want {
			t.Errorf("%s: DELETE = %s, want %d", c.name, r, c.want)
		}
	}
	if r := e.do("GET", "/api/session", req{cookie: phone}); r.status != 401 {
		t.Fatalf("revoked session = %s", r)
	}
	if r := e.do("GET", "/api/session", req{cookie: laptop}); r.status != 200 {
		t.Fatalf("the session that revoked the other = %s", r)
	}
	if r := e.do("GET", "/api/session", req{cookie: bobs}); r.status != 200 {
		t.Fatalf("bob's session = %s", r)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	here, csrf := e.login(e.alice)
	other, _ := e.login(e.alice)
	change := func(current, next string) *response {
		return e.do("POST", "/api/password", req{cookie: here, header: map[string]string{csrfHeader: csrf},
			form: form("current_password", current, "new_password", next)})
	}
	for _, c := range []struct {
		name          string
		current, next string
		want          int
		msg           string
	}{
		{"wrong current", "nope", "a new password", 403, "the current password is wrong"},
		{"too short", e.alice.password, "short", 400, "password is too short (min 8 characters)"},
		{"missing", e.alice.password, "", 400, "parameter new_password must have 1 to 1024 characters"},
	} {
		r := change(c.current, c.next)
		if r.status != c.want || r.errors(t)[0] != c.msg {
			t.Errorf("%s: %s, want %d %q", c.name, r, c.want, c.msg)
		}
	}
	if r := e.do("POST", "/api/password", req{cookie: here, form: form("current_password", e.alice.password, "new_password", "x")}); r.status != 403 {
		t.Fatalf("without CSRF = %s", r)
	}
	if r := change(e.alice.password, "a new password"); r.status != 204 {
		t.Fatalf("change = %s", r)
	}
	if r := e.do("GET", "/api/session", req{cookie: other}); r.status != 401 {
		t.Fatalf("other session after the change = %s", r)
	}
	if r := e.do("GET", "/api/session", req{cookie: here}); r.status != 200 {
		t.Fatalf("this session after the change = %s", r)
	}
	if r := e.do("GET", "/v2/me", req{token: e.alice.token}); r.status != 200 {
		t.Fatalf("API token after the change = %s", r)
	}
	if r := e.do("POST", "/api/login", req{form: form("login", "alice", "password", e.alice.password)}); r.status != 401 {
		t.Fatalf("login with the old password = %s", r)
	}
	if r := e.do("POST", "/api/login", req{form: form("login", "alice", "password", "a new password")}); r.status != 200 {
		t.Fatalf("login with the new password = %s", r)
	}
}

// TestLoginBackoff: failed logins back one login name off whatever the
// address, the same way for an account that exists and one that does not;
// the delay grows, is capped, and a success clears it.
func TestLoginBackoff(t *testing.T) {
	clk := newTestClock()
	e := newEnv(t, Config{RateLimit: -1, Now: clk.Now})
	try := func(login, pw string) *response {
		return e.do("POST", "/api/login", req{form: form("login", login, "password", pw)})
	}
	for _, login := range []string{"alice", "zed"} { // zed has no account
		for i := range backoffFree {
			if r := try(login, "wrong"); r.status != 401 {
				t.Fatalf("%s: failure %d = %s, want 401", login, i+1, r)
			}
		}
	}
	// The sixth failure backs off for a second, the seventh for two.
	var answers [2]*response
	for i, login := range []string{"alice", "zed"} {
		if r := try(login, "wrong"); r.status != 401 {
			t.Fatalf("%s: sixth failure = %s", login, r)
		}
		answers[i] = try(login, "wrong")
		if answers[i].status != 429 || answers[i].header.Get("Retry-After") != "1" {
			t.Fatalf("%s: while backed off = %s %v, want 429 with Retry-After: 1", login, answers[i], answers[i].header)
		}
	}
	if !bytes.Equal(answers[0].body, answers[1].body) {
		t.Fatalf("backed-off answers differ: %s vs %s: they tell accounts that exist from ones that do not", answers[0].body, answers[1].body)
	}
	if r := try("ALICE", e.alice.password); r.status != 429 {
		t.Fatalf("another case of the same name = %s, want 429", r)
	}
	if r := try("bob", e.bob.password); r.status != 200 {
		t.Fatalf("another account = %s: the backoff is per account", r)
	}
	clk.advance(time.Second)
	if r := try("alice", "wrong"); r.status != 401 {
		t.Fatalf("after the delay = %s", r)
	}
	if r := try("alice", e.alice.password); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("after the seventh failure = %s %v, want 429, Retry-After 2 even with the right password", r, r.header)
	}
	// The delay is capped, however many failures.
	for range 30 {
		clk.advance(backoffMax)
		try("zed", "wrong")
	}
	if r := try("zed", "wrong"); r.status != 429 || r.header.Get("Retry-After") != fmt.Sprint(int(backoffMax.Seconds())) {
		t.Fatalf("after 36 failures = %s %v, want Retry-After %v", r, r.header, backoffMax.Seconds())
	}
	clk.advance(backoffMax)
	if r := try("alice", e.alice.password); r.status != 200 {
		t.Fatalf("login after the delay = %s", r)
	}
	for i := range backoffFree {
		if r := try("alice", "wrong"); r.status != 401 {
			t.Fatalf("after a success, failure %d = %s: the success did not clear the count", i+1, r)
		}
	}
}

func TestInputRulesAndShortErrors(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, Config{Logger: log, RateLimit: -1})
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	tp := fmt.Sprintf("/v2/rooms/%d/tasks", e.room.Alias)
	postRaw := func(path, body string) *response {
		return e.do("POST", path, req{token: e.alice.token, json: body})
	}
	for _, c := range []struct {
		name string
		r    *response
		msg  string
	}{
		{"NUL in a message", postRaw(mp, `{"body": "a\u0000b"}`), "parameter body contains a NUL character"},
		{"NUL in a task", postRaw(tp, fmt.Sprintf(`{"body": "a\u0000b", "to_ids": "%d"}`, e.bob.Alias)), "parameter body contains a NUL character"},
		{"NUL in a room name", e.do("POST", "/v2/rooms", req{token: e.alice.token, form: form("name", "a\x00", "members_admin_ids", fmt.Sprint(e.alice.Alias))}), "parameter name contains a NUL character"},
		{"invalid UTF-8", e.do("POST", mp, req{token: e.alice.token, form: form("body", "a\xffb")}), "parameter body is not valid UTF-8"},
		{"too many bytes", e.do("POST", mp, req{token: e.alice.token, form: form("body", strings.Repeat("x", 32769))}), "body is too long (max 32768 bytes)"},
		{"too many bytes in a task", e.do("POST", tp, req{token: e.alice.token, form: form("body", strings.Repeat("あ", 11000), "to_ids", fmt.Sprint(e.bob.Alias))}), "body is too long (max 32768 bytes)"},
		{"a rule", e.do("POST", fmt.Sprintf("/v2/rooms/%d/link", e.room.Alias), req{token: e.bob.token}), "only a room admin may manage its invitation link"},
	} {
		if c.r.status != 400 && !(c.name == "a rule" && c.r.status == 403) {
			t.Errorf("%s: %s, want 400", c.name, c.r)
			continue
		}
		if got := c.r.errors(t); len(got) != 1 || got[0] != c.msg {
			t.Errorf("%s: errors %q, want [%q]", c.name, got, c.msg)
		}
		id := c.r.header.Get(requestIDHeader)
		if len(id) != 24 {
			t.Errorf("%s: X-Request-Id %q", c.name, id)
		}
		mu.Lock()
		logged := logs.String()
		mu.Unlock()
		if !strings.Contains(logged, "request_id="+id) {
			t.Errorf("%s: request %s not in the log:\n%s", c.name, id, logged)
		}
	}
	mu.Lock()
	logged := logs.String()
	mu.Unlock()
	// The log has the whole chain that the client did not get.
	if !strings.Contains(logged, `err="post: invalid request: body is too long (max 32768 bytes)"`) {
		t.Errorf("log lacks the whole error:\n%s", logged)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct {
		name, in string
		kept     bool
	}{
		{"from a proxy", "3f2a9c1e-6b7d-4e0f-9a8b-1c2d3e4f5a6b", true},
		{"with a space", "a b", false},
		{"too long", strings.Repeat("a", 129), false},
		{"none", "", false},
	} {
		h := map[string]string{}
		if c.in != "" {
			h[requestIDHeader] = c.in
		}
		r := e.do("GET", "/v2/me", req{token: e.alice.token, header: h})
		got := r.header.Get(requestIDHeader)
		if (got == c.in) != c.kept || got == "" {
			t.Errorf("%s: X-Request-Id %q → %q", c.name, c.in, got)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestBackoffCountsAttemptsUnderWay: attempts count as they start, so many
// made at once (whose passwords are still being checked) cannot slip past
// the count.
func TestBackoffCountsAttemptsUnderWay(t *testing.T) {
	clk := newTestClock()
	b := newBackoff(clk.Now)
	let := 0
	for range 50 {
		if b.attempt("alice") == 0 {
			let++
		}
	}
	if let != backoffFree+1 {
		t.Fatalf("%d of 50 simultaneous attempts let through, want %d", let, backoffFree+1)
	}
	b.reset("alice")
	if b.attempt("alice") != 0 {
		t.Fatal("refused after a reset")
	}
}

// TestBackoffForgivesBusyAttempts: an attempt that ended before its
// password was checked (ErrBusy, a login rush) does not count, however
// many there are; failed checks still do.
func TestBackoffForgivesBusyAttempts(t *testing.T) {
	clk := newTestClock()
	b := newBackoff(clk.Now)
	for i := range 3 * backoffFree {
		if d := b.attempt("alice"); d != 0 {
			t.Fatalf("busy attempt %d refused for %v", i, d)
		}
		b.forgive("alice")
	}
	for range backoffFree + 1 {
		b.attempt("alice") // real failures
	}
	if b.attempt("alice") == 0 {
		t.Fatal("not backed off after more than backoffFree real failures")
	}
}
