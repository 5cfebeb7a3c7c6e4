package api

import (
	"fmt"
	"strconv"
	"testing"
)

// TestTaskLimitAsChatWorkClientsSend creates tasks with the parameters
// ChatWork's own client sends: it always sends limit_type (time by
// default), with or without a limit. A task without a limit has no
// deadline: limit_time 0, limit_type none.
func TestTaskLimitAsChatWorkClientsSend(t *testing.T) {
	e := newEnv(t, Config{})
	tp := fmt.Sprintf("/v2/rooms/%d/tasks", e.room.Alias)
	b := fmt.Sprint(e.bob.Alias)
	for _, tc := range []struct {
		name      string
		form      kv
		wantTime  int64
		wantLimit string
	}{
		{"time without limit", kv{"limit_type": "time"}, 0, "none"},
		{"date without limit", kv{"limit_type": "date"}, 0, "none"},
		{"time with limit 0", kv{"limit_type": "time", "limit": "0"}, 0, "none"},
		{"none with limit", kv{"limit_type": "none", "limit": "1385996399"}, 0, "none"},
		{"no limit at all", kv{}, 0, "none"},
		{"limit without type", kv{"limit": "1385996399"}, 1385996399, "time"},
		{"time with limit", kv{"limit_type": "time", "limit": "1385996399"}, 1385996399, "time"},
		{"date with limit", kv{"limit_type": "date", "limit": "1385996399"}, 1385996399, "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := form("body", "Buy milk", "to_ids", b)
			for k, v := range tc.form {
				f.Set(k, v)
			}
			r := e.do("POST", tp, req{token: e.alice.token, form: f})
			ids := decodeAs[map[string][]uint64](t, r)["task_ids"]
			if r.status != 200 || len(ids) != 1 {
				t.Fatalf("create = %s", r)
			}
			r = e.do("GET", fmt.Sprintf("%s/%d", tp, ids[0]), req{token: e.bob.token})
			v := decodeAs[taskJSON](t, r)
			if r.status != 200 || v.LimitTime != tc.wantTime || v.LimitType != tc.wantLimit {
				t.Fatalf("task = %s, want limit_time %d, limit_type %s", r, tc.wantTime, tc.wantLimit)
			}
		})
	}
}

// TestMentionCountsAsChatWork posts, quotes and deletes through the API as
// ChatWork clients do, and reads bob's counts from /v2/rooms/{id} and
// /v2/my/status: a [To:] inside [qt]…[/qt] is no mention, and a deleted
// message is neither unread nor a mention.
func TestMentionCountsAsChatWork(t *testing.T) {
	e := newEnv(t, Config{})
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	post := func(body string) string {
		t.Helper()
		r := e.do("POST", mp, req{token: e.alice.token, form: form("body", body)})
		if r.status != 200 {
			t.Fatalf("post = %s", r)
		}
		return decodeAs[map[string]string](t, r)["message_id"]
	}
	counts := func(step string, unread, mentions uint64) {
		t.Helper()
		room := decodeAs[map[string]any](t, e.do("GET", fmt.Sprintf("/v2/rooms/%d", e.room.Alias), req{token: e.bob.token}))
		st := decodeAs[map[string]uint64](t, e.do("GET", "/v2/my/status", req{token: e.bob.token}))
		if room["unread_num"] != float64(unread) || room["mention_num"] != float64(mentions) ||
			st["unread_num"] != unread || st["mention_num"] != mentions {
			t.Fatalf("%s: room %v, status %v, want %d unread, %d mentions", step, room, st, unread, mentions)
		}
	}
	to := fmt.Sprintf("[To:%d]", e.bob.Alias)
	post(fmt.Sprintf("[qt][qtmeta aid=%d time=1384242850]%s can you check?[/qt]he asked you earlier", e.bob.Alias, to))
	counts("quoted mention", 1, 0)
	post(fmt.Sprintf("[qt][qt]%s[/qt]%s[/qt]nested", to, to))
	counts("nested quotes", 2, 0)
	id := post(to + " please review")
	counts("mention", 3, 1)
	if r := e.do("PUT", mp+"/"+id, req{token: e.alice.token, form: form("body", "please review")}); r.status != 200 {
		t.Fatalf("edit = %s", r)
	}
	counts("mention edited out", 3, 0)
	if r := e.do("PUT", mp+"/"+id, req{token: e.alice.token, form: form("body", to+" please review!")}); r.status != 200 {
		t.Fatalf("edit = %s", r)
	}
	counts("mention edited in", 3, 1)
	if r := e.do("DELETE", mp+"/"+id, req{token: e.alice.token}); r.status != 200 {
		t.Fatalf("delete = %s", r)
	}
	counts("mention deleted", 2, 0)
}

// TestFetchCursorPerToken has two integrations share one bot account, each
// with its own token, and the account's web session besides: each gets
// every new message once from the unforced list, as in ChatWork.
func TestFetchCursorPerToken(t *testing.T) {
	e := newEnv(t, Config{})
	second, err := e.node.CreateToken(t.Context(), e.bob.Handle, "second integration")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _ := e.login(e.bob)
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	fetch := func(name string, q req, want int) {
		t.Helper()
		r := e.do("GET", mp, q)
		if want == 0 {
			if r.status != 204 {
				t.Fatalf("%s: %s, want 204", name, r)
			}
			return
		}
		if ms := decodeAs[[]messageJSON](t, r); r.status != 200 || len(ms) != want {
			t.Fatalf("%s: %s, want %d messages", name, r, want)
		}
	}
	first, bearer, session := req{token: e.bob.token}, req{header: map[string]string{"Authorization": "Bearer " + second}}, req{cookie: cookie}
	e.post(e.alice, e.room, "one")
	fetch("first token", first, 1)
	fetch("first token again", first, 0)
	fetch("second token", bearer, 1)
	fetch("web session", session, 1)
	e.post(e.alice, e.room, "two")
	fetch("second token sees the new one", bearer, 1)
	fetch("second token again", bearer, 0)
	fetch("first token sees it too", first, 1)
	fetch("force leaves the cursor", req{token: e.bob.token, form: form("force", "1")}, 2)
	fetch("first token after force", first, 0)
}

// TestTaskMessageID reads a task's message_id from the three task lists
// ChatWork clients use, and follows it to the message, as clients do to
// link a task to where it was posted: the task as ChatWork's task_added
// notice.
func TestTaskMessageID(t *testing.T) {
	e := newEnv(t, Config{})
	tp := fmt.Sprintf("/v2/rooms/%d/tasks", e.room.Alias)
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	before := e.post(e.alice, e.room, "before")
	r := e.do("POST", tp, req{token: e.alice.token, form: form("body", "Buy milk", "to_ids", fmt.Sprint(e.bob.Alias),
		"limit", "1385996399", "limit_type", "date")})
	ids := decodeAs[map[string][]uint64](t, r)["task_ids"]
	if r.status != 200 || len(ids) != 1 {
		t.Fatalf("create = %s", r)
	}
	one := decodeAs[taskJSON](t, e.do("GET", fmt.Sprintf("%s/%d", tp, ids[0]), req{token: e.bob.token}))
	if n, err := strconv.ParseUint(one.MessageID, 10, 64); err != nil || n <= before.Alias {
		t.Fatalf("message_id = %q, want a message ID after %d", one.MessageID, before.Alias)
	}
	list := decodeAs[[]taskJSON](t, e.do("GET", tp, req{token: e.bob.token}))
	mine := decodeAs[[]taskJSON](t, e.do("GET", "/v2/my/tasks", req{token: e.bob.token}))
	if len(list) != 1 || list[0].MessageID != one.MessageID || len(mine) != 1 || mine[0].MessageID != one.MessageID {
		t.Fatalf("message_id in the room's tasks %v and my tasks %v, want %s", list, mine, one.MessageID)
	}
	r = e.do("GET", mp+"/"+one.MessageID, req{token: e.bob.token})
	m := decodeAs[messageJSON](t, r)
	want := fmt.Sprintf("[info][title][dtext:task_added][/title][task aid=%d st=open lt=1385996399 ltype=date]Buy milk[/task][/info]", e.bob.Alias)
	if r.status != 200 || m.MessageID != one.MessageID || m.Body != want || m.Account.AccountID != e.alice.Alias || m.SendTime == 0 {
		t.Fatalf("the task's message = %s, want body %s by alice", r, want)
	}
	other := e.newRoom(e.alice, "Other", e.bob)
	runCalls(t, e, []call{
		{name: "in another room", method: "GET", path: fmt.Sprintf("/v2/rooms/%d/messages/%s", other.Alias, one.MessageID), as: e.bob, want: 404},
		{name: "as a non-member", method: "GET", path: mp + "/" + one.MessageID, as: e.carol, want: 404},
		{name: "not editable", method: "PUT", path: mp + "/" + one.MessageID, as: e.alice, form: kv{"body": "x"}, want: 404},
	})
}
