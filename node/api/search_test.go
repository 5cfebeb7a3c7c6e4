package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// run runs the env's node (its search indexer among the rest) until the
// test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { e.node.Run(ctx) })
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

// searchFor asks GET /api/search as u once the index has caught up.
func (e *env) searchFor(u *user, kv ...string) searchJSON {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for st := e.node.SearchStatus(); st.Lag > 0 || st.Cursor < e.node.LastChange(); st = e.node.SearchStatus() {
		if time.Now().After(deadline) {
			e.t.Fatalf("search index not caught up: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := e.do(http.MethodGet, "/api/search", req{token: u.token, form: form(kv...)})
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /api/search %v: %s", kv, r)
	}
	var out searchJSON
	r.decode(e.t, &out)
	return out
}

func TestSearchAPI(t *testing.T) {
	e := newEnv(t, Config{})
	e.run()
	secret := e.newRoom(e.alice, "Alice only")
	e.post(e.alice, secret, "新製品 secret")
	m := e.post(e.bob, e.room, `新製品の発表は来週 <script>alert(1)</script>`)
	e.post(e.alice, e.room, "unrelated")

	res := e.searchFor(e.bob, "q", "新製品")
	if len(res.Results) != 1 || res.Total != 1 {
		t.Fatalf("bob found %+v, want his one message", res)
	}
	h := res.Results[0]
	if h.Type != "message" || h.RoomID != e.room.Alias || h.RoomName != "Launch" || h.Message == nil ||
		h.Message.MessageID != strconv.FormatUint(m.Alias, 10) || h.Message.Account.AccountID != e.bob.Alias {
		t.Errorf("hit = %+v", h)
	}
	if strings.Contains(h.Snippet, "<script>") || !strings.Contains(h.Snippet, "&lt;script&gt;") || !strings.Contains(h.Snippet, "<mark>") {
		t.Errorf("snippet %q: want the text escaped and the match marked", h.Snippet)
	}
	if res := e.searchFor(e.alice, "q", "新製品"); len(res.Results) != 2 {
		t.Errorf("alice found %d, want 2", len(res.Results))
	}
	if res := e.searchFor(e.carol, "q", "新製品"); len(res.Results) != 0 {
		t.Errorf("carol, in no room, found %+v", res.Results)
	}
	// from: takes a ChatWork account_id; in: a room_id.
	if res := e.searchFor(e.alice, "q", fmt.Sprintf("新製品 from:%d", e.bob.Alias)); len(res.Results) != 1 {
		t.Errorf("from:account_id found %d, want 1", len(res.Results))
	}
	if res := e.searchFor(e.alice, "q", fmt.Sprintf("新製品 in:%d", secret.Alias)); len(res.Results) != 1 || res.Results[0].RoomID != secret.Alias {
		t.Errorf("in:room_id found %+v", res.Results)
	}
	if res := e.searchFor(e.alice, "q", "新製品", "sort", "relevance", "limit", "1"); len(res.Results) != 1 || res.NextOffset != 1 {
		t.Errorf("first page of one: %+v", res)
	}
	for _, bad := range [][]string{{"q", "before:soon"}, {"q", ""}, {"q", "x", "sort", "oldest"}, {"q", "x", "limit", "0"}, {"q", "x", "offset", "-1"}} {
		r := e.do(http.MethodGet, "/api/search", req{token: e.bob.token, form: form(bad...)})
		if r.status != http.StatusBadRequest {
			t.Errorf("GET /api/search %v: %s, want 400", bad, r)
		}
		r.errors(t)
	}
	if r := e.do(http.MethodGet, "/api/search", req{form: form("q", "x")}); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous search: %s", r)
	}
}

func TestHistoryAround(t *testing.T) {
	e := newEnv(t, Config{})
	var ids []string
	for i := range 30 {
		ids = append(ids, strconv.FormatUint(e.post(e.alice, e.room, fmt.Sprint("message ", i)).Alias, 10))
	}
	path := fmt.Sprintf("/api/rooms/%d/messages", e.room.Alias)
	r := e.do(http.MethodGet, path, req{token: e.bob.token, form: form("around", ids[10], "limit", "10")})
	if r.status != http.StatusOK {
		t.Fatal(r)
	}
	var ms []messageJSON
	r.decode(t, &ms)
	var got []string
	for _, m := range ms {
		got = append(got, m.MessageID)
	}
	if want := ids[5:16]; !slices.Equal(got, want) {
		t.Errorf("around message 10: %v, want %v", got, want)
	}
	r = e.do(http.MethodGet, path, req{token: e.carol.token, form: form("around", ids[10])})
	if r.status != http.StatusNotFound {
		t.Errorf("a non-member's around: %s", r)
	}
}
