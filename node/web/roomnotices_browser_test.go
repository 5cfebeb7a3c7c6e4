package web_test

import (
	"os"
	"testing"
)

// TestBrowserRoomNotices: Bob watches a room while people join and leave
// and its description and icon change; each shows as a notice, live. He
// picks an icon for his own room, reads "1 member" (not "1 members"), and
// gets a desktop notification for a direct message
// (testdata/browser/roomnotices.test.mjs).
func TestBrowserRoomNotices(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	carol := acme.person(t, "carol", "Carol Suzuki")
	team := acme.room(t, alice, "Team チーム", "What we do.", bob)
	solo := acme.room(t, bob, "Solo notes", "")
	direct, err := acme.n.DirectRoom(t.Context(), alice.acc.Handle, bob.acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob, "carol": carol},
		Rooms:       map[string]uint64{"team": team, "solo": solo, "direct": direct.Alias},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/roomnotices.test.mjs")
}
