package web_test

import (
	"os"
	"testing"
	"time"
)

// TestBrowserUnread: Bob has 3,000 unread messages in a room. Opening it
// shows the first unread one under an "unread from here" line, the read
// marker follows him as he scrolls (not all at once), a jump takes him
// to the newest, and he marks a message unread again
// (testdata/browser/unread.test.mjs).
func TestBrowserUnread(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	backlog := acme.room(t, alice, "Backlog 未読", "", bob)
	quiet := acme.room(t, alice, "Quiet", "", bob)
	read := acme.post(t, alice, backlog, "Earlier 1", "Earlier 2", "Earlier 3")
	acme.post(t, bob, backlog, "Bob's own reply")
	if _, _, err := acme.n.MarkRead(t.Context(), bob.acc.Handle, acme.roomID(t, backlog), read[len(read)-1].ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	acme.post(t, alice, backlog, "First unread ★")
	acme.postMany(t, alice, backlog, 2998)
	acme.post(t, alice, backlog, "Newest ★")
	t.Logf("posted 3,000 messages in %v", time.Since(start).Round(time.Millisecond))
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"backlog": backlog, "quiet": quiet},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/unread.test.mjs")
}
