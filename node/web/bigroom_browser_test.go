package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestBrowserBigRoom: in a room of 1,001 members the side panel, the [To:]
// picker, the members dialog and the task dialog each draw a bounded
// number of people and find the others by name; the members dialog's
// search finds people already in the room; the admin's users page draws
// 100 of its 1,000 users, and its tokens page's user select 100; 300
// system messages arriving at once make the timeline read its layout a
// few times, not once or more each (testdata/browser/bigroom.test.mjs).
// A room of 5,000 drew every member in each, freezing the page for up to
// 1.8 s at a time.
func TestBrowserBigRoom(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	boss := acme.admin(t, "boss", "Boss") // a node admin too, for the users page
	var others []*person
	for i := 1; i <= 1000; i++ {
		name := fmt.Sprintf("Member %04d", i)
		if i == 777 {
			name = "佐藤 花子"
		}
		others = append(others, acme.colleague(t, fmt.Sprintf("m%04d", i), name, ""))
	}
	var ms []node.MemberSpec
	for _, o := range others {
		ms = append(ms, node.MemberSpec{Account: o.acc.ID, Role: protocol.RoleMember})
	}
	r, err := acme.n.CreateRoom(t.Context(), boss.acc.Handle, node.NewRoom{Name: "All hands", Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	// The script's hook: someone takes m0501 out, elsewhere.
	hooks := http.NewServeMux()
	hooks.HandleFunc("POST /_test/remove", func(w http.ResponseWriter, req *http.Request) {
		if err := acme.n.RemoveMember(req.Context(), boss.acc.Handle, r.ID, others[500].acc.ID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	extra := []*person{acme.colleague(t, "extra1", "Extra One", ""), acme.colleague(t, "extra2", "Extra Two", "")}
	hooks.HandleFunc("POST /_test/addtwo", func(w http.ResponseWriter, req *http.Request) {
		err := acme.n.AddMembers(req.Context(), boss.acc.Handle, r.ID, []node.MemberSpec{{Account: extra[0].acc.ID}, {Account: extra[1].acc.ID}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hooks.HandleFunc("POST /_test/remove2", func(w http.ResponseWriter, req *http.Request) {
		if err := acme.n.RemoveMember(req.Context(), boss.acc.Handle, r.ID, others[501].acc.ID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hooks.HandleFunc("POST /_test/removemany", func(w http.ResponseWriter, req *http.Request) {
		var out []protocol.AccountID
		for _, o := range others[100:400] {
			out = append(out, o.acc.ID)
		}
		if err := acme.n.RemoveMembers(req.Context(), boss.acc.Handle, r.ID, out); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	cfg := e2eConfig{
		People: map[string]*person{"boss": boss, "hanako": others[776], "m0500": others[499], "m0501": others[500]},
		Rooms:  map[string]uint64{"big": r.Alias},
		Hooks:  map[string]string{"boss": hookSrv.URL},
		Trace:  os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/bigroom.test.mjs")
}
