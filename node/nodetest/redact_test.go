package nodetest

import (
	"bytes"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
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

// TestRetentionDropsOldMessages: alice sets a retention of one day in a
// room she shares with bob. Two days later by the nodes' clocks, the
// messages posted before are shown as deleted on both nodes and their text
// is in neither node's backup, while a message posted since stays.
func TestRetentionDropsOldMessages(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c := NewCluster(t, 2, Options{Now: now, RetentionInterval: 50 * time.Millisecond, PurgeInterval: time.Millisecond})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitRoom(room)
	edited := alice.Post(room, "gamma-old-post")
	alice.Edit(edited, "gamma-old-edit")
	// bob answers what he has seen: his post follows alice's, so the
	// display order below is decided (concurrent posts are ordered by ID).
	bob.AwaitMessages(room, "gamma-old-edit")
	bob.Post(room, "delta-old-post")
	bob.AwaitMessages(room, "gamma-old-edit", "delta-old-post")
	alice.AwaitMessages(room, "gamma-old-edit", "delta-old-post")

	days := uint32(1)
	if err := a.SetHistory(t.Context(), "alice", room, node.HistoryChange{RetentionDays: &days}); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(48 * time.Hour))
	alice.Post(room, "epsilon-fresh-post")
	alice.AwaitMessages(room, "", "", "epsilon-fresh-post")
	bob.AwaitMessages(room, "", "", "epsilon-fresh-post")
	requireGone(t, c.Nodes, []string{"gamma-old-post", "gamma-old-edit", "delta-old-post"}, []string{"epsilon-fresh-post"})
}
