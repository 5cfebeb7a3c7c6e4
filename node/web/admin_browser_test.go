package web_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
	"github.com/horenso/horenso/protocol"
)

// admin adds a node admin to tn.
func (tn *testNode) admin(t *testing.T, handle, name string) *person {
	t.Helper()
	pw := handle + "-secret-pw"
	acc, err := tn.n.CreateAccount(t.Context(), node.NewAccount{Handle: protocol.Handle(handle), Name: name, Password: pw, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	return &person{Base: tn.URL, Login: handle, Password: pw, Name: name, ID: acc.Alias, Global: string(acc.ID), acc: acc}
}

// writePNG writes a w×h PNG of one color into dir and returns its path.
func writePNG(t *testing.T, dir string, w, h int, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	path := filepath.Join(dir, "avatar.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserProfile: in Settings, Alice changes her display name and
// avatar picture and sees both on her messages in the timeline, as Bob
// does; she logs out all her other sessions at once
// (testdata/browser/profile.test.mjs).
func TestBrowserProfile(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	general := acme.room(t, alice, "General", "", bob)
	acme.post(t, alice, general, "Good morning from Alice")
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"general": general},
		Values:      map[string]string{"avatar": writePNG(t, t.TempDir(), 200, 200, color.RGBA{220, 40, 40, 255})},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/profile.test.mjs")
}

// TestBrowserAdmin: the node's admin adds a user who then logs in,
// disables them and they cannot, resets a password, adds a partner by
// its address and sees it listed with its state, and reads the node's
// status; a user who is not an admin has no admin page, and the admin API
// answers them 403 (testdata/browser/admin.test.mjs).
func TestBrowserAdmin(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	globex := startNode(t, "Globex")
	root := acme.admin(t, "root", "Rio Admin")
	alice := acme.person(t, "alice", "Alice Sato")
	acme.room(t, alice, "General", "")
	acme.room(t, root, "Ops", "")
	cfg := e2eConfig{
		People: map[string]*person{"root": root, "alice": alice,
			// dave does not exist yet: the admin adds him in the browser.
			"dave": {Base: acme.URL, Login: "dave", Password: "dave-first-password", Name: "Dave Ito"}},
		Values:      map[string]string{"partner": "/ip4/127.0.0.1/tcp/4001/p2p/" + string(globex.n.ID())},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/admin.test.mjs")
}

// TestBrowserAdminPartners: node A's admin sees its partners by their
// organizations' names, B connected and C, stopped, offline since it was
// last seen (testdata/browser/adminpartners.test.mjs).
func TestBrowserAdminPartners(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	c := nodetest.NewCluster(t, 3, nodetest.Options{API: api.Config{RateLimit: -1}})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	ctx := t.Context()
	if _, err := a.CreateAccount(ctx, node.NewAccount{Handle: "root", Name: "Rio Admin", Password: nodetest.Password("root"), Admin: true}); err != nil {
		t.Fatal(err)
	}
	a.User("alice")
	members := []node.MemberSpec{{Account: b.User("bob")}, {Account: cc.User("carol")}}
	if _, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Three companies", Members: members}); err != nil {
		t.Fatal(err)
	}
	// A knows each partner's organization once the room reached it.
	nodetest.Await(t, 30*time.Second, func() (bool, string) {
		hs, err := a.PartnerHealth(ctx)
		if err != nil {
			return false, err.Error()
		}
		known := 0
		for _, h := range hs {
			if h.Org != "" && h.Connected {
				known++
			}
		}
		return known == 2, fmt.Sprintf("%d of 2 partners known and connected", known)
	})
	cc.Stop()
	cfg := e2eConfig{
		People:      map[string]*person{"root": {Base: a.URL, Login: "root", Password: nodetest.Password("root"), Name: "Rio Admin"}},
		Values:      map[string]string{"b": string(b.ID()), "c": string(cc.ID()), "orgB": b.Org, "orgC": cc.Org},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/adminpartners.test.mjs")
}
