package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestSystemMessages makes the changes ChatWork posts a system message
// for, with the requests ChatWork clients send, and reads each notice back
// from the room's messages, exactly in ChatWork's notation, attributed to
// the account that made the change, and through its message_id.
func TestSystemMessages(t *testing.T) {
	e := newEnv(t, Config{})
	rp := fmt.Sprintf("/v2/rooms/%d", e.room.Alias)
	mp := rp + "/messages"
	cw := func(u *user, method, path string, kv ...string) *response {
		t.Helper()
		r := e.do(method, path, req{token: u.token, form: form(kv...)})
		if r.status/100 != 2 {
			t.Fatalf("%s %s = %s", method, path, r)
		}
		return r
	}
	// last reads the room's newest message as bob's client does, and
	// follows its message_id.
	last := func(want string, by *user) {
		t.Helper()
		ms := decodeAs[[]messageJSON](t, e.do("GET", mp, req{token: e.bob.token, form: form("force", "1")}))
		if len(ms) == 0 {
			t.Fatalf("no messages, want %s", want)
		}
		m := ms[len(ms)-1]
		if m.Body != want || m.Account.AccountID != by.Alias || m.SendTime == 0 {
			t.Fatalf("newest message = %q by %d, want %q by %s (%d)", m.Body, m.Account.AccountID, want, by.Handle, by.Alias)
		}
		one := decodeAs[messageJSON](t, e.do("GET", mp+"/"+m.MessageID, req{token: e.bob.token}))
		if !reflect.DeepEqual(one, m) {
			t.Fatalf("GET messages/%s = %+v, want %+v", m.MessageID, one, m)
		}
	}

	r := cw(e.alice, "POST", rp+"/tasks", "body", "Buy milk", "to_ids", fmt.Sprint(e.bob.Alias),
		"limit", "1385996399", "limit_type", "date")
	task := decodeAs[map[string][]uint64](t, r)["task_ids"][0]
	task1 := fmt.Sprintf("[task aid=%d st=%%s lt=1385996399 ltype=date]%%s[/task]", e.bob.Alias)
	last("[info][title][dtext:task_added][/title]"+fmt.Sprintf(task1, "open", "Buy milk")+"[/info]", e.alice)

	tk, err := e.node.TaskInRoom(t.Context(), e.alice.Handle, e.room.ID, task)
	if err != nil {
		t.Fatal(err)
	}
	body := "Buy oat milk"
	if _, err := e.node.UpdateTask(t.Context(), e.alice.Handle, tk.ID, node.TaskChange{Body: &body}); err != nil {
		t.Fatal(err)
	}
	last("[info][title][dtext:task_edited][/title]"+fmt.Sprintf(task1, "open", "Buy oat milk")+"[/info]", e.alice)

	cw(e.bob, "PUT", fmt.Sprintf("%s/tasks/%d/status", rp, task), "body", "done")
	last("[info][title][dtext:task_done][/title]"+fmt.Sprintf(task1, "done", "Buy oat milk")+"[/info]", e.bob)

	cw(e.alice, "PUT", rp+"/members", "members_admin_ids", fmt.Sprint(e.alice.Alias),
		"members_member_ids", fmt.Sprintf("%d,%d", e.bob.Alias, e.carol.Alias))
	last(fmt.Sprintf("[info][dtext:chatroom_member_is][piconname:%d][dtext:chatroom_added][/info]", e.carol.Alias), e.alice)

	cw(e.alice, "PUT", rp+"/members", "members_admin_ids", fmt.Sprint(e.alice.Alias),
		"members_member_ids", fmt.Sprint(e.bob.Alias))
	last(fmt.Sprintf("[info][dtext:chatroom_member_is][piconname:%d][dtext:chatroom_deleted][/info]", e.carol.Alias), e.alice)

	cw(e.alice, "PUT", rp, "name", "Groceries")
	last("[info][dtext:chatroom_chatname_is]Groceries[dtext:chatroom_changed][/info]", e.alice)

	cw(e.alice, "PUT", rp, "description", "What we buy")
	last("[info][dtext:chatroom_description_is]What we buy[dtext:chatroom_changed][/info]", e.alice)

	// Notices are not unread, and cannot be edited or deleted.
	ms := decodeAs[[]messageJSON](t, e.do("GET", mp, req{token: e.bob.token, form: form("force", "1")}))
	var notices int
	for _, m := range ms {
		if strings.HasPrefix(m.Body, "[info]") {
			notices++
		}
	}
	if notices != 7 {
		t.Fatalf("%d system messages in %+v, want 7", notices, ms)
	}
	runCalls(t, e, []call{
		{name: "not unread", method: "GET", path: rp, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			if v := decodeAs[map[string]any](t, r); v["unread_num"] != 0.0 || v["mention_num"] != 0.0 {
				t.Errorf("unread %v, mentions %v, want 0", v["unread_num"], v["mention_num"])
			}
		}},
		{name: "not editable", method: "PUT", path: mp + "/" + ms[len(ms)-1].MessageID, as: e.alice, form: kv{"body": "x"}, want: 404},
		{name: "not deletable", method: "DELETE", path: mp + "/" + ms[len(ms)-1].MessageID, as: e.alice, want: 404},
	})

	// Leaving, as ChatWork clients do it: by DELETE with action_type.
	cw(e.bob, "DELETE", rp+"?action_type=leave")
	ms = decodeAs[[]messageJSON](t, e.do("GET", mp, req{token: e.alice.token, form: form("force", "1")}))
	want := fmt.Sprintf("[info][dtext:chatroom_member_is][piconname:%d][dtext:chatroom_leaved][/info]", e.bob.Alias)
	if m := ms[len(ms)-1]; m.Body != want || m.Account.AccountID != e.bob.Alias {
		t.Fatalf("after bob left: %q by %d, want %q by bob", m.Body, m.Account.AccountID, want)
	}
}

// TestSystemMessagePaging pages through messages and notices with the
// unforced list's per-token cursor: each notice comes once, in order.
func TestSystemMessagePaging(t *testing.T) {
	e := newEnv(t, Config{})
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	e.post(e.alice, e.room, "one")
	fetch := func() []string {
		r := e.do("GET", mp, req{token: e.bob.token})
		if r.status == http.StatusNoContent {
			return nil
		}
		var out []string
		for _, m := range decodeAs[[]messageJSON](t, r) {
			out = append(out, m.Body)
		}
		return out
	}
	if got := fetch(); len(got) != 1 {
		t.Fatalf("first fetch %q, want one", got)
	}
	name := "Renamed"
	if err := e.node.UpdateRoom(t.Context(), e.alice.Handle, e.room.ID, node.RoomChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if got := fetch(); len(got) != 1 || !strings.Contains(got[0], "chatroom_chatname_is]Renamed") {
		t.Fatalf("second fetch %q, want the rename", got)
	}
	e.post(e.alice, e.room, "two")
	if got := fetch(); len(got) != 1 || got[0] != "two" {
		t.Fatalf("third fetch %q, want two", got)
	}
	if got := fetch(); got != nil {
		t.Fatalf("fourth fetch %q, want none", got)
	}
}
