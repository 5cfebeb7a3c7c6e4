package api

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestReactionsAPI: members give and take back reactions; the counts,
// who reacted and the caller's own come with the timeline and the live
// stream; a non-member and an unknown reaction are refused.
func TestReactionsAPI(t *testing.T) {
	e := newEnv(t, Config{})
	m := e.post(e.alice, e.room, "we shipped")
	path := fmt.Sprintf("/api/rooms/%d/messages/%d/reactions", e.room.Alias, m.Alias)
	react := func(method string, as *user, kind string) ([]reactionJSON, *response) {
		t.Helper()
		resp := e.do(method, path, req{token: as.token, form: form("reaction", kind)})
		var rs []reactionJSON
		if resp.status == http.StatusOK {
			resp.decode(t, &rs)
		}
		return rs, resp
	}
	stream := e.openStream(t, e.alice, "", nil)

	rs, resp := react("PUT", e.bob, "cracker")
	if resp.status != http.StatusOK || len(rs) != 1 || rs[0].Reaction != "cracker" || rs[0].Count != 1 || !rs[0].Mine ||
		rs[0].Accounts[0].AccountID != e.bob.Alias || rs[0].Accounts[0].Name != "Bob Tanaka" {
		t.Fatalf("bob reacts: %s", resp)
	}
	for {
		ev := stream.next()
		if ev.event == "reaction" {
			if ev.data.Message == nil || ev.data.Message.MessageID != strconv.FormatUint(m.Alias, 10) ||
				len(ev.data.Message.Reactions) != 1 || ev.data.Message.Reactions[0].Mine || ev.data.AccountID != e.bob.Alias {
				t.Fatalf("live reaction event %+v (message %+v)", ev.data, ev.data.Message)
			}
			break
		}
	}
	if rs, resp = react("PUT", e.bob, "cracker"); resp.status != http.StatusOK || rs[0].Count != 1 {
		t.Fatalf("bob reacts again: %s", resp)
	}
	if rs, resp = react("PUT", e.alice, "cracker"); resp.status != http.StatusOK || rs[0].Count != 2 || !rs[0].Mine {
		t.Fatalf("alice reacts: %s", resp)
	}
	if rs, resp = react("PUT", e.alice, "yes"); resp.status != http.StatusOK || len(rs) != 2 || rs[1].Reaction != "yes" {
		t.Fatalf("alice likes: %s", resp)
	}
	for _, c := range []struct {
		name   string
		as     *user
		kind   string
		status int
	}{
		{"unknown reaction", e.bob, "poop", http.StatusBadRequest},
		{"no reaction", e.bob, "", http.StatusBadRequest},
		{"non-member", e.carol, "yes", http.StatusNotFound}, // a room it is not in is not told apart from none
	} {
		if _, resp := react("PUT", c.as, c.kind); resp.status != c.status {
			t.Errorf("%s: %s, want %d", c.name, resp, c.status)
		}
	}
	if resp := e.do("PUT", fmt.Sprintf("/api/rooms/%d/messages/999999/reactions", e.room.Alias),
		req{token: e.bob.token, form: form("reaction", "yes")}); resp.status != http.StatusNotFound {
		t.Errorf("unknown message: %s, want 404", resp)
	}

	if rs, resp = react("DELETE", e.bob, "cracker"); resp.status != http.StatusOK || rs[0].Count != 1 || rs[0].Mine {
		t.Fatalf("bob takes it back: %s", resp)
	}
	hist := e.do("GET", fmt.Sprintf("/api/rooms/%d/messages", e.room.Alias), req{token: e.bob.token})
	var ms []messageJSON
	hist.decode(t, &ms)
	if len(ms) != 1 || len(ms[0].Reactions) != 2 || ms[0].Reactions[0].Count != 1 || ms[0].Reactions[0].Mine ||
		ms[0].Reactions[0].Accounts[0].AccountID != e.alice.Alias {
		t.Fatalf("timeline: %s", hist)
	}
	get := e.do("GET", path, req{token: e.alice.token})
	get.decode(t, &rs)
	if len(rs) != 2 || !rs[0].Mine || !rs[1].Mine {
		t.Fatalf("GET reactions as alice: %s", get)
	}
}

// TestBookmarksAndPins: bookmarks are the caller's own, listed newest
// first with their room; a pinned room leads the caller's room list
// (sticky), and nobody else's.
func TestBookmarksAndPins(t *testing.T) {
	e := newEnv(t, Config{})
	first := e.post(e.alice, e.room, "the plan")
	second := e.post(e.alice, e.room, "the budget")
	mark := func(as *user, m *node.Message) *response {
		return e.do("POST", "/api/bookmarks", req{token: as.token,
			form: form("room_id", strconv.FormatUint(e.room.Alias, 10), "message_id", strconv.FormatUint(m.Alias, 10))})
	}
	list := func(as *user) []bookmarkJSON {
		t.Helper()
		resp := e.do("GET", "/api/bookmarks", req{token: as.token})
		var bs []bookmarkJSON
		resp.decode(t, &bs)
		return bs
	}
	for _, m := range []*node.Message{first, second} {
		if resp := mark(e.bob, m); resp.status != http.StatusOK {
			t.Fatalf("bookmark: %s", resp)
		}
	}
	if resp := mark(e.carol, first); resp.status != http.StatusNotFound {
		t.Errorf("a non-member bookmarks: %s, want 404", resp)
	}
	bs := list(e.bob)
	if len(bs) != 2 || bs[0].Message.Body != "the budget" || bs[1].Message.Body != "the plan" || bs[0].Room.Name != "Launch" || !bs[0].Message.Bookmarked {
		t.Fatalf("bob's bookmarks: %+v", bs)
	}
	if bs := list(e.alice); len(bs) != 0 {
		t.Fatalf("alice's bookmarks: %+v", bs)
	}
	hist := e.do("GET", fmt.Sprintf("/api/rooms/%d/messages", e.room.Alias), req{token: e.bob.token})
	var ms []messageJSON
	hist.decode(t, &ms)
	if len(ms) != 2 || !ms[0].Bookmarked || !ms[1].Bookmarked {
		t.Fatalf("bob's timeline: %s", hist)
	}
	del := e.do("DELETE", fmt.Sprintf("/api/bookmarks/%d/%d", e.room.Alias, first.Alias), req{token: e.bob.token})
	if del.status != http.StatusNoContent {
		t.Fatalf("remove bookmark: %s", del)
	}
	if bs := list(e.bob); len(bs) != 1 || bs[0].Message.Body != "the budget" {
		t.Fatalf("after removing one: %+v", bs)
	}

	// Pins.
	newer := e.newRoom(e.alice, "Newer", e.bob)
	e.post(e.alice, newer, "the newest message")
	rooms := func(as *user) []roomJSON {
		t.Helper()
		resp := e.do("GET", "/v2/rooms", req{token: as.token})
		var rs []roomJSON
		resp.decode(t, &rs)
		return rs
	}
	if rs := rooms(e.bob); rs[0].Name != "Newer" || rs[0].Sticky || rs[1].Sticky {
		t.Fatalf("before pinning: %+v", rs)
	}
	pin := fmt.Sprintf("/api/rooms/%d/pin", e.room.Alias)
	if resp := e.do("PUT", pin, req{token: e.bob.token}); resp.status != http.StatusOK {
		t.Fatalf("pin: %s", resp)
	}
	if rs := rooms(e.bob); rs[0].Name != "Launch" || !rs[0].Sticky || rs[1].Sticky {
		t.Fatalf("pinned: %+v", rs)
	}
	if rs := rooms(e.alice); rs[0].Name != "Newer" || rs[1].Sticky {
		t.Fatalf("alice's list after bob pinned: %+v", rs)
	}
	if resp := e.do("PUT", pin, req{token: e.carol.token}); resp.status != http.StatusNotFound {
		t.Errorf("a non-member pins: %s, want 404", resp)
	}
	if resp := e.do("DELETE", pin, req{token: e.bob.token}); resp.status != http.StatusOK {
		t.Fatalf("unpin: %s", resp)
	}
	if rs := rooms(e.bob); rs[0].Name != "Newer" || rs[1].Sticky {
		t.Fatalf("unpinned: %+v", rs)
	}
}
