package control

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestScopedTokens creates a token with scopes, a room and a lifetime over
// the socket, lists it without its secret, and revokes it.
func TestScopedTokens(t *testing.T) {
	dir, n, _ := serve(t)
	ctx := t.Context()
	c := dial(t, dir)
	must[*node.Account](t)(c.AddUser(ctx, node.NewAccount{Handle: "alice"}))
	room := must[*node.Room](t)(c.CreateRoom(ctx, "alice", "Ops", "", nil))
	made := must[*node.TokenInfo](t)(c.CreateScopedToken(ctx, "alice", node.TokenSpec{Name: "reader",
		Scopes: []string{"rooms.messages:read"}, Rooms: []uint64{room.Alias}, TTL: 24 * time.Hour}))
	if made.Token == "" || made.Expires-made.Created != (24*time.Hour).Milliseconds() {
		t.Fatalf("created %+v", made)
	}
	_, g, err := n.AuthenticateGrant(ctx, made.Token)
	if err != nil || g == nil || !g.Allows("rooms.messages:read") || g.Allows("rooms.messages:write") ||
		!g.AllowsRoom(room.Alias) || g.AllowsRoom(room.Alias+1) {
		t.Fatalf("grant %+v, %v", g, err)
	}
	full := must[string](t)(c.CreateToken(ctx, "alice", "bot"))
	if _, g, err := n.AuthenticateGrant(ctx, full); err != nil || g != nil {
		t.Fatalf("a token without scopes: grant %+v, %v; want full access", g, err)
	}
	ts := must[[]*node.TokenInfo](t)(c.Tokens(ctx, "alice"))
	i := slices.IndexFunc(ts, func(x *node.TokenInfo) bool { return x.ID == made.ID })
	if len(ts) != 2 || i < 0 || ts[i].Token != "" || !slices.Equal(ts[i].Scopes, made.Scopes) {
		t.Fatalf("tokens = %+v", ts)
	}
	if _, err := c.CreateScopedToken(ctx, "alice", node.TokenSpec{Scopes: []string{"rooms.everything"}}); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("unknown scope: %v, want ErrInvalid", err)
	}
	if err := c.RevokeToken(ctx, "alice", "nope"); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("revoke an unknown ID: %v, want ErrNotFound", err)
	}
	if err := c.RevokeToken(ctx, "alice", made.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, made.Token); !errors.Is(err, node.ErrUnauthorized) {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := n.Authenticate(ctx, full); err != nil {
		t.Errorf("the other token after a revoke: %v", err)
	}
}
