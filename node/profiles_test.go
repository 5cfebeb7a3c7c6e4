package node

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/protocol"
)

func TestProfile(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	a := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Name: "Alice", Email: "a@acme.example"}))
	p := must[*Profile](t)(n.Profile(ctx, a.ID))
	if p.Alias != a.Alias || p.Name != "Alice" || p.Org != "Acme" || !p.Local || p.Email != "a@acme.example" {
		t.Fatalf("profile = %+v", p)
	}
	if _, err := n.Profile(ctx, protocol.NewAccountID(n.ID(), "nobody")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown profile = %v", err)
	}
	r := must[*Room](t)(n.Room(ctx, "alice", a.MyChat))
	if got := must[uint64](t)(n.RoomAlias(ctx, a.MyChat)); got != r.Alias {
		t.Fatalf("RoomAlias = %d, want %d", got, r.Alias)
	}
	m := must[*Message](t)(n.Post(ctx, "alice", a.MyChat, "x"))
	if got := must[uint64](t)(n.MessageAlias(ctx, m.ID)); got != m.Alias {
		t.Fatalf("MessageAlias = %d, want %d", got, m.Alias)
	}
	if _, err := n.MessageAlias(ctx, protocol.EventID{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown message alias = %v", err)
	}
}
