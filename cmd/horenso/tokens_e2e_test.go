package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestTokensEndToEnd makes a scoped, room-limited, expiring token with
// the CLI, uses it over HTTP against a running node, lists it and
// revokes it.
func TestTokensEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	horenso(t, data, nil, "init", "--org", "Acme")
	p := start(t, data)
	base := httpBase(t, p)
	horenso(t, data, nil, "user", "add", "alice")
	var in, out node.Room
	horenso(t, data, &in, "room", "create", "Ops", "--as", "alice")
	horenso(t, data, &out, "room", "create", "Other", "--as", "alice")
	horenso(t, data, nil, "message", "post", fmt.Sprint(in.Alias), "hello", "--as", "alice")

	var made node.TokenInfo
	horenso(t, data, &made, "token", "create", "alice", "--name", "reader", "--scope", "rooms.messages:read,users.profile.me:read",
		"--rooms", fmt.Sprint(in.Alias), "--expires", "30d")
	if made.Token == "" || made.Expires-made.Created != 30*24*3600*1000 {
		t.Fatalf("token create printed %+v", made)
	}
	call := func(method, path string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader("body=hi"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-ChatWorkToken", made.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v2/me", 200},
		{"GET", fmt.Sprintf("/v2/rooms/%d/messages?force=1", in.Alias), 200},
		{"POST", fmt.Sprintf("/v2/rooms/%d/messages", in.Alias), 403},
		{"GET", fmt.Sprintf("/v2/rooms/%d/messages?force=1", out.Alias), 403},
		{"GET", "/v2/contacts", 403},
	} {
		if got := call(c.method, c.path); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, got, c.want)
		}
	}
	var ts []node.TokenInfo
	horenso(t, data, &ts, "token", "list", "alice")
	if len(ts) != 1 || ts[0].ID != made.ID || ts[0].Token != "" || !slices.Equal(ts[0].Rooms, []uint64{in.Alias}) ||
		len(ts[0].Scopes) != 2 || ts[0].LastUsed == 0 {
		t.Fatalf("token list = %+v", ts)
	}
	horenso(t, data, nil, "token", "revoke", "alice", made.ID)
	if got := call("GET", "/v2/me"); got != 401 {
		t.Errorf("revoked token: %d, want 401", got)
	}
	horenso(t, data, &ts, "token", "list", "alice")
	if len(ts) != 0 {
		t.Errorf("token list after revoke = %+v", ts)
	}
}
