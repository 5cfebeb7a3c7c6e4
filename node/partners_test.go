package node

import (
	"errors"
	"testing"
)

func TestPartners(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	other := newTestNode(t, t.TempDir())
	ctx := t.Context()
	for _, bad := range []string{
		"", "garbage", "/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/tcp/4001/p2p/not-a-peer-id",
		"/nonsense/1/p2p/" + string(other.ID()), "/ip4/127.0.0.1/tcp/4001/p2p/" + string(n.ID()),
	} {
		if _, err := n.AddPartner(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddPartner(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	addr := "/ip4/127.0.0.1/tcp/9/p2p/" + string(other.ID())
	if _, err := n.AddPartner(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddPartner(ctx, addr); err != nil { // again: no duplicate
		t.Fatal(err)
	}
	n.Close()
	n = newTestNode(t, dir)
	ps := must[[]*Partner](t)(n.Partners(ctx))
	if len(ps) != 1 || ps[0].ID != other.ID() || len(ps[0].Addrs) != 1 || ps[0].Connected {
		t.Fatalf("partners after restart = %+v, want the one added, not connected", ps)
	}
	if err := n.RemovePartner(ctx, n.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a non-partner: %v, want ErrNotFound", err)
	}
	if err := n.RemovePartner(ctx, other.ID()); err != nil {
		t.Fatal(err)
	}
	if ps := must[[]*Partner](t)(n.Partners(ctx)); len(ps) != 0 {
		t.Fatalf("partners after removal = %+v", ps)
	}
}
