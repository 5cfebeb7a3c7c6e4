package nodetest

import (
	"testing"

	"github.com/horenso/horenso/node"

	"github.com/horenso/horenso/protocol"
)

// TestSoftFailIsDecidedByTheEvents: what a removed member's node made
// concurrently with the removal is hidden on every node, whether a node
// received it before the removal or after, and shown again on every node
// when the member is added back. a hosts alice (admin), b bob, c carol.
// During a partition that keeps a apart from b and c, alice removes bob
// while bob posts and edits his earlier message; c, still linked to b,
// shows both. Once every node is linked, a and c show the same: bob's
// message as it was before the removal. Before acknowledgements decided
// it, c kept showing what it received first (soft-fail depended on
// arrival order).
func TestSoftFailIsDecidedByTheEvents(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal")
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	alice.AddMember(room, carol.ID(), protocol.RoleMember)
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	early := bob.Post(room, "before the removal")
	task := bob.CreateTask(room, "bob's task", carol.ID())
	alice.AwaitMessages(room, "before the removal")
	alice.AwaitTask(task)
	carol.AwaitMessages(room, "before the removal")

	c.Unlink(a, b)
	c.Unlink(a, cn)
	alice.RemoveMember(room, bob.ID())
	alice.Post(room, "alice after removing bob")
	bob.Edit(early, "edited during the removal")
	bob.Post(room, "posted during the removal")
	carol.AwaitMessages(room, "edited during the removal", "posted during the removal")

	c.Link(a, b)
	c.Link(a, cn)
	want := []string{"before the removal", "alice after removing bob"}
	alice.AwaitMembers(room, alice.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), carol.ID())
	alice.AwaitMessages(room, want...)
	carol.AwaitMessages(room, want...)
	for _, u := range []*Actor{alice, carol} {
		if tk := u.AwaitTask(task); tk.Body != "bob's task" {
			t.Errorf("%s sees bob's task as %q", u, tk.Body)
		}
	}

	// Added back, bob's events are his again, on every node.
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	for _, u := range []*Actor{alice, bob, carol} {
		u.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	}
	// The two messages made concurrently sort by depth, then ID.
	ms := alice.AwaitMessageSet(room, "edited during the removal", "alice after removing bob", "posted during the removal")
	carol.AwaitMessages(room, bodies(ms)...)
	if ms[0].ID != early {
		t.Errorf("the first message is %s, want bob's early one %s", ms[0].ID, early)
	}
}

func bodies(ms []*node.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}
