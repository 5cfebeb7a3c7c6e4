package web_test

import (
	"os"
	"testing"
)

// TestBrowserTokens: in Settings, Alice creates an API token limited to
// one scope and one room, sees it once, uses it, and revokes it
// (testdata/browser/tokens.test.mjs).
func TestBrowserTokens(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	general := acme.room(t, alice, "General", "")
	other := acme.room(t, alice, "Other", "")
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice},
		Rooms:       map[string]uint64{"general": general, "other": other},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/tokens.test.mjs")
}
