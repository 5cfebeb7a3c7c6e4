package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestBrowserSearch: Bob searches for a word from the middle of a long
// history, sees it highlighted in a result grouped under its room (and
// nothing from Alice's private room), clicks it, and lands on the message
// with the messages around it loaded; then he finds a file by its Japanese
// name, keeping to files, and downloads it from the result
// (testdata/browser/search.test.mjs).
func TestBrowserSearch(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme 株式会社")
	// The search indexer runs with the node.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { acme.n.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	alice := acme.person(t, "alice", "佐藤 花子")
	bob := acme.person(t, "bob", "Bob Tanaka")
	sales := acme.room(t, alice, "営業チーム", "", bob)
	private := acme.room(t, alice, "Alice private", "")
	var before, after []string
	for i := range 60 {
		before = append(before, fmt.Sprintf("Earlier message %d", i))
		after = append(after, fmt.Sprintf("Later message %d", i))
	}
	acme.post(t, alice, sales, before...)
	target := acme.post(t, alice, sales, "新製品の発表は来週です <b>not bold</b> <img src=x onerror=\"window.__xss='search'\">")[0]
	acme.post(t, bob, sales, after...)
	acme.post(t, alice, private, "新製品 secret numbers")
	// Files, found by their names.
	for _, f := range []struct {
		room       uint64
		name, data string
	}{{sales, "見積書_2026年度.pdf", "the quote"}, {private, "見積書_secret.pdf", "secret"}} {
		if _, err := acme.n.PostFile(t.Context(), alice.acc.Handle, acme.roomID(t, f.room), node.NewFile{Name: f.name,
			Data: strings.NewReader(f.data)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for st := acme.n.SearchStatus(); st.Lag > 0 || st.Cursor < acme.n.LastChange(); st = acme.n.SearchStatus() {
		if time.Now().After(deadline) {
			t.Fatalf("search index not caught up: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"sales": sales, "private": private, "target": target.Alias},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/search.test.mjs")
}
