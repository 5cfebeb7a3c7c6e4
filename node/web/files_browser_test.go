package web_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
	"github.com/horenso/horenso/protocol"
)

// TestBrowserFiles: Alice and Bob, on two partner nodes, share files
// through the app: drag and drop, progress and cancel, thumbnails, the
// lightbox, a download on the other node and the Files list
// (testdata/browser/files.test.mjs).
func TestBrowserFiles(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	c := nodetest.NewCluster(t, 2, nodetest.Options{API: api.Config{RateLimit: -1}})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	aliceID, bobID := a.User("alice"), b.User("bob")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Drawings", Members: []node.MemberSpec{{Account: bobID}}})
	if err != nil {
		t.Fatal(err)
	}
	var onB uint64
	nodetest.Await(t, 30*time.Second, func() (bool, string) {
		rb, err := b.Room(ctx, "bob", room.ID)
		if err != nil {
			return false, fmt.Sprint("room on b: ", err)
		}
		onB = rb.Alias
		for _, m := range rb.Members {
			if m.Name == "" {
				return false, fmt.Sprintf("%s has no name on b yet", m.Account)
			}
		}
		return true, ""
	})
	alias := func(nd *nodetest.Node, id protocol.AccountID) uint64 {
		p, err := nd.Profile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Alias
	}
	cfg := e2eConfig{
		People: map[string]*person{
			"alice": {Base: a.URL, Login: "alice", Password: nodetest.Password("alice"), Name: "Alice", ID: alias(a, aliceID), Global: string(aliceID)},
			"bob":   {Base: b.URL, Login: "bob", Password: nodetest.Password("bob"), Name: "Bob", ID: alias(b, bobID), Global: string(bobID)},
		},
		Rooms: map[string]uint64{"alice": room.Alias, "bob": onB},
		Trace: os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/files.test.mjs")
}
