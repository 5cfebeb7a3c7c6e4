package web_test

import (
	"os"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestBrowserPhone runs the main flows on a 375×812 phone screen: log in,
// open a room from the room list, read, post, complete a task in the
// details pane, go back, log out; one pane at a time, nothing wider than
// the screen, touch targets of 40 px or more
// (testdata/browser/phone.test.mjs).
func TestBrowserPhone(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme 株式会社")
	alice := acme.person(t, "alice", "佐藤 花子")
	bob := acme.person(t, "bob", "Bob Tanaka")
	site := acme.room(t, alice, "現場チーム Site team with a rather long name", "Daily reports from the site.", bob)
	other := acme.room(t, alice, "全体 General", "", bob)
	acme.post(t, alice, other, "Welcome")
	acme.post(t, alice, site, "おはようございます。Today's plan: pour the foundation at 9:00.",
		"[To:"+bob.Global+"]Bob Tanaka\nCan you check the delivery? https://example.com/a/very/long/link/that/must/wrap/on/a/phone/screen/without/overflowing")
	if _, err := acme.n.CreateTask(t.Context(), alice.acc.Handle, acme.roomID(t, site),
		node.NewTask{Body: "Check the concrete delivery 納品確認", Assignees: []protocol.AccountID{bob.acc.ID}}); err != nil {
		t.Fatal(err)
	}
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"site": site, "general": other},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/phone.test.mjs")
}
