package web_test

import (
	"os"
	"testing"
)

// TestBrowserNoticesLive: Bob has a room open while Alice adds a task,
// changes the description and adds Carol; each system message appears in
// his timeline as it happens, as a compact notice, without a reload
// (testdata/browser/notices.test.mjs).
func TestBrowserNoticesLive(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	carol := acme.person(t, "carol", "Carol Suzuki")
	general := acme.room(t, alice, "General", "", bob)
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob, "carol": carol},
		Rooms:       map[string]uint64{"general": general},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/notices.test.mjs")
}
