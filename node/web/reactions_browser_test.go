package web_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestBrowserReactions: Bob reacts to a message and Alice sees the count
// live, and adds hers, which Bob sees; Bob bookmarks a message and finds
// it in his bookmarks, which open it in its room; Bob pins an older chat,
// which moves to the top of his list (and stays there after a reload);
// Bob copies a message's link, and the link opens the message in context
// (testdata/browser/reactions.test.mjs).
func TestBrowserReactions(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme 株式会社")
	alice := acme.person(t, "alice", "佐藤 花子")
	bob := acme.person(t, "bob", "Bob Tanaka")
	launch := acme.room(t, alice, "Launch プロジェクト", "", bob)
	var before, after []string
	for i := range 40 {
		before = append(before, fmt.Sprintf("Earlier message %d", i))
		after = append(after, fmt.Sprintf("Later message %d", i))
	}
	acme.post(t, alice, launch, before...)
	target := acme.post(t, alice, launch, "The budget is approved")[0]
	acme.post(t, alice, launch, after...)
	acme.post(t, alice, launch, "v1 is released 🎉")
	// Bob has read it all: both open the room at the newest message.
	if _, _, err := acme.n.MarkRead(t.Context(), bob.acc.Handle, acme.roomID(t, launch), protocol.EventID{}); err != nil {
		t.Fatal(err)
	}
	general := acme.room(t, alice, "全体 General", "", bob)
	acme.post(t, alice, general, "Welcome")

	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"launch": launch, "general": general, "target": target.Alias},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/reactions.test.mjs")
}
