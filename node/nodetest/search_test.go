package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// awaitSearch waits until u, searching q on its node, finds exactly the
// message bodies want (newest first).
func awaitSearch(u *Actor, q string, want ...string) {
	u.t.Helper()
	Await(u.t, 30*time.Second, func() (bool, string) {
		res, err := u.nd.Search(u.t.Context(), u.Handle, node.SearchQuery{Q: q, Limit: node.MaxSearchPage})
		if err != nil {
			return false, fmt.Sprintf("%s: search %q: %v", u, q, err)
		}
		var got []string
		for _, h := range res.Hits {
			if h.Message != nil {
				got = append(got, h.Message.Body)
			}
		}
		return slices.Equal(got, want), fmt.Sprintf("%s searching %q finds %q, want %q (index %d behind)", u, q, got, want, res.Lag)
	})
}

// TestSearchAcrossPartners: a member searches, on its own node, what a
// partner's member wrote in a room they share, and stops finding a post
// once its node hides it (soft-fail: the author was removed concurrently);
// a node's account never finds a room of the partner's it is not in.
func TestSearchAcrossPartners(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal 商談")
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	alice.AddMember(room, carol.ID(), protocol.RoleMember)
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	other := alice.CreateRoom("Alice and bob only")
	alice.AddMember(other, bob.ID(), protocol.RoleMember)
	alice.Post(room, "見積書の送付 quote sent")
	alice.Post(other, "見積書 internal only")
	bob.AwaitMessages(other, "見積書 internal only")
	awaitSearch(carol, "見積書", "見積書の送付 quote sent")
	awaitSearch(bob, "見積書", "見積書 internal only", "見積書の送付 quote sent")

	// Soft-fail: a removed member's concurrent post is shown by c until
	// it learns of the removal, then hidden, and no longer found there.
	c.Unlink(a, b)
	c.Unlink(a, cn)
	alice.RemoveMember(room, bob.ID())
	bob.Post(room, "見積書 posted during the removal")
	carol.AwaitMessages(room, "見積書の送付 quote sent", "見積書 posted during the removal")
	awaitSearch(carol, "見積書", "見積書 posted during the removal", "見積書の送付 quote sent")
	c.Link(a, b)
	c.Link(a, cn)
	carol.AwaitMembers(room, alice.ID(), carol.ID())
	awaitSearch(carol, "見積書", "見積書の送付 quote sent")
	awaitSearch(carol, "removal")
}
