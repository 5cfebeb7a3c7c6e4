package api

import (
	"crypto/ed25519"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// call is one case of an endpoint table: a request and what must come
// back. Cases of one table run in order and may build on each other.
type call struct {
	name   string
	method string
	path   string
	as     *user // nil: no credentials
	form   kv
	want   int
	check  func(t *testing.T, r *response)
}

type kv = map[string]string

func runCalls(t *testing.T, e *env, calls []call) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			q := req{}
			if c.as != nil {
				q.token = c.as.token
			}
			if c.form != nil {
				q.form = form()
				for k, v := range c.form {
					q.form.Set(k, v)
				}
			}
			r := e.do(c.method, c.path, q)
			if r.status != c.want {
				t.Fatalf("%s %s = %s, want %d", c.method, c.path, r, c.want)
			}
			if r.status >= 400 {
				r.errors(t)
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func decodeAs[T any](t *testing.T, r *response) T {
	t.Helper()
	var v T
	r.decode(t, &v)
	return v
}

func TestMeAndStatus(t *testing.T) {
	e := newEnv(t, Config{})
	e.post(e.alice, e.room, fmt.Sprintf("[To:%s] welcome", e.bob.ID))
	e.post(e.alice, e.room, "second")
	if _, err := e.node.CreateTask(t.Context(), e.alice.Handle, e.room.ID, node.NewTask{Body: "review", Assignees: []protocol.AccountID{e.bob.ID}}); err != nil {
		t.Fatal(err)
	}
	runCalls(t, e, []call{
		{name: "me", method: "GET", path: "/v2/me", as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			me := decodeAs[meJSON](t, r)
			my, _ := e.node.Room(t.Context(), e.alice.Handle, e.alice.MyChat)
			if me.AccountID != e.alice.Alias || me.Name != "Alice Sato" || me.ChatworkID != "alice" ||
				me.OrgName != "Acme" || me.Mail != "alice@acme.example" || me.RoomID != my.Alias {
				t.Fatalf("me = %+v", me)
			}
		}},
		{name: "me without token", method: "GET", path: "/v2/me", want: 401},
		{name: "status", method: "GET", path: "/v2/my/status", as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			st := decodeAs[map[string]int](t, r)
			want := map[string]int{"unread_room_num": 1, "mention_room_num": 1, "mytask_room_num": 1,
				"unread_num": 2, "mention_num": 1, "mytask_num": 1}
			for k, v := range want {
				if st[k] != v {
					t.Fatalf("status = %v, want %v", st, want)
				}
			}
		}},
		{name: "my tasks", method: "GET", path: "/v2/my/tasks", as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			ts := decodeAs[[]taskJSON](t, r)
			if len(ts) != 1 || ts[0].Room == nil || ts[0].Room.RoomID != e.room.Alias || ts[0].Room.Name != "Launch" ||
				ts[0].AssignedBy.AccountID != e.alice.Alias || ts[0].Body != "review" || ts[0].Status != "open" || ts[0].LimitType != "none" {
				t.Fatalf("my tasks = %s", r)
			}
		}},
		{name: "my done tasks", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"status": "done"}, want: 200, check: wantLen(0)},
		{name: "my tasks by alice", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"assigned_by_account_id": fmt.Sprint(e.alice.Alias)}, want: 200, check: wantLen(1)},
		{name: "my tasks by bob", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"assigned_by_account_id": fmt.Sprint(e.bob.Alias)}, want: 200, check: wantLen(0)},
		{name: "my tasks bad status", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"status": "closed"}, want: 400},
		{name: "my tasks unknown assigner", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"assigned_by_account_id": "9999"}, want: 400},
		{name: "my tasks bad assigner", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"assigned_by_account_id": "-1"}, want: 400},
	})
}

// wantLen checks a JSON array response's length.
func wantLen(n int) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		var v []any
		r.decode(t, &v)
		if len(v) != n {
			t.Fatalf("got %d items, want %d: %s", len(v), n, r)
		}
	}
}

func TestRooms(t *testing.T) {
	e := newEnv(t, Config{})
	rp := fmt.Sprintf("/v2/rooms/%d", e.room.Alias)
	spare := e.newRoom(e.alice, "Spare", e.bob)
	doomed := e.newRoom(e.alice, "Doomed", e.bob, e.carol)
	ids := func(us ...*user) string {
		var s []string
		for _, u := range us {
			s = append(s, fmt.Sprint(u.Alias))
		}
		return strings.Join(s, ",")
	}
	var created uint64
	runCalls(t, e, []call{
		{name: "list", method: "GET", path: "/v2/rooms", as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			rs := decodeAs[[]roomJSON](t, r)
			found := false
			for _, x := range rs {
				if x.RoomID == e.room.Alias {
					found = x.Name == "Launch" && x.Type == "group" && x.Role == "member" && x.Description == nil
				}
			}
			if !found || len(rs) != 4 { // my chat, Launch, Spare, Doomed
				t.Fatalf("rooms = %s", r)
			}
		}},
		{name: "get", method: "GET", path: rp, as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			x := decodeAs[roomJSON](t, r)
			if x.RoomID != e.room.Alias || x.Role != "admin" || x.Description == nil {
				t.Fatalf("room = %s", r)
			}
		}},
		{name: "get as non-member", method: "GET", path: rp, as: e.carol, want: 404},
		{name: "get unknown", method: "GET", path: "/v2/rooms/999999", as: e.alice, want: 404},
		{name: "get bad id", method: "GET", path: "/v2/rooms/abc", as: e.alice, want: 400},
		{name: "get zero id", method: "GET", path: "/v2/rooms/0", as: e.alice, want: 400},
		{name: "get negative id", method: "GET", path: "/v2/rooms/-4", as: e.alice, want: 400},
		{name: "get huge id", method: "GET", path: "/v2/rooms/99999999999999999999999", as: e.alice, want: 400},
		{name: "create without name", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"members_admin_ids": ids(e.alice)}, want: 400},
		{name: "create with empty name", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "", "members_admin_ids": ids(e.alice)}, want: 400},
		{name: "create with long name", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": strings.Repeat("名", 256), "members_admin_ids": ids(e.alice)}, want: 400},
		{name: "create without admins", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x"}, want: 400},
		{name: "create bad ids", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": "1,x"}, want: 400},
		{name: "create unknown account", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": "1,9999"}, want: 400},
		{name: "create account in two lists", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": ids(e.alice), "members_member_ids": ids(e.bob), "members_readonly_ids": ids(e.bob)}, want: 400},
		{name: "create bad icon", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": ids(e.alice), "icon_preset": "cat"}, want: 400},
		{name: "create bad link flag", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": ids(e.alice), "link": "yes"}, want: 400},
		{name: "create bad link code", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": ids(e.alice), "link": "1", "link_code": "no spaces"}, want: 400},
		{name: "create", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "Website renewal", "description": "d",
			"icon_preset": "meeting", "members_admin_ids": ids(e.alice, e.bob), "members_readonly_ids": ids(e.carol),
			"link": "1", "link_code": "renewal", "link_need_acceptance": "0"}, want: 200, check: func(t *testing.T, r *response) {
			created = decodeAs[map[string]uint64](t, r)["room_id"]
			id, err := e.node.RoomByAlias(t.Context(), created)
			if err != nil {
				t.Fatal(err)
			}
			room, err := e.node.Room(t.Context(), e.carol.Handle, id)
			if err != nil || room.Role != protocol.RoleReadonly || room.Icon != "meeting" || room.Description != "d" || len(room.Members) != 3 {
				t.Fatalf("created room = %+v %v", room, err)
			}
			l, err := e.node.RoomLink(t.Context(), e.carol.Handle, id)
			if err != nil || l.Code != "renewal" || l.NeedAcceptance {
				t.Fatalf("link = %+v %v", l, err)
			}
		}},
		{name: "create with taken link code", method: "POST", path: "/v2/rooms", as: e.alice, form: kv{"name": "x", "members_admin_ids": ids(e.alice), "link": "1", "link_code": "renewal"}, want: 409},
		{name: "update by member", method: "PUT", path: rp, as: e.bob, form: kv{"name": "Mine"}, want: 403},
		{name: "update nothing", method: "PUT", path: rp, as: e.alice, form: kv{}, want: 400},
		{name: "update long name", method: "PUT", path: rp, as: e.alice, form: kv{"name": strings.Repeat("a", 256)}, want: 400},
		{name: "update", method: "PUT", path: rp, as: e.alice, form: kv{"name": "Launch 2", "icon_preset": "star"}, want: 200, check: func(t *testing.T, r *response) {
			if decodeAs[map[string]uint64](t, r)["room_id"] != e.room.Alias {
				t.Fatalf("update = %s", r)
			}
			room, _ := e.node.Room(t.Context(), e.alice.Handle, e.room.ID)
			if room.Name != "Launch 2" || room.Icon != "star" {
				t.Fatalf("room after update = %+v", room)
			}
		}},
		{name: "update my chat name", method: "PUT", path: fmt.Sprintf("/v2/rooms/%d", myChat(t, e, e.alice)), as: e.alice, form: kv{"name": "Notes"}, want: 200},
		{name: "delete without action", method: "DELETE", path: rp, as: e.alice, want: 400},
		{name: "delete bad action", method: "DELETE", path: rp + "?action_type=vanish", as: e.alice, want: 400},
		{name: "delete as member", method: "DELETE", path: fmt.Sprintf("/v2/rooms/%d?action_type=delete", doomed.Alias), as: e.bob, want: 403},
		{name: "leave (query)", method: "DELETE", path: fmt.Sprintf("/v2/rooms/%d?action_type=leave", spare.Alias), as: e.bob, want: 204, check: func(t *testing.T, r *response) {
			if len(r.body) != 0 {
				t.Fatalf("204 with a body: %q", r.body)
			}
		}},
		{name: "left room is gone", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", spare.Alias), as: e.bob, want: 404},
		{name: "last admin cannot leave", method: "DELETE", path: fmt.Sprintf("/v2/rooms/%d", e.room.Alias), as: e.alice, form: kv{"action_type": "leave"}, want: 403},
		{name: "delete (body)", method: "DELETE", path: fmt.Sprintf("/v2/rooms/%d", doomed.Alias), as: e.alice, form: kv{"action_type": "delete"}, want: 204},
		{name: "deleted room is gone for admin", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", doomed.Alias), as: e.alice, want: 404},
		{name: "deleted room is gone for members", method: "GET", path: fmt.Sprintf("/v2/rooms/%d", doomed.Alias), as: e.carol, want: 404},
		{name: "cannot leave my chat", method: "DELETE", path: fmt.Sprintf("/v2/rooms/%d?action_type=leave", myChat(t, e, e.alice)), as: e.alice, want: 403},
	})
}

func myChat(t *testing.T, e *env, u *user) uint64 {
	t.Helper()
	r, err := e.node.Room(t.Context(), u.Handle, u.MyChat)
	if err != nil {
		t.Fatal(err)
	}
	return r.Alias
}

func TestMembers(t *testing.T) {
	e := newEnv(t, Config{})
	dave := e.newUser("dave", "Dave")
	mp := fmt.Sprintf("/v2/rooms/%d/members", e.room.Alias)
	a, b, c, d := fmt.Sprint(e.alice.Alias), fmt.Sprint(e.bob.Alias), fmt.Sprint(e.carol.Alias), fmt.Sprint(dave.Alias)
	runCalls(t, e, []call{
		{name: "list", method: "GET", path: mp, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			ms := decodeAs[[]memberJSON](t, r)
			if len(ms) != 2 || ms[0].AccountID != e.alice.Alias || ms[0].Role != "admin" || ms[0].Name != "Alice Sato" ||
				ms[0].ChatworkID != "alice" || ms[0].OrgName != "Acme" || ms[1].Role != "member" {
				t.Fatalf("members = %s", r)
			}
		}},
		{name: "list as non-member", method: "GET", path: mp, as: e.carol, want: 404},
		{name: "set by member", method: "PUT", path: mp, as: e.bob, form: kv{"members_admin_ids": b}, want: 403},
		{name: "set without admins", method: "PUT", path: mp, as: e.alice, form: kv{"members_member_ids": b}, want: 400},
		{name: "set bad list", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": a + ",,"}, want: 400},
		{name: "set duplicate", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": a + "," + a}, want: 400},
		{name: "set", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": a + "," + b, "members_member_ids": c, "members_readonly_ids": d}, want: 200, check: func(t *testing.T, r *response) {
			got := decodeAs[map[string][]uint64](t, r)
			if fmt.Sprint(got) != fmt.Sprintf("map[admin:[%s %s] member:[%s] readonly:[%s]]", a, b, c, d) {
				t.Fatalf("set members = %v", got)
			}
		}},
		{name: "set with POST, dropping carol and demoting bob", method: "POST", path: mp, as: e.alice, form: kv{"members_admin_ids": a, "members_member_ids": b + "," + d}, want: 200, check: func(t *testing.T, r *response) {
			room, err := e.node.Room(t.Context(), e.alice.Handle, e.room.ID)
			if err != nil {
				t.Fatal(err)
			}
			roles := map[uint64]protocol.Role{}
			for _, m := range room.Members {
				roles[m.Alias] = m.Role
			}
			want := map[uint64]protocol.Role{e.alice.Alias: "admin", e.bob.Alias: "member", dave.Alias: "member"}
			if fmt.Sprint(roles) != fmt.Sprint(want) {
				t.Fatalf("roles = %v, want %v", roles, want)
			}
		}},
		{name: "demote myself last", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": b, "members_member_ids": a + "," + d, "members_readonly_ids": c}, want: 200, check: func(t *testing.T, r *response) {
			room, err := e.node.Room(t.Context(), e.alice.Handle, e.room.ID)
			if err != nil || room.Role != protocol.RoleMember || len(room.Members) != 4 {
				t.Fatalf("after demoting myself: %+v %v", room, err)
			}
		}},
		{name: "no longer admin", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": a}, want: 403},
		{name: "restore", method: "PUT", path: mp, as: e.bob, form: kv{"members_admin_ids": a + "," + b, "members_member_ids": d}, want: 200},
		{name: "hand over and leave", method: "PUT", path: mp, as: e.alice, form: kv{"members_admin_ids": b, "members_member_ids": d}, want: 200},
		{name: "alice is out", method: "GET", path: mp, as: e.alice, want: 404},
		{name: "set in direct chat", method: "PUT", path: fmt.Sprintf("/v2/rooms/%d/members", direct(t, e).Alias), as: e.alice, form: kv{"members_admin_ids": a}, want: 403},
	})
}

func direct(t *testing.T, e *env) *node.Room {
	t.Helper()
	r, err := e.node.DirectRoom(t.Context(), e.alice.Handle, e.carol.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMessages(t *testing.T) {
	e := newEnv(t, Config{})
	other := e.newRoom(e.alice, "Other", e.bob)
	otherMsg := e.post(e.alice, other, "elsewhere")
	m1 := e.post(e.alice, e.room, "one")
	m2 := e.post(e.alice, e.room, "two")
	mp := fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias)
	one := fmt.Sprintf("%s/%d", mp, m1.Alias)
	var posted string
	runCalls(t, e, []call{
		{name: "fetch new", method: "GET", path: mp, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			ms := decodeAs[[]messageJSON](t, r)
			if len(ms) != 2 || ms[0].Body != "one" || ms[1].Body != "two" || ms[0].Account.AccountID != e.alice.Alias ||
				ms[0].Account.Name != "Alice Sato" || ms[0].MessageID != fmt.Sprint(m1.Alias) || ms[0].SendTime != m1.Time/1000 {
				t.Fatalf("messages = %s", r)
			}
		}},
		{name: "fetch again: nothing new", method: "GET", path: mp, as: e.bob, want: 204, check: func(t *testing.T, r *response) {
			if len(r.body) != 0 {
				t.Fatalf("204 with body %q", r.body)
			}
		}},
		{name: "force", method: "GET", path: mp, as: e.bob, form: kv{"force": "1"}, want: 200, check: wantLen(2)},
		{name: "force=0 is a fetch", method: "GET", path: mp, as: e.bob, form: kv{"force": "0"}, want: 204},
		{name: "bad force", method: "GET", path: mp, as: e.bob, form: kv{"force": "2"}, want: 400},
		{name: "list as non-member", method: "GET", path: mp, as: e.carol, want: 404},
		{name: "post without body", method: "POST", path: mp, as: e.bob, form: kv{}, want: 400},
		{name: "post empty body", method: "POST", path: mp, as: e.bob, form: kv{"body": ""}, want: 400},
		{name: "post too long", method: "POST", path: mp, as: e.bob, form: kv{"body": strings.Repeat("x", 65536)}, want: 400},
		{name: "post over the node's size", method: "POST", path: mp, as: e.bob, form: kv{"body": strings.Repeat("あ", 20000)}, want: 400},
		{name: "post bad self_unread", method: "POST", path: mp, as: e.bob, form: kv{"body": "x", "self_unread": "yes"}, want: 400},
		{name: "post as non-member", method: "POST", path: mp, as: e.carol, form: kv{"body": "x"}, want: 404},
		{name: "post", method: "POST", path: mp, as: e.bob, form: kv{"body": "three", "self_unread": "1"}, want: 200, check: func(t *testing.T, r *response) {
			posted = decodeAs[map[string]string](t, r)["message_id"]
			if _, err := strconv.ParseUint(posted, 10, 64); err != nil {
				t.Fatalf("message_id = %q", posted)
			}
		}},
		{name: "fetch sees the new one", method: "GET", path: mp, as: e.bob, want: 200, check: wantLen(1)},
		{name: "get", method: "GET", path: one, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			if m := decodeAs[messageJSON](t, r); m.Body != "one" || m.UpdateTime != 0 {
				t.Fatalf("message = %s", r)
			}
		}},
		{name: "get unknown", method: "GET", path: mp + "/99999", as: e.bob, want: 404},
		{name: "get bad id", method: "GET", path: mp + "/abc", as: e.bob, want: 400},
		{name: "get from another room", method: "GET", path: fmt.Sprintf("%s/%d", mp, otherMsg.Alias), as: e.bob, want: 404},
		{name: "get as non-member", method: "GET", path: one, as: e.carol, want: 404},
		{name: "edit someone else's", method: "PUT", path: one, as: e.bob, form: kv{"body": "mine now"}, want: 403},
		{name: "edit without body", method: "PUT", path: one, as: e.alice, form: kv{}, want: 400},
		{name: "edit", method: "PUT", path: one, as: e.alice, form: kv{"body": "one, edited"}, want: 200, check: func(t *testing.T, r *response) {
			if decodeAs[map[string]string](t, r)["message_id"] != fmt.Sprint(m1.Alias) {
				t.Fatalf("edit = %s", r)
			}
		}},
		{name: "edited", method: "GET", path: one, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			if m := decodeAs[messageJSON](t, r); m.Body != "one, edited" || m.UpdateTime == 0 {
				t.Fatalf("message = %s", r)
			}
		}},
		{name: "delete someone else's", method: "DELETE", path: fmt.Sprintf("%s/%s", mp, "1"), as: e.carol, want: 404},
		{name: "delete by member", method: "DELETE", path: fmt.Sprintf("%s/%d", mp, m2.Alias), as: e.bob, want: 403},
		{name: "delete", method: "DELETE", path: fmt.Sprintf("%s/%d", mp, m2.Alias), as: e.alice, want: 200},
		{name: "deleted", method: "GET", path: fmt.Sprintf("%s/%d", mp, m2.Alias), as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			if m := decodeAs[messageJSON](t, r); m.Body != "[deleted]" {
				t.Fatalf("deleted message = %s", r)
			}
		}},
	})
}

func TestReadUnread(t *testing.T) {
	e := newEnv(t, Config{})
	m1 := e.post(e.alice, e.room, "one")
	e.post(e.alice, e.room, fmt.Sprintf("[To:%s] two", e.bob.ID))
	m3 := e.post(e.alice, e.room, "three")
	other := e.newRoom(e.alice, "Other", e.bob)
	otherMsg := e.post(e.alice, other, "x")
	rp := fmt.Sprintf("/v2/rooms/%d/messages/read", e.room.Alias)
	up := fmt.Sprintf("/v2/rooms/%d/messages/unread", e.room.Alias)
	counts := func(unread, mentions uint64) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			got := decodeAs[map[string]uint64](t, r)
			if got["unread_num"] != unread || got["mention_num"] != mentions {
				t.Fatalf("counts = %v, want %d unread, %d mentions", got, unread, mentions)
			}
		}
	}
	runCalls(t, e, []call{
		{name: "read up to one", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": fmt.Sprint(m1.Alias)}, want: 200, check: counts(2, 1)},
		{name: "read one again", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": fmt.Sprint(m1.Alias)}, want: 400},
		{name: "read unknown", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": "99999"}, want: 404},
		{name: "read bad id", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": "x"}, want: 400},
		{name: "read message of another room", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": fmt.Sprint(otherMsg.Alias)}, want: 404},
		{name: "read all", method: "PUT", path: rp, as: e.bob, want: 200, check: counts(0, 0)},
		{name: "read three when all read", method: "PUT", path: rp, as: e.bob, form: kv{"message_id": fmt.Sprint(m3.Alias)}, want: 400},
		{name: "unread without id", method: "PUT", path: up, as: e.bob, want: 400},
		{name: "unread unknown", method: "PUT", path: up, as: e.bob, form: kv{"message_id": "99999"}, want: 404},
		{name: "unread from one", method: "PUT", path: up, as: e.bob, form: kv{"message_id": fmt.Sprint(m1.Alias)}, want: 200, check: counts(3, 1)},
		{name: "read as non-member", method: "PUT", path: rp, as: e.carol, want: 404},
	})
}

func TestTasks(t *testing.T) {
	e := newEnv(t, Config{})
	other := e.newRoom(e.alice, "Other", e.bob)
	ot, err := e.node.CreateTask(t.Context(), e.alice.Handle, other.ID, node.NewTask{Body: "elsewhere", Assignees: []protocol.AccountID{e.bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	tp := fmt.Sprintf("/v2/rooms/%d/tasks", e.room.Alias)
	a, b := fmt.Sprint(e.alice.Alias), fmt.Sprint(e.bob.Alias)
	if r := e.do("GET", tp, req{token: e.bob.token}); r.status != 200 || string(r.body) != "[]\n" {
		t.Fatalf("empty task list = %s", r)
	}
	r := e.do("POST", tp, req{token: e.alice.token, form: form("body", "Buy milk", "to_ids", a+","+b, "limit", "1385996399", "limit_type", "date")})
	taskIDs := decodeAs[map[string][]uint64](t, r)["task_ids"]
	if r.status != 200 || len(taskIDs) != 2 {
		t.Fatalf("create = %s, want two tasks", r)
	}
	first := fmt.Sprintf("%s/%d", tp, taskIDs[1]) // bob's
	runCalls(t, e, []call{
		{name: "create without body", method: "POST", path: tp, as: e.alice, form: kv{"to_ids": b}, want: 400},
		{name: "create without assignees", method: "POST", path: tp, as: e.alice, form: kv{"body": "x"}, want: 400},
		{name: "create for non-member", method: "POST", path: tp, as: e.alice, form: kv{"body": "x", "to_ids": fmt.Sprint(e.carol.Alias)}, want: 400},
		{name: "create for unknown", method: "POST", path: tp, as: e.alice, form: kv{"body": "x", "to_ids": "9999"}, want: 400},
		{name: "create bad limit", method: "POST", path: tp, as: e.alice, form: kv{"body": "x", "to_ids": b, "limit": "tomorrow"}, want: 400},
		{name: "create bad limit type", method: "POST", path: tp, as: e.alice, form: kv{"body": "x", "to_ids": b, "limit_type": "week"}, want: 400},
		{name: "create as non-member", method: "POST", path: tp, as: e.carol, form: kv{"body": "x", "to_ids": b}, want: 404},
		{name: "list", method: "GET", path: tp, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			ts := decodeAs[[]taskJSON](t, r)
			if len(ts) != 2 || ts[0].Account == nil || ts[0].Account.AccountID != e.alice.Alias || ts[1].Account.AccountID != e.bob.Alias ||
				ts[0].AssignedBy.AccountID != e.alice.Alias || ts[0].LimitTime != 1385996399 || ts[0].LimitType != "date" ||
				ts[0].Room != nil || ts[0].Body != "Buy milk" || ts[0].Status != "open" {
				t.Fatalf("tasks = %s", r)
			}
		}},
		{name: "list bob's", method: "GET", path: tp, as: e.bob, form: kv{"account_id": b}, want: 200, check: func(t *testing.T, r *response) {
			ts := decodeAs[[]taskJSON](t, r)
			if len(ts) != 1 || ts[0].Account.AccountID != e.bob.Alias {
				t.Fatalf("bob's tasks = %s", r)
			}
		}},
		{name: "list by bob", method: "GET", path: tp, as: e.bob, form: kv{"assigned_by_account_id": b}, want: 200, check: wantLen(0)},
		{name: "list done", method: "GET", path: tp, as: e.bob, form: kv{"status": "done"}, want: 200, check: wantLen(0)},
		{name: "list bad status", method: "GET", path: tp, as: e.bob, form: kv{"status": "all"}, want: 400},
		{name: "list bad account", method: "GET", path: tp, as: e.bob, form: kv{"account_id": "x"}, want: 400},
		{name: "list as non-member", method: "GET", path: tp, as: e.carol, want: 404},
		{name: "get", method: "GET", path: first, as: e.bob, want: 200, check: func(t *testing.T, r *response) {
			if v := decodeAs[taskJSON](t, r); v.TaskID != taskIDs[1] || v.Account.AccountID != e.bob.Alias {
				t.Fatalf("task = %s", r)
			}
		}},
		{name: "get unknown", method: "GET", path: tp + "/99999", as: e.bob, want: 404},
		{name: "get bad id", method: "GET", path: tp + "/x", as: e.bob, want: 400},
		{name: "get from another room", method: "GET", path: fmt.Sprintf("%s/%d", tp, ot.Alias), as: e.bob, want: 404},
		{name: "get as non-member", method: "GET", path: first, as: e.carol, want: 404},
		{name: "status without body", method: "PUT", path: first + "/status", as: e.bob, form: kv{}, want: 400},
		{name: "status bad", method: "PUT", path: first + "/status", as: e.bob, form: kv{"body": "finished"}, want: 400},
		{name: "status done", method: "PUT", path: first + "/status", as: e.bob, form: kv{"body": "done"}, want: 200, check: func(t *testing.T, r *response) {
			if decodeAs[map[string]uint64](t, r)["task_id"] != taskIDs[1] {
				t.Fatalf("status = %s", r)
			}
		}},
		{name: "done list", method: "GET", path: tp, as: e.bob, form: kv{"status": "done"}, want: 200, check: wantLen(1)},
		{name: "my done tasks", method: "GET", path: "/v2/my/tasks", as: e.bob, form: kv{"status": "done"}, want: 200, check: wantLen(1)},
		{name: "status as non-member", method: "PUT", path: first + "/status", as: e.carol, form: kv{"body": "open"}, want: 404},
	})
}

func TestLinks(t *testing.T) {
	e := newEnv(t, Config{PublicURL: "https://chat.acme.example/"})
	lp := fmt.Sprintf("/v2/rooms/%d/link", e.room.Alias)
	link := func(public bool, url string, need bool, desc string) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			t.Helper()
			got := decodeAs[map[string]any](t, r)
			want := map[string]any{"public": public}
			if public {
				want = map[string]any{"public": true, "url": url, "need_acceptance": need, "description": desc}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("link = %v, want %v", got, want)
			}
		}
	}
	runCalls(t, e, []call{
		{name: "none yet", method: "GET", path: lp, as: e.bob, want: 200, check: link(false, "", false, "")},
		{name: "get as non-member", method: "GET", path: lp, as: e.carol, want: 404},
		{name: "create as member", method: "POST", path: lp, as: e.bob, form: kv{}, want: 403},
		{name: "create bad code", method: "POST", path: lp, as: e.alice, form: kv{"code": "a b"}, want: 400},
		{name: "create long code", method: "POST", path: lp, as: e.alice, form: kv{"code": strings.Repeat("a", 51)}, want: 400},
		{name: "create bad flag", method: "POST", path: lp, as: e.alice, form: kv{"need_acceptance": "sure"}, want: 400},
		{name: "create", method: "POST", path: lp, as: e.alice, form: kv{"code": "launch", "description": "Come in"}, want: 200,
			check: link(true, "https://chat.acme.example/g/launch", true, "Come in")},
		{name: "create again", method: "POST", path: lp, as: e.alice, form: kv{"code": "other"}, want: 409},
		{name: "get", method: "GET", path: lp, as: e.bob, want: 200, check: link(true, "https://chat.acme.example/g/launch", true, "Come in")},
		{name: "update as member", method: "PUT", path: lp, as: e.bob, form: kv{"need_acceptance": "0"}, want: 403},
		{name: "update bad code", method: "PUT", path: lp, as: e.alice, form: kv{"code": "ü"}, want: 400},
		{name: "update", method: "PUT", path: lp, as: e.alice, form: kv{"code": "another_link-name", "need_acceptance": "0"}, want: 200,
			check: link(true, "https://chat.acme.example/g/another_link-name", false, "Come in")},
		{name: "delete as member", method: "DELETE", path: lp, as: e.bob, want: 403},
		{name: "delete", method: "DELETE", path: lp, as: e.alice, want: 200, check: link(false, "", false, "")},
		{name: "delete again", method: "DELETE", path: lp, as: e.alice, want: 404},
		{name: "update none", method: "PUT", path: lp, as: e.alice, form: kv{"need_acceptance": "1"}, want: 404},
		{name: "link of my chat", method: "POST", path: fmt.Sprintf("/v2/rooms/%d/link", myChat(t, e, e.alice)), as: e.alice, form: kv{}, want: 403},
	})
}

// TestPartnerAccounts checks that an account of another node, once it is
// in one of this node's rooms, is an ordinary account to ChatWork clients:
// it has an account_id, is listed with its name, and mentions of it
// translate both ways.
func TestPartnerAccounts(t *testing.T) {
	e := newEnv(t, Config{})
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	zoe := protocol.NewAccountID(protocol.NodeIDFromKey(pub), "zoe")
	r, err := e.node.CreateRoom(t.Context(), e.alice.Handle, node.NewRoom{Name: "With partner", Members: []node.MemberSpec{{Account: zoe}}})
	if err != nil {
		t.Fatal(err)
	}
	var zoeAlias uint64
	resp := e.do("GET", fmt.Sprintf("/v2/rooms/%d/members", r.Alias), req{token: e.alice.token})
	for _, m := range decodeAs[[]memberJSON](t, resp) {
		if m.ChatworkID == "zoe" {
			zoeAlias = m.AccountID
		}
	}
	if zoeAlias == 0 {
		t.Fatalf("members = %s", resp)
	}
	resp = e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", r.Alias), req{token: e.alice.token, form: form("body", fmt.Sprintf("[To:%d] hi", zoeAlias))})
	id := decodeAs[map[string]string](t, resp)["message_id"]
	var alias uint64
	fmt.Sscan(id, &alias)
	if got := e.bodyOf(e.alice, alias); got != "[To:"+string(zoe)+"] hi" {
		t.Fatalf("stored body = %q", got)
	}
	resp = e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%s", r.Alias, id), req{token: e.alice.token})
	if m := decodeAs[messageJSON](t, resp); m.Body != fmt.Sprintf("[To:%d] hi", zoeAlias) {
		t.Fatalf("read back = %s", resp)
	}
	resp = e.do("POST", fmt.Sprintf("/v2/rooms/%d/tasks", r.Alias), req{token: e.alice.token, form: form("body", "for zoe", "to_ids", fmt.Sprint(zoeAlias))})
	if resp.status != 200 {
		t.Fatalf("task for a partner's account = %s", resp)
	}
}

// TestOrganizationIDs: organization_id is the same for the people of one
// node, in /v2/me and the member list alike, different for a
// partner's, never 0, and worked out from the node's ID alone (every
// node gives an organization the same number).
func TestOrganizationIDs(t *testing.T) {
	e := newEnv(t, Config{})
	_, key, _ := ed25519.GenerateKey(nil)
	partner := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	zed := protocol.NewAccountID(partner, "zed")
	if err := e.node.AddMembers(t.Context(), e.alice.Handle, e.room.ID, []node.MemberSpec{{Account: zed}}); err != nil {
		t.Fatal(err)
	}
	ours, theirs := orgID(e.node.ID()), orgID(partner)
	if ours == 0 || theirs == 0 || ours == theirs || orgID(e.node.ID()) != ours {
		t.Fatalf("organization IDs %d (ours), %d (the partner's)", ours, theirs)
	}
	runCalls(t, e, []call{
		{name: "me", method: "GET", path: "/v2/me", as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			if got := decodeAs[meJSON](t, r).OrgID; got != ours {
				t.Fatalf("my organization_id = %d, want %d", got, ours)
			}
		}},
		{name: "members", method: "GET", path: fmt.Sprintf("/v2/rooms/%d/members", e.room.Alias), as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			ms := decodeAs[[]memberJSON](t, r)
			got := map[string]int{}
			for _, m := range ms {
				got[m.ChatworkID] = m.OrgID
			}
			if got["alice"] != ours || got["bob"] != ours || got["zed"] != theirs {
				t.Fatalf("organization_id by member = %v, want %d for alice and bob, %d for zed", got, ours, theirs)
			}
		}},
	})
}
