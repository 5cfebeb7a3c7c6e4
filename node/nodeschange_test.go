package node

import (
	"maps"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestNodesChange applies membership changes in sequence and checks that
// the member nodes nodesChange keeps up to date are those of every member,
// as nodesOf works them out: an addition of a new node's account, a
// removal of one of a node's two accounts (no change) and of its last
// (the node leaves), a role change, a void addition.
func TestNodesChange(t *testing.T) {
	acc := func(handle, node string) protocol.AccountID {
		return protocol.NewAccountID(protocol.NodeID(node), protocol.Handle(handle))
	}
	alice, bob, carol, dave := acc("alice", "A"), acc("bob", "B"), acc("carol", "B"), acc("dave", "C")
	state := &protocol.Control{}
	state.Members.Set(alice, protocol.Member{Role: protocol.RoleAdmin})
	nodes := nodesOf(state)
	step := func(name string, only []protocol.AccountID, change func(c *protocol.Control)) {
		t.Helper()
		after := &protocol.Control{Members: state.Members}
		change(after)
		joined, left, ok := nodesChange(state, after, only)
		if !ok {
			t.Fatalf("%s: nodesChange does not know", name)
		}
		nodes = maps.Clone(nodes)
		for _, id := range joined {
			nodes[id] = true
		}
		for _, id := range left {
			delete(nodes, id)
		}
		if want := nodesOf(after); !maps.Equal(nodes, want) {
			t.Fatalf("%s: nodes %v (joined %v, left %v), want %v", name, slices.Sorted(maps.Keys(nodes)), joined, left, slices.Sorted(maps.Keys(want)))
		}
		state = after
	}
	member := protocol.Member{Role: protocol.RoleMember}
	step("bob and carol added", []protocol.AccountID{bob, carol}, func(c *protocol.Control) { c.Members.Set(bob, member); c.Members.Set(carol, member) })
	step("dave added", []protocol.AccountID{dave}, func(c *protocol.Control) { c.Members.Set(dave, member) })
	step("bob removed, carol stays", []protocol.AccountID{bob}, func(c *protocol.Control) { c.Members.Delete(bob) })
	step("carol made admin", []protocol.AccountID{carol}, func(c *protocol.Control) { c.Members.Set(carol, protocol.Member{Role: protocol.RoleAdmin}) })
	step("carol leaves, B's last", []protocol.AccountID{carol}, func(c *protocol.Control) { c.Members.Delete(carol) })
	step("bob's addition void", []protocol.AccountID{bob}, func(*protocol.Control) {})
	step("dave removed", []protocol.AccountID{dave}, func(c *protocol.Control) { c.Members.Delete(dave) })
	if len(nodes) != 1 || !nodes["A"] {
		t.Errorf("nodes at the end %v, want A alone", nodes)
	}
	if _, _, ok := nodesChange(state, state, nil); ok {
		t.Error("nodesChange knows the change of a merge")
	}
}
