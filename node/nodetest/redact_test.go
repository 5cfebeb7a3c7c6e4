package nodetest

import (
	"bytes"
	"os"
	"testing"
)

// requireGone fails the test if the backup of any of nodes holds one of
// texts, and unless it holds every one of kept: the search can find text.
func requireGone(t *testing.T, nodes []*Node, texts, kept []string) {
	t.Helper()
	for _, nd := range nodes {
		b, err := os.ReadFile(nd.SaveBackup())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("node %s: its backup holds %q", nd.Name, s)
			}
		}
		for _, s := range kept {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("node %s: its backup lacks %q, which it shows", nd.Name, s)
			}
		}
	}
}

// TestDeletedTextIsGone: alice@a and bob@b share a room; alice deletes a
// message she had edited, and edits another twice. Then carol@c is added.
// The deleted message's text and edit, and the edited-away text, are in
// no node's backup, c's included, which received the room only after the
// delete: sync served it the redacted forms, which it verified like any
// event.
func TestDeletedTextIsGone(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal", bob.ID())

	gone := alice.Post(room, "alpha-posted-text")
	alice.Edit(gone, "alpha-edited-text")
	kept := alice.Post(room, "beta-posted-text")
	alice.Edit(kept, "beta-edited-away-text")
	alice.Edit(kept, "beta-final-text")
	bob.AwaitMessages(room, "alpha-edited-text", "beta-final-text")
	alice.Delete(gone)
	bob.AwaitMessages(room, "", "beta-final-text")

	alice.AddMember(room, carol.ID(), "member")
	carol.AwaitMessages(room, "", "beta-final-text")

	requireGone(t, c.Nodes,
		[]string{"alpha-posted-text", "alpha-edited-text", "beta-posted-text", "beta-edited-away-text"},
		[]string{"beta-final-text"})
}
