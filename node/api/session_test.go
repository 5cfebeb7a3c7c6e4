package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// login logs u in and returns the session cookie and CSRF token.
func (e *env) login(u *user) (*http.Cookie, string) {
	e.t.Helper()
	r := e.do("POST", "/api/login", req{form: form("login", string(u.Handle), "password", u.password)})
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
	e.t.Fatalf("login set no %s cookie: %v", sessionCookie, r.header)
	return nil, ""
}

func TestLogin(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct {
		name string
		q    req
		want int
	}{
		{"handle", req{form: form("login", "alice", "password", "alice-password")}, 200},
		{"email", req{form: form("login", "alice@acme.example", "password", "alice-password")}, 200},
		{"JSON", req{json: `{"login": "alice", "password": "alice-password"}`}, 200},
		{"wrong password", req{form: form("login", "alice", "password", "nope")}, 401},
		{"unknown account", req{form: form("login", "zed", "password", "whatever")}, 401},
		{"no password", req{form: form("login", "alice")}, 400},
		{"no login", req{form: form("password", "x")}, 400},
		{"another site's page", req{form: form("login", "alice", "password", "alice-password"), header: map[string]string{"Origin": "https://evil.example"}}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/login", c.q)
			if r.status != c.want {
				t.Fatalf("login = %s, want %d", r, c.want)
			}
			if c.want != 200 {
				r.errors(t)
				return
			}
			var s sessionJSON
			r.decode(t, &s)
			if s.AccountID != e.alice.Alias || s.Name != "Alice Sato" || s.CSRFToken == "" {
				t.Fatalf("login = %s", r)
			}
			sc := r.header.Get("Set-Cookie")
			for _, attr := range []string{sessionCookie + "=", "Path=/", "HttpOnly", "SameSite=Strict"} {
				if !strings.Contains(sc, attr) {
					t.Errorf("Set-Cookie %q lacks %s", sc, attr)
				}
			}
			if strings.Contains(sc, "Secure") {
				t.Errorf("Set-Cookie %q is Secure on plain HTTP", sc)
			}
		})
	}
}

func TestLoginOverTLSSetsSecureCookie(t *testing.T) {
	e := newEnv(t, Config{})
	srv := httptest.NewTLSServer(e.api)
	defer srv.Close()
	r, _ := http.NewRequest("POST", srv.URL+"/api/login", strings.NewReader("login=bob&password=bob-password"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); resp.StatusCode != 200 || !strings.Contains(sc, "Secure") {
		t.Fatalf("login over TLS = %d, Set-Cookie %q", resp.StatusCode, sc)
	}
}

func TestSessionCookieAndCSRF(t *testing.T) {
	e := newEnv(t, Config{})
	cookie, csrf := e.login(e.alice)
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	for _, c := range []struct {
		name   string
		method string
		path   string
		q      req
		want   int
	}{
		{"session", "GET", "/api/session", req{cookie: cookie}, 200},
		{"no session", "GET", "/api/session", req{}, 401},
		{"v2 GET by cookie", "GET", "/v2/me", req{cookie: cookie}, 200},
		{"POST by cookie without CSRF", "POST", mp, req{cookie: cookie, form: form("body", "x")}, 403},
		{"POST by cookie with wrong CSRF", "POST", mp, req{cookie: cookie, form: form("body", "x"), header: map[string]string{csrfHeader: csrf + "x"}}, 403},
		{"POST by cookie with another session's CSRF", "POST", mp, req{cookie: cookie, form: form("body", "x"), header: map[string]string{csrfHeader: e.node.CSRFToken(e.bob.token)}}, 403},
		{"POST by cookie with CSRF", "POST", mp, req{cookie: cookie, form: form("body", "x"), header: map[string]string{csrfHeader: csrf}}, 200},
		{"DELETE by cookie without CSRF", "DELETE", fmt.Sprintf("/v2/rooms/%d/link", e.room.Alias), req{cookie: cookie}, 403},
		{"POST by token needs no CSRF", "POST", mp, req{token: e.alice.token, cookie: cookie, form: form("body", "x")}, 200},
		{"logout without CSRF", "POST", "/api/logout", req{cookie: cookie}, 403},
		{"logout", "POST", "/api/logout", req{cookie: cookie, header: map[string]string{csrfHeader: csrf}}, 204},
		{"session after logout", "GET", "/api/session", req{cookie: cookie}, 401},
		{"v2 after logout", "GET", "/v2/me", req{cookie: cookie}, 401},
		{"the API token still works", "GET", "/v2/me", req{token: e.alice.token}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.q)
			if r.status != c.want {
				t.Fatalf("%s %s = %s, want %d", c.method, c.path, r, c.want)
			}
			if c.want >= 400 {
				r.errors(t)
			}
			if c.path == "/api/session" && c.want == 200 {
				var s sessionJSON
				r.decode(t, &s)
				if s.AccountID != e.alice.Alias || s.CSRFToken != csrf {
					t.Fatalf("session = %s", r)
				}
			}
			if c.name == "logout" && !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
				t.Fatalf("logout did not clear the cookie: %v", r.header)
			}
		})
	}
}

func TestLoginAgainRevokesOldSession(t *testing.T) {
	e := newEnv(t, Config{})
	old, _ := e.login(e.bob)
	r := e.do("POST", "/api/login", req{cookie: old, form: form("login", "bob", "password", "bob-password")})
	if r.status != 200 {
		t.Fatalf("second login = %s", r)
	}
	if r := e.do("GET", "/api/session", req{cookie: old}); r.status != 401 {
		t.Fatalf("old session = %s, want 401", r)
	}
}

func TestDisabledAccountSessionStops(t *testing.T) {
	e := newEnv(t, Config{})
	cookie, _ := e.login(e.bob)
	if err := e.node.SetDisabled(t.Context(), e.bob.Handle, true); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/session", req{cookie: cookie}); r.status != 401 {
		t.Fatalf("session of disabled account = %s", r)
	}
	if r := e.do("POST", "/api/login", req{form: form("login", "bob", "password", "bob-password")}); r.status != 401 {
		t.Fatalf("login of disabled account = %s", r)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	e := newEnv(t, Config{RateLimit: 3, RateWindow: time.Minute, Now: clock})
	reset := fmt.Sprint(now.Add(time.Minute).Unix())
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "2"}, {200, "1"}, {200, "0"}, {429, "0"}, {429, "0"}} {
		r := e.do("GET", "/v2/me", req{token: e.alice.token})
		h := r.header
		if r.status != want.status || h.Get("x-ratelimit-limit") != "3" || h.Get("x-ratelimit-remaining") != want.remaining ||
			h.Get("x-ratelimit-reset") != reset {
			t.Fatalf("request %d = %s %v, want %d with %s remaining, reset %s", i+1, r, h, want.status, want.remaining, reset)
		}
		if r.status == 429 {
			r.errors(t)
		}
	}
	if r := e.do("GET", "/v2/me", req{token: e.bob.token}); r.status != 200 {
		t.Fatalf("another token = %s: limits are per token", r)
	}
	now = now.Add(time.Minute)
	if r := e.do("GET", "/v2/me", req{token: e.alice.token}); r.status != 200 || r.header.Get("x-ratelimit-remaining") != "2" {
		t.Fatalf("after the window = %s %v", r, r.header)
	}
	// Logins count against the client's address.
	for range 3 {
		e.do("POST", "/api/login", req{form: form("login", "alice", "password", "wrong")})
	}
	if r := e.do("POST", "/api/login", req{form: form("login", "alice", "password", "alice-password")}); r.status != 429 {
		t.Fatalf("fourth login in the window = %s, want 429", r)
	}
}

func TestDefaultRateLimitIsChatWorks(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("GET", "/v2/me", req{token: e.alice.token})
	if r.header.Get("x-ratelimit-limit") != "300" || r.header.Get("x-ratelimit-remaining") != "299" {
		t.Fatalf("headers = %v", r.header)
	}
}
