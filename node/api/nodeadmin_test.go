package api

import (
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// newAdmin adds an admin account to e.
func (e *env) newAdmin(handle string) *user {
	e.t.Helper()
	ctx := e.t.Context()
	pw := handle + "-password"
	a, err := e.node.CreateAccount(ctx, node.NewAccount{Handle: protocol.Handle(handle), Name: "Admin " + handle, Password: pw, Admin: true})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.node.CreateToken(ctx, a.Handle, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return &user{Account: a, token: tok, password: pw}
}

func TestAdminAPIRefusesNonAdmins(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/admin/status"},
		{"GET", "/api/admin/users"},
		{"POST", "/api/admin/users"},
		{"PUT", "/api/admin/users/bob/disabled"},
		{"DELETE", "/api/admin/users/bob/disabled"},
		{"POST", "/api/admin/users/bob/password"},
		{"GET", "/api/admin/partners"},
		{"POST", "/api/admin/partners"},
		{"DELETE", "/api/admin/partners/12D3KooWxyz"},
		{"GET", "/api/admin/users/bob/tokens"},
		{"POST", "/api/admin/users/bob/tokens"},
		{"DELETE", "/api/admin/users/bob/tokens/abc"},
		{"GET", "/api/admin/users/bob/webhooks"},
		{"POST", "/api/admin/users/bob/webhooks"},
		{"DELETE", "/api/admin/users/bob/webhooks/1"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.do(tc.method, tc.path, req{token: e.alice.token, form: form("handle", "mallory", "addr", "/ip4/1.2.3.4/tcp/1")})
			if r.status != 403 {
				t.Fatalf("= %s, want 403", r)
			}
			r.errors(t)
		})
	}
	if r := e.do("POST", "/api/login", req{form: form("login", "mallory", "password", "x")}); r.status != 401 {
		t.Fatalf("a non-admin's request created an account: login = %s", r)
	}
}

func TestAdminUsers(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	root := e.newAdmin("root")

	// Add with a password given, and without: the node makes one.
	r := e.do("POST", "/api/admin/users", req{token: root.token, form: form("handle", "dave", "name", "Dave Ito",
		"email", "dave@acme.example", "password", "dave-secret-1")})
	if r.status != 201 {
		t.Fatalf("add dave = %s", r)
	}
	var dave userJSON
	r.decode(t, &dave)
	if dave.Handle != "dave" || dave.Name != "Dave Ito" || dave.Password != "" || dave.AccountID == 0 {
		t.Fatalf("dave = %+v", dave)
	}
	var erin userJSON
	e.do("POST", "/api/admin/users", req{token: root.token, form: form("handle", "erin")}).decode(t, &erin)
	if len(erin.Password) < node.MinPasswordLen {
		t.Fatalf("erin = %+v, want a generated password", erin)
	}
	login := func(h, pw string) int {
		return e.do("POST", "/api/login", req{form: form("login", h, "password", pw)}).status
	}
	if s := login("dave", "dave-secret-1"); s != 200 {
		t.Fatalf("dave's login = %d", s)
	}
	if s := login("erin", erin.Password); s != 200 {
		t.Fatalf("erin's login with the generated password = %d", s)
	}
	for _, tc := range []struct {
		name   string
		form   []string
		status int
	}{
		{"taken", []string{"handle", "dave"}, 409},
		{"bad handle", []string{"handle", "Not A Handle"}, 400},
		{"no handle", nil, 400},
		{"short password", []string{"handle", "frank", "password", "short"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/admin/users", req{token: root.token, form: form(tc.form...)})
			if r.status != tc.status {
				t.Fatalf("= %s, want %d", r, tc.status)
			}
			r.errors(t)
		})
	}

	// Listed.
	var users []userJSON
	e.do("GET", "/api/admin/users", req{token: root.token}).decode(t, &users)
	var handles []string
	for _, u := range users {
		handles = append(handles, u.Handle)
	}
	if got := strings.Join(handles, ","); got != "alice,bob,carol,dave,erin,root" {
		t.Fatalf("users = %s", got)
	}

	// Disabled, dave cannot log in, and his session ends; enabled, he can.
	cookie, _ := e.login(&user{Account: &node.Account{Handle: "dave"}, password: "dave-secret-1"})
	if r := e.do("PUT", "/api/admin/users/dave/disabled", req{token: root.token}); r.status != 200 || !strings.Contains(string(r.body), `"disabled":true`) {
		t.Fatalf("disable = %s", r)
	}
	if s := login("dave", "dave-secret-1"); s != 401 {
		t.Fatalf("disabled dave's login = %d, want 401", s)
	}
	if r := e.do("GET", "/api/session", req{cookie: cookie}); r.status != 401 {
		t.Fatalf("disabled dave's session = %s, want 401", r)
	}
	if r := e.do("DELETE", "/api/admin/users/dave/disabled", req{token: root.token}); r.status != 200 || !strings.Contains(string(r.body), `"disabled":false`) {
		t.Fatalf("enable = %s", r)
	}
	if s := login("dave", "dave-secret-1"); s != 200 {
		t.Fatalf("re-enabled dave's login = %d", s)
	}
	if r := e.do("PUT", "/api/admin/users/root/disabled", req{token: root.token}); r.status != 400 {
		t.Fatalf("disable oneself = %s, want 400", r)
	}
	if r := e.do("PUT", "/api/admin/users/nobody/disabled", req{token: root.token}); r.status != 404 {
		t.Fatalf("disable an unknown account = %s, want 404", r)
	} else {
		r.errors(t)
	}

	// A reset password replaces the old one.
	var reset userJSON
	e.do("POST", "/api/admin/users/dave/password", req{token: root.token}).decode(t, &reset)
	if reset.Password == "" || reset.Password == "dave-secret-1" {
		t.Fatalf("reset = %+v", reset)
	}
	if s := login("dave", "dave-secret-1"); s != 401 {
		t.Fatalf("login with the old password after a reset = %d", s)
	}
	if s := login("dave", reset.Password); s != 200 {
		t.Fatalf("login with the reset password = %d", s)
	}
}

func TestAdminTokensOfAnotherAccount(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	root := e.newAdmin("root")
	r := e.do("POST", "/api/admin/users/bob/tokens", req{token: root.token, form: form("name", "bob's bot")})
	if r.status != 201 {
		t.Fatalf("create = %s", r)
	}
	var tok tokenView
	r.decode(t, &tok)
	var me meJSON
	e.do("GET", "/v2/me", req{token: tok.Token}).decode(t, &me)
	if me.ChatworkID != "bob" {
		t.Fatalf("the new token is %q's, want bob's", me.ChatworkID)
	}
	var list tokensJSON
	e.do("GET", "/api/admin/users/bob/tokens", req{token: root.token}).decode(t, &list)
	found := false
	for _, x := range list.Tokens {
		found = found || x.ID == tok.ID
	}
	if !found || len(list.Tokens) < 2 {
		t.Fatalf("bob's tokens = %+v", list.Tokens)
	}
	if r := e.do("DELETE", "/api/admin/users/bob/tokens/"+tok.ID, req{token: root.token}); r.status != 204 {
		t.Fatalf("revoke = %s", r)
	}
	if r := e.do("GET", "/v2/me", req{token: tok.Token}); r.status != 401 {
		t.Fatalf("revoked token = %s", r)
	}
	if r := e.do("GET", "/api/admin/users/nobody/tokens", req{token: root.token}); r.status != 404 {
		t.Fatalf("tokens of an unknown account = %s", r)
	}
	var hooks []map[string]any
	if r := e.do("GET", "/api/admin/users/bob/webhooks", req{token: root.token}); r.status != 200 {
		t.Fatalf("bob's webhooks = %s", r)
	} else {
		r.decode(t, &hooks)
	}
}

func TestAdminPartnersAndStatus(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	root := e.newAdmin("root")
	other := newEnv(t, Config{RateLimit: -1})
	var st adminStatusJSON
	other.do("GET", "/api/admin/status", req{token: other.newAdmin("root").token}).decode(t, &st)
	if st.NodeID == "" || st.Addrs == nil || st.StoreBytes <= 0 || st.Version == "" || st.Accounts != 4 || st.Role != "primary" {
		t.Fatalf("status = %+v", st)
	}
	// The node is not running (no listener): an address it would have.
	addr := "/ip4/127.0.0.1/tcp/4001/p2p/" + st.NodeID
	r := e.do("POST", "/api/admin/partners", req{token: root.token, form: form("addr", addr)})
	if r.status != 201 {
		t.Fatalf("add partner = %s", r)
	}
	var ps []adminPartnerJSON
	e.do("GET", "/api/admin/partners", req{token: root.token}).decode(t, &ps)
	if len(ps) != 1 || ps[0].NodeID != st.NodeID || len(ps[0].Addrs) != 1 {
		t.Fatalf("partners = %+v", ps)
	}
	if r := e.do("POST", "/api/admin/partners", req{token: root.token, form: form("addr", "/ip4/127.0.0.1/tcp/1")}); r.status != 400 {
		t.Fatalf("address without a node ID = %s, want 400", r)
	} else {
		r.errors(t)
	}
	if r := e.do("DELETE", "/api/admin/partners/"+st.NodeID, req{token: root.token}); r.status != 204 {
		t.Fatalf("remove = %s", r)
	}
	e.do("GET", "/api/admin/partners", req{token: root.token}).decode(t, &ps)
	if len(ps) != 0 {
		t.Fatalf("partners after removal = %+v", ps)
	}
	if r := e.do("DELETE", "/api/admin/partners/"+st.NodeID, req{token: root.token}); r.status != 404 {
		t.Fatalf("remove again = %s, want 404", r)
	}
}
