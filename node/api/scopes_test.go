package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// scopedToken makes a token for u with spec and returns it.
func (e *env) scopedToken(u *user, spec node.TokenSpec) string {
	e.t.Helper()
	info, err := e.node.CreateScopedToken(e.t.Context(), u.Handle, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.Token
}

// refusedForScope reports whether r is the 403 of a missing scope, in
// ChatWork's error shape, naming scope.
func refusedForScope(t *testing.T, r *response, scope string) bool {
	t.Helper()
	if r.status != http.StatusForbidden {
		return false
	}
	msgs := r.errors(t)
	return strings.Contains(msgs[0], scope) &&
		strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
}

// denyingScope returns a scope that does not cover need, the nearest one
// there is: the read scope of a write route and the other way round.
func denyingScope(need string) string {
	swap := strings.NewReplacer(":read", ":write", ":write", ":read")
	if s := swap.Replace(need); node.ValidScope(s) && s != need {
		return s
	}
	if strings.HasPrefix(need, "users.") {
		for _, s := range []string{node.ScopeProfile, node.ScopeStatus} {
			if s != need {
				return s
			}
		}
	}
	return node.ScopeProfile // rooms:write
}

// broadScope returns the broadest scope that covers need.
func broadScope(need string) string {
	switch {
	case strings.HasPrefix(need, "users."):
		return node.ScopeUsersAll
	case strings.HasPrefix(need, "contacts."):
		return node.ScopeContactsAll
	}
	return node.ScopeRoomsAll
}

// TestScopeMatrix makes every /v2 route with a token of its own scope, of
// a broad scope that includes it, and of a near scope that does not: the
// first two get past the scope check (whatever the handler answers), the
// last gets 403 and changes nothing.
func TestScopeMatrix(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	ctx := t.Context()
	m := e.post(e.alice, e.room, "hello")
	task, err := e.node.CreateTask(ctx, e.alice.Handle, e.room.ID, node.NewTask{Body: "do it", Assignees: []protocol.AccountID{e.alice.ID}})
	if err != nil {
		t.Fatal(err)
	}
	path := strings.NewReplacer("{room_id}", fmt.Sprint(e.room.Alias), "{message_id}", fmt.Sprint(m.Alias),
		"{task_id}", fmt.Sprint(task.Alias), "{file_id}", "999", "{request_id}", "999")
	routes := make([]string, 0, len(routeScopes))
	for r := range routeScopes {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	// Leaving the room last, so the other room routes find alice in it.
	routes = slices.DeleteFunc(routes, func(r string) bool { return r == "DELETE /v2/rooms/{room_id}" })
	routes = append(routes, "DELETE /v2/rooms/{room_id}")
	for _, route := range routes {
		need := routeScopes[route]
		method, p, _ := strings.Cut(route, " ")
		p = path.Replace(p)
		body := form("body", "scoped", "name", "Scoped", "members_admin_ids", fmt.Sprint(e.alice.Alias),
			"to_ids", fmt.Sprint(e.alice.Alias), "status", "done")
		t.Run(route, func(t *testing.T) {
			deny := denyingScope(need)
			if node.ScopeCovers(deny, need) {
				t.Fatalf("test bug: %s covers %s", deny, need)
			}
			before := len(must(e.node.Messages(ctx, e.alice.Handle, e.room.ID, node.Page{Limit: 100})))
			r := e.do(method, p, req{token: e.scopedToken(e.alice, node.TokenSpec{Scopes: []string{deny}}), form: body})
			if !refusedForScope(t, r, need) {
				t.Errorf("with scope %s: %s, want 403 naming %s", deny, r, need)
			}
			if after := len(must(e.node.Messages(ctx, e.alice.Handle, e.room.ID, node.Page{Limit: 100}))); after != before {
				t.Errorf("a refused request changed the room: %d messages, then %d", before, after)
			}
			for _, allow := range []string{need, broadScope(need)} {
				r := e.do(method, p, req{token: e.scopedToken(e.alice, node.TokenSpec{Scopes: []string{allow}}), form: body})
				if r.status == http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "" ||
					(r.status == http.StatusForbidden && strings.Contains(string(r.body), "scope")) {
					t.Errorf("with scope %s: %s, want past the scope check", allow, r)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestScopeMatrixAnswers checks that a token with the scope a route
// needs gets the same answer as a token with full access, on routes that
// only read.
func TestScopeMatrixAnswers(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	m := e.post(e.alice, e.room, "hello")
	path := strings.NewReplacer("{room_id}", fmt.Sprint(e.room.Alias), "{message_id}", fmt.Sprint(m.Alias))
	for route, need := range routeScopes {
		method, p, _ := strings.Cut(route, " ")
		if method != "GET" || strings.Contains(p, "{task_id}") || strings.Contains(p, "{file_id}") {
			continue
		}
		p = path.Replace(p)
		full := e.do(method, p, req{token: e.alice.token})
		scoped := e.do(method, p, req{token: e.scopedToken(e.alice, node.TokenSpec{Scopes: []string{need}})})
		if full.status != scoped.status || string(full.body) != string(scoped.body) {
			t.Errorf("%s: full access %s, scope %s %s", route, full, need, scoped)
		}
	}
}

// TestEveryRouteHasAScope checks that routeScopes names exactly the
// registered /v2 routes and that a /v2 route without a scope cannot be
// registered.
func TestEveryRouteHasAScope(t *testing.T) {
	e := newEnv(t, Config{})
	for route := range routeScopes {
		method, p, _ := strings.Cut(route, " ")
		r := httptest.NewRequest(method, strings.NewReplacer("{room_id}", "1", "{message_id}", "2", "{task_id}", "3",
			"{file_id}", "4", "{request_id}", "5").Replace(p), nil)
		if _, pattern := e.api.mux.Handler(r); pattern != route {
			t.Errorf("routeScopes has %q, which is not a route (the request is routed to %q)", route, pattern)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a /v2 route without a scope was registered")
		}
	}()
	e.api.handle("GET /v2/unscoped", func(http.ResponseWriter, *http.Request, *caller) error { return nil })
}

// TestScopesMatchRAML checks each route's scope against ChatWork's spec:
// the scopes the spec accepts for a route are exactly the route's scope
// and the broad scopes that include it.
func TestScopesMatchRAML(t *testing.T) {
	seen := 0
	for _, m := range readRAML(t, "testdata/chatwork-api-ja.raml") {
		need, ok := routeScopes[m.method+" /v2"+m.path]
		if !ok {
			t.Errorf("%s: no scope", m)
			continue
		}
		seen++
		var covering []string
		for _, s := range node.Scopes() {
			if node.ScopeCovers(s, need) {
				covering = append(covering, s)
			}
		}
		slices.Sort(covering)
		spec := slices.Sorted(slices.Values(m.scopes))
		if !slices.Equal(covering, spec) {
			t.Errorf("%s: scopes %v cover %s, the spec accepts %v", m, covering, need, spec)
		}
	}
	if seen < 30 {
		t.Fatalf("read %d routes with scopes from the spec", seen)
	}
}

// TestScopedTokenRooms limits a token to one room: others are refused,
// GET /v2/rooms and /v2/my/tasks show only that room, and it cannot
// create rooms.
func TestScopedTokenRooms(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	ctx := t.Context()
	other := e.newRoom(e.alice, "Other", e.bob)
	for _, r := range []*node.Room{e.room, other} {
		if _, err := e.node.CreateTask(ctx, e.alice.Handle, r.ID, node.NewTask{Body: "task in " + r.Name, Assignees: []protocol.AccountID{e.alice.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	tok := e.scopedToken(e.alice, node.TokenSpec{Scopes: []string{node.ScopeRoomsAll, node.ScopeUsersAll}, Rooms: []uint64{e.room.Alias}})

	var rooms []struct {
		RoomID uint64 `json:"room_id"`
	}
	e.do("GET", "/v2/rooms", req{token: tok}).decode(t, &rooms)
	if len(rooms) != 1 || rooms[0].RoomID != e.room.Alias {
		t.Errorf("GET /v2/rooms = %v, want only room %d", rooms, e.room.Alias)
	}
	var full []json.RawMessage
	e.do("GET", "/v2/rooms", req{token: e.alice.token}).decode(t, &full)
	if len(full) < 2 {
		t.Fatalf("alice's full-access token sees %d rooms", len(full))
	}
	var tasks []struct {
		Room struct {
			RoomID uint64 `json:"room_id"`
		} `json:"room"`
	}
	e.do("GET", "/v2/my/tasks", req{token: tok}).decode(t, &tasks)
	if len(tasks) != 1 || tasks[0].Room.RoomID != e.room.Alias {
		t.Errorf("GET /v2/my/tasks = %+v, want the task of room %d only", tasks, e.room.Alias)
	}
	if r := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: tok, form: form("body", "in")}); r.status != 200 {
		t.Errorf("post in the allowed room = %s", r)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/v2/rooms/%d", other.Alias)},
		{"GET", fmt.Sprintf("/v2/rooms/%d/messages", other.Alias)},
		{"POST", fmt.Sprintf("/v2/rooms/%d/messages", other.Alias)},
		{"DELETE", fmt.Sprintf("/v2/rooms/%d", other.Alias)},
		{"POST", "/v2/rooms"},
	} {
		r := e.do(c.method, c.path, req{token: tok, form: form("body", "out", "name", "New", "members_admin_ids", fmt.Sprint(e.alice.Alias))})
		if r.status != http.StatusForbidden {
			t.Errorf("%s %s = %s, want 403", c.method, c.path, r)
			continue
		}
		r.errors(t)
	}
	if ms := must(e.node.Messages(ctx, e.alice.Handle, other.ID, node.Page{Limit: 100})); slices.ContainsFunc(ms, func(m *node.Message) bool { return m.Body == "out" }) {
		t.Error("a refused post reached the other room")
	}
	if r := e.do("GET", "/v2/me", req{token: tok}); r.status != 200 {
		t.Errorf("GET /v2/me with a room-limited token = %s", r)
	}
}

// TestScopedTokenExpiry: a token with a lifetime works until then, and
// after it answers 401 and is gone from its owner's list.
func TestScopedTokenExpiry(t *testing.T) {
	clk := newTestClock()
	e := newEnvWith(t, node.Config{Now: clk.Now}, Config{RateLimit: -1, Now: clk.Now})
	tok := e.scopedToken(e.alice, node.TokenSpec{Name: "short", Scopes: []string{node.ScopeProfile}, TTL: 30 * 24 * time.Hour})
	if r := e.do("GET", "/v2/me", req{token: tok}); r.status != 200 {
		t.Fatalf("fresh token: %s", r)
	}
	clk.advance(30*24*time.Hour - time.Minute)
	if r := e.do("GET", "/v2/me", req{token: tok}); r.status != 200 {
		t.Fatalf("token a minute before it expires: %s", r)
	}
	clk.advance(time.Minute)
	r := e.do("GET", "/v2/me", req{token: tok})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("expired token: %s, want 401", r)
	}
	r.errors(t)
	if ts := must(e.node.APITokens(t.Context(), e.alice.Handle)); slices.ContainsFunc(ts, func(x *node.TokenInfo) bool { return x.Name == "short" }) {
		t.Error("the expired token is still listed")
	}
	if r := e.do("GET", "/v2/me", req{token: e.alice.token}); r.status != 200 {
		t.Errorf("alice's token without expiry, later: %s", r)
	}
}

// TestScopedTokenNoOwnAPI: a token with scopes cannot use Horenso's /api
// routes (the live stream, sessions, tokens); a token without keeps them.
func TestScopedTokenNoOwnAPI(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	tok := e.scopedToken(e.alice, node.TokenSpec{Scopes: []string{node.ScopeRoomsAll, node.ScopeUsersAll, node.ScopeContactsAll}})
	for _, p := range []string{"/api/tokens", "/api/sessions", "/api/session", "/api/people"} {
		if r := e.do("GET", p, req{token: tok}); r.status != http.StatusForbidden {
			t.Errorf("GET %s with a scoped token = %s, want 403", p, r)
		}
		if r := e.do("GET", p, req{token: e.alice.token}); r.status != http.StatusOK {
			t.Errorf("GET %s with a full-access token = %s", p, r)
		}
	}
	if r := e.do("POST", "/api/tokens", req{token: tok, form: form("name", "escalate")}); r.status != http.StatusForbidden {
		t.Errorf("a scoped token made a token: %s", r)
	}
}

// TestTokensAPI is the web app's token settings: create with scopes,
// rooms and a lifetime, shown once, listed without the token, usable,
// revoked.
func TestTokensAPI(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	cookie, csrf := e.login(e.alice)
	h := map[string]string{csrfHeader: csrf}
	r := e.do("POST", "/api/tokens", req{cookie: cookie, header: h,
		json: fmt.Sprintf(`{"name":"reader","scopes":["rooms.messages:read","offline_access"],"rooms":[%d],"expires_in_days":30}`, e.room.Alias)})
	if r.status != http.StatusCreated {
		t.Fatalf("create = %s", r)
	}
	var made tokenView
	r.decode(t, &made)
	if made.Token == "" || made.ID == "" || !slices.Equal(made.Scopes, []string{"rooms.messages:read"}) ||
		!slices.Equal(made.Rooms, []uint64{e.room.Alias}) || made.Expires-made.Created != 30*24*3600 {
		t.Fatalf("created %+v", made)
	}
	if r := e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages?force=1", e.room.Alias), req{token: made.Token}); r.status != 200 && r.status != 204 {
		t.Errorf("read with the new token: %s", r)
	}
	if r := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: made.Token, form: form("body", "x")}); r.status != 403 {
		t.Errorf("post with a read-only token: %s", r)
	}
	var list tokensJSON
	e.do("GET", "/api/tokens", req{cookie: cookie}).decode(t, &list)
	i := slices.IndexFunc(list.Tokens, func(v tokenView) bool { return v.ID == made.ID })
	if i < 0 || list.Tokens[i].Token != "" || list.Tokens[i].Name != "reader" || list.Tokens[i].LastUsed == 0 {
		t.Fatalf("list = %+v, want %s without its token and with its last use", list.Tokens, made.ID)
	}
	if !slices.Contains(list.Scopes, node.ScopeRoomsAll) {
		t.Errorf("scopes offered: %v", list.Scopes)
	}
	for _, bad := range []string{`{"scopes":["rooms.everything"]}`, `{"scopes":["offline_access"]}`,
		fmt.Sprintf(`{"rooms":[%d]}`, e.room.Alias+1000), `{"expires_in_days":100000}`} {
		if r := e.do("POST", "/api/tokens", req{cookie: cookie, header: h, json: bad}); r.status != 400 {
			t.Errorf("create %s = %s, want 400", bad, r)
		}
	}
	if r := e.do("DELETE", "/api/tokens/"+made.ID, req{cookie: cookie}); r.status != 403 {
		t.Errorf("revoke without CSRF token = %s, want 403", r)
	}
	if r := e.do("DELETE", "/api/tokens/"+made.ID, req{token: e.bob.token}); r.status != 404 {
		t.Errorf("bob revoking alice's token = %s, want 404", r)
	}
	if r := e.do("DELETE", "/api/tokens/"+made.ID, req{cookie: cookie, header: h}); r.status != 204 {
		t.Fatalf("revoke = %s", r)
	}
	if r := e.do("GET", "/v2/me", req{token: made.Token}); r.status != 401 {
		t.Errorf("revoked token = %s, want 401", r)
	}
	if r := e.do("GET", "/v2/me", req{cookie: cookie}); r.status != 200 {
		t.Errorf("the session after revoking a token = %s", r)
	}
}
