package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestUnreadPosition: GET /api/rooms/{room_id}/unread names the first
// message the caller has not read, skipping its own, and follows the read
// marker as it moves forward (read) and back (unread).
func TestUnreadPosition(t *testing.T) {
	e := newEnv(t, Config{})
	path := fmt.Sprintf("/api/rooms/%d/unread", e.room.Alias)
	get := func(as *user) unreadJSON {
		t.Helper()
		resp := e.do("GET", path, req{token: as.token})
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s = %s", path, resp)
		}
		var u unreadJSON
		resp.decode(t, &u)
		return u
	}
	if u := get(e.bob); u.Unread != 0 || u.First != nil {
		t.Fatalf("nothing posted: %+v", u)
	}
	e.post(e.bob, e.room, "bob's own, never unread to him")
	first := e.post(e.alice, e.room, "first for bob")
	second := e.post(e.alice, e.room, "[To:"+string(e.bob.ID)+"]second, to bob")
	third := e.post(e.alice, e.room, "third")
	id := func(a uint64) string { return strconv.FormatUint(a, 10) }
	put := func(what, mid string) {
		t.Helper()
		q := req{token: e.bob.token}
		if mid != "" {
			q.form = form("message_id", mid)
		}
		p := fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, what)
		if resp := e.do("PUT", p, q); resp.status != http.StatusOK {
			t.Fatalf("PUT %s = %s", p, resp)
		}
	}

	u := get(e.bob)
	if u.Unread != 3 || u.Mentions != 1 || u.First == nil || u.First.MessageID != id(first.Alias) || u.First.Body != "first for bob" {
		t.Fatalf("three unread: %+v (first %+v)", u, u.First)
	}
	bodies := func(ms []messageJSON) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Body)
		}
		return out
	}
	if got, want := bodies(u.Messages), []string{"bob's own, never unread to him", "first for bob", fmt.Sprintf("[To:%d]second, to bob", e.bob.Alias), "third"}; !slices.Equal(got, want) {
		t.Errorf("messages around the first unread = %q, want %q", got, want)
	}
	resp := e.do("GET", path, req{token: e.bob.token, form: form("limit", "1")})
	var around unreadJSON
	resp.decode(t, &around)
	if got, want := bodies(around.Messages), []string{"bob's own, never unread to him", "first for bob", fmt.Sprintf("[To:%d]second, to bob", e.bob.Alias)}; !slices.Equal(got, want) {
		t.Errorf("limit=1: messages = %q, want %q", got, want)
	}
	if resp := e.do("GET", path, req{token: e.bob.token, form: form("limit", "0")}); resp.status != http.StatusBadRequest {
		t.Errorf("limit=0: %s, want 400", resp)
	}
	if u := get(e.alice); u.Unread != 1 || u.First == nil || u.First.Body != "bob's own, never unread to him" {
		t.Fatalf("alice: %+v", u)
	}

	put("read", id(second.Alias))
	if u := get(e.bob); u.Unread != 1 || u.Mentions != 0 || u.First == nil || u.First.MessageID != id(third.Alias) {
		t.Fatalf("read up to the second: %+v", u)
	}
	put("unread", id(second.Alias))
	if u := get(e.bob); u.Unread != 2 || u.Mentions != 1 || u.First == nil || u.First.MessageID != id(second.Alias) {
		t.Fatalf("unread from the second: %+v", u)
	}
	put("read", "")
	u = get(e.bob)
	if u.Unread != 0 || u.First != nil {
		t.Fatalf("all read: %+v", u)
	}
	if got := bodies(u.Messages); len(got) != 4 || got[3] != "third" {
		t.Errorf("all read: messages = %q, want the newest page", got)
	}

	if resp := e.do("GET", path, req{token: e.carol.token}); resp.status != http.StatusNotFound {
		t.Fatalf("stranger: %s, want 404", resp)
	}
	e.do("GET", path, req{token: e.carol.token}).errors(t)
}

// TestMarkReadBeforeNotice: a system message after the newest post does
// not make that post "already read". The web app marks read the last post
// on screen; a task added after it answered 400 there.
func TestMarkReadBeforeNotice(t *testing.T) {
	e := newEnv(t, Config{})
	m := e.post(e.bob, e.room, "sent while alice was away")
	if _, err := e.node.CreateTask(t.Context(), e.bob.Handle, e.room.ID, node.NewTask{Body: "a task", Assignees: []protocol.AccountID{e.alice.ID}}); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v2/rooms/%d/messages/read", e.room.Alias)
	resp := e.do("PUT", path, req{token: e.alice.token, form: form("message_id", strconv.FormatUint(m.Alias, 10))})
	if resp.status != http.StatusOK {
		t.Fatalf("PUT %s = %s, want 200", path, resp)
	}
	resp = e.do("PUT", path, req{token: e.alice.token, form: form("message_id", strconv.FormatUint(m.Alias, 10))})
	if resp.status != http.StatusBadRequest {
		t.Fatalf("PUT %s again = %s, want 400 (read already)", path, resp)
	}
}

// TestReadUpTo: PUT /api/rooms/{room_id}/read moves the marker forward
// only, and answers 200 where /v2's read would answer 400.
func TestReadUpTo(t *testing.T) {
	e := newEnv(t, Config{})
	one := e.post(e.alice, e.room, "one")
	two := e.post(e.alice, e.room, "two")
	e.post(e.alice, e.room, "three")
	path := fmt.Sprintf("/api/rooms/%d/read", e.room.Alias)
	for _, c := range []struct {
		name   string
		as     *user
		mid    string
		status int
		unread uint64
	}{
		{"forward", e.bob, strconv.FormatUint(two.Alias, 10), http.StatusOK, 1},
		{"again", e.bob, strconv.FormatUint(two.Alias, 10), http.StatusOK, 1},
		{"back is ignored", e.bob, strconv.FormatUint(one.Alias, 10), http.StatusOK, 1},
		{"no message", e.bob, "", http.StatusBadRequest, 0},
		{"unknown message", e.bob, "999999", http.StatusNotFound, 0},
		{"stranger", e.carol, strconv.FormatUint(two.Alias, 10), http.StatusNotFound, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := req{token: c.as.token}
			if c.mid != "" {
				q.form = form("message_id", c.mid)
			}
			resp := e.do("PUT", path, q)
			if resp.status != c.status {
				t.Fatalf("PUT %s = %s, want %d", path, resp, c.status)
			}
			if c.status != http.StatusOK {
				resp.errors(t)
				return
			}
			var got map[string]uint64
			resp.decode(t, &got)
			if got["unread_num"] != c.unread {
				t.Errorf("unread_num = %d, want %d", got["unread_num"], c.unread)
			}
		})
	}
}
