package web_test

import (
	"os"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestBrowserInvite: Bob follows invitation links. One lets him in at
// once; the other asks its admin, Alice, who accepts his request in the
// room's side panel (testdata/browser/invite.test.mjs).
func TestBrowserInvite(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	open := acme.room(t, alice, "Open house オープン", "")
	board := acme.room(t, alice, "Board 役員会", "")
	for _, l := range []struct {
		room uint64
		spec node.LinkSpec
	}{
		{open, node.LinkSpec{Code: "openhouse", Description: "[info]Everyone welcome.[/info]"}},
		{board, node.LinkSpec{Code: "board", NeedAcceptance: true, Description: "Board members only."}},
	} {
		if _, err := acme.n.CreateLink(t.Context(), alice.acc.Handle, acme.roomID(t, l.room), l.spec); err != nil {
			t.Fatal(err)
		}
	}
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"open": open, "board": board},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/invite.test.mjs")
}
