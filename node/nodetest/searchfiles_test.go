package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// awaitFiles waits until u, searching q on its node, finds exactly the
// files named want (newest first), each with its post.
func awaitFiles(u *Actor, q string, want ...string) {
	u.t.Helper()
	Await(u.t, 30*time.Second, func() (bool, string) {
		res, err := u.nd.Search(u.t.Context(), u.Handle, node.SearchQuery{Q: q, Limit: node.MaxSearchPage})
		if err != nil {
			return false, fmt.Sprintf("%s: search %q: %v", u, q, err)
		}
		var got []string
		for _, h := range res.Hits {
			if h.File != nil && h.Message != nil && h.Message.ID == h.File.Post {
				got = append(got, h.File.Name)
			}
		}
		return slices.Equal(got, want), fmt.Sprintf("%s searching %q finds files %q, want %q (index %d behind)", u, q, got, want, res.Lag)
	})
}

// TestSearchPartnerFiles: a file a partner's member shares in a room is
// found by its name on the other member's node (which may not hold its
// bytes yet), and no longer once its post is deleted; a node's account
// not in the room never finds it.
func TestSearchPartnerFiles(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	b.User("dave")
	alice, bob, dave := a.As("alice"), b.As("bob"), b.As("dave")
	room := alice.CreateRoom("Deal 商談")
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	bob.AwaitMembers(room, alice.ID(), bob.ID())
	f := alice.PostFile(room, "契約書ドラフト_v3.docx", []byte("draft"))
	awaitFiles(bob, "契約書", "契約書ドラフト_v3.docx")
	awaitFiles(bob, "docx is:file", "契約書ドラフト_v3.docx")
	awaitFiles(dave, "契約書")
	alice.Delete(f.Post)
	awaitFiles(bob, "契約書")
}
