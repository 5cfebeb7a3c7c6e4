package node

import (
	"errors"
	"testing"
)

func TestSessionsAndRevoke(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	if _, _, err := n.StartSession(ctx, "alice", "wrong horse"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("bad password = %v", err)
	}
	a, s1, err := n.StartSession(ctx, "alice", "correct horse")
	if err != nil || a.Handle != "alice" {
		t.Fatal(a, err)
	}
	_, s2, _ := n.StartSession(ctx, "alice", "correct horse")
	c1, again, c2 := n.CSRFToken(s1), n.CSRFToken(s1), n.CSRFToken(s2)
	if c1 == c2 || c1 != again || len(c1) < 40 {
		t.Fatal("CSRF tokens must be per session and stable")
	}
	if err := n.RevokeToken(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, s1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked session = %v", err)
	}
	if _, err := n.Authenticate(ctx, s2); err != nil {
		t.Fatalf("the other session = %v", err)
	}
	if err := n.RevokeToken(ctx, s1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoking twice = %v", err)
	}
}
