package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
)

// TestBrowserPartners: Alice, of Org A, shares a room with Bob's Org B on
// a partner node. Her room's header shows Org B connected; her message
// shows delivered to Org B once B's node acknowledged it. The script
// stops node B (a test hook): the header says offline since when, and a
// message posted meanwhile waits; started again, B takes it in and the
// mark turns delivered, live (testdata/browser/partners.test.mjs).
func TestBrowserPartners(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	c := nodetest.NewCluster(t, 2, nodetest.Options{API: api.Config{RateLimit: -1}})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	aliceID, bobID := a.User("alice"), b.User("bob")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Org A × Org B", Members: []node.MemberSpec{{Account: bobID}}})
	if err != nil {
		t.Fatal(err)
	}
	// B holds the room and A knows B's organization from its member.
	nodetest.Await(t, 30*time.Second, func() (bool, string) {
		if _, err := b.Room(ctx, "bob", room.ID); err != nil {
			return false, fmt.Sprint("room on b: ", err)
		}
		_, ps, err := a.RoomPartners(ctx, "alice", room.ID)
		if err != nil || len(ps) != 1 || ps[0].Org != b.Org {
			return false, fmt.Sprintf("partners on a: %+v, %v", ps, err)
		}
		return true, ""
	})
	hooks := http.NewServeMux()
	hooks.HandleFunc("POST /_test/partner/stop", func(w http.ResponseWriter, r *http.Request) {
		b.Stop()
		w.WriteHeader(http.StatusNoContent)
	})
	hooks.HandleFunc("POST /_test/partner/start", func(w http.ResponseWriter, r *http.Request) {
		b.Start()
		w.WriteHeader(http.StatusNoContent)
	})
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	p, err := a.Profile(ctx, aliceID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e2eConfig{
		People: map[string]*person{
			"alice": {Base: a.URL, Login: "alice", Password: nodetest.Password("alice"), Name: "Alice", ID: p.Alias, Global: string(aliceID)},
		},
		Rooms:       map[string]uint64{"alice": room.Alias},
		Hooks:       map[string]string{"partner": hookSrv.URL},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	t.Setenv("HORENSO_PARTNER_NODE", string(b.ID()))
	t.Setenv("HORENSO_PARTNER_ORG", b.Org)
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/partners.test.mjs")
}
