package api

import (
	"fmt"
	"testing"
)

func TestHistory(t *testing.T) {
	e := newEnv(t, Config{})
	var aliases []string
	for i := range 7 {
		aliases = append(aliases, fmt.Sprint(e.post(e.alice, e.room, fmt.Sprint("m", i)).Alias))
	}
	other := e.newRoom(e.alice, "Other", e.bob)
	elsewhere := fmt.Sprint(e.post(e.alice, other, "x").Alias)
	hp := fmt.Sprintf("/api/rooms/%d/messages", e.room.Alias)
	bodies := func(want ...string) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			t.Helper()
			var got []string
			for _, m := range decodeAs[[]messageJSON](t, r) {
				got = append(got, m.Body)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("messages = %v, want %v", got, want)
			}
		}
	}
	runCalls(t, e, []call{
		{name: "newest", method: "GET", path: hp, as: e.bob, want: 200, check: bodies("m0", "m1", "m2", "m3", "m4", "m5", "m6")},
		{name: "newest 3", method: "GET", path: hp, as: e.bob, form: kv{"limit": "3"}, want: 200, check: bodies("m4", "m5", "m6")},
		{name: "before", method: "GET", path: hp, as: e.bob, form: kv{"before": aliases[4], "limit": "2"}, want: 200, check: bodies("m2", "m3")},
		{name: "before the first", method: "GET", path: hp, as: e.bob, form: kv{"before": aliases[0]}, want: 200, check: bodies()},
		{name: "after", method: "GET", path: hp, as: e.bob, form: kv{"after": aliases[1], "limit": "3"}, want: 200, check: bodies("m2", "m3", "m4")},
		{name: "after the last", method: "GET", path: hp, as: e.bob, form: kv{"after": aliases[6]}, want: 200, check: bodies()},
		{name: "both", method: "GET", path: hp, as: e.bob, form: kv{"after": aliases[1], "before": aliases[5]}, want: 400},
		{name: "limit 0", method: "GET", path: hp, as: e.bob, form: kv{"limit": "0"}, want: 400},
		{name: "limit 201", method: "GET", path: hp, as: e.bob, form: kv{"limit": "201"}, want: 400},
		{name: "limit 200", method: "GET", path: hp, as: e.bob, form: kv{"limit": "200"}, want: 200},
		{name: "bad cursor", method: "GET", path: hp, as: e.bob, form: kv{"before": "m3"}, want: 400},
		{name: "unknown cursor", method: "GET", path: hp, as: e.bob, form: kv{"before": "99999"}, want: 404},
		{name: "cursor from another room", method: "GET", path: hp, as: e.bob, form: kv{"after": elsewhere}, want: 404},
		{name: "non-member", method: "GET", path: hp, as: e.carol, want: 404},
		{name: "no token", method: "GET", path: hp, want: 401},
	})
}

func TestJoinByLink(t *testing.T) {
	e := newEnv(t, Config{})
	open := e.newRoom(e.alice, "Open")
	gated := e.newRoom(e.alice, "Gated")
	post := func(room uint64, f kv) {
		t.Helper()
		q := form()
		for k, v := range f {
			q.Set(k, v)
		}
		if r := e.do("POST", fmt.Sprintf("/v2/rooms/%d/link", room), req{token: e.alice.token, form: q}); r.status != 200 {
			t.Fatalf("create link = %s", r)
		}
	}
	post(open.Alias, kv{"code": "open-door", "need_acceptance": "0"})
	post(gated.Alias, kv{"code": "gated", "description": "Ask first"})
	jp := fmt.Sprintf("/api/rooms/%d/join_requests", gated.Alias)
	runCalls(t, e, []call{
		{name: "look at a link", method: "GET", path: "/api/links/open-door", as: e.carol, want: 200, check: func(t *testing.T, r *response) {
			got := decodeAs[map[string]any](t, r)
			if got["room_id"] != float64(open.Alias) || got["name"] != "Open" || got["member"] != false || got["need_acceptance"] != false {
				t.Fatalf("link target = %s", r)
			}
		}},
		{name: "unknown link", method: "GET", path: "/api/links/nope", as: e.carol, want: 404},
		{name: "bad code", method: "GET", path: "/api/links/%20x", as: e.carol, want: 404},
		{name: "join", method: "POST", path: "/api/join/open-door", as: e.carol, want: 200, check: func(t *testing.T, r *response) {
			got := decodeAs[map[string]any](t, r)
			if got["room_id"] != float64(open.Alias) || got["pending"] != false {
				t.Fatalf("join = %s", r)
			}
			if _, err := e.node.Room(t.Context(), e.carol.Handle, open.ID); err != nil {
				t.Fatalf("carol is not in the room: %v", err)
			}
		}},
		{name: "join again", method: "POST", path: "/api/join/open-door", as: e.carol, want: 200},
		{name: "join unknown", method: "POST", path: "/api/join/nope", as: e.carol, want: 404},
		{name: "ask to join", method: "POST", path: "/api/join/gated", as: e.carol, form: kv{"message": "Hi, it's Carol"}, want: 202, check: func(t *testing.T, r *response) {
			if got := decodeAs[map[string]any](t, r); got["pending"] != true {
				t.Fatalf("join = %s", r)
			}
		}},
		{name: "ask again", method: "POST", path: "/api/join/gated", as: e.carol, want: 202},
		{name: "bob asks", method: "POST", path: "/api/join/gated", as: e.bob, want: 202},
		{name: "not in yet", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", gated.Alias), as: e.carol, want: 404},
		{name: "requests as non-admin", method: "GET", path: jp, as: e.carol, want: 404},
		{name: "requests", method: "GET", path: jp, as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			got := decodeAs[[]map[string]any](t, r)
			if len(got) != 2 || got[0]["account_id"] != float64(e.carol.Alias) || got[0]["message"] != "Hi, it's Carol" || got[0]["name"] != "Carol Suzuki" {
				t.Fatalf("requests = %s", r)
			}
		}},
		{name: "accept as non-admin", method: "PUT", path: fmt.Sprintf("%s/%d", jp, e.carol.Alias), as: e.carol, want: 404},
		{name: "accept unknown request", method: "PUT", path: fmt.Sprintf("%s/%d", jp, e.alice.Alias), as: e.alice, want: 404},
		{name: "accept", method: "PUT", path: fmt.Sprintf("%s/%d", jp, e.carol.Alias), as: e.alice, want: 204},
		{name: "in now", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", gated.Alias), as: e.carol, want: 200},
		{name: "reject", method: "DELETE", path: fmt.Sprintf("%s/%d", jp, e.bob.Alias), as: e.alice, want: 204},
		{name: "bob is not in", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", gated.Alias), as: e.bob, want: 404},
		{name: "no requests left", method: "GET", path: jp, as: e.alice, want: 200, check: wantLen(0)},
	})
}

func TestPartnersEmpty(t *testing.T) {
	e := newEnv(t, Config{})
	if r := e.do("GET", "/api/partners", req{token: e.bob.token}); r.status != 200 || string(r.body) != "[]\n" {
		t.Fatalf("partners = %s", r)
	}
	if r := e.do("GET", "/api/partners", req{}); r.status != 401 {
		t.Fatalf("partners without token = %s", r)
	}
}
