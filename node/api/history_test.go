package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestRoomHistory drives GET and PUT /api/rooms/{room_id}/history in the
// order of its cases: any member reads the settings, only an admin
// changes them, bad values and strangers get ChatWork's error shape.
// Then, with visibility "joined", carol, added after bob posted, reads
// bob's message as deleted through the ChatWork API, and alice's later
// one in full.
func TestRoomHistory(t *testing.T) {
	e := newEnv(t, Config{})
	path := fmt.Sprintf("/api/rooms/%d/history", e.room.Alias)
	type history struct {
		Visibility    string `json:"visibility"`
		RetentionDays uint32 `json:"retention_days"`
	}
	for _, c := range []struct {
		name   string
		method string
		as     *user
		form   []string
		status int
		want   history // for 200
	}{
		{"member reads the defaults", "GET", e.bob, nil, http.StatusOK, history{"everything", 0}},
		{"stranger", "GET", e.carol, nil, http.StatusNotFound, history{}},
		{"no token", "GET", &user{}, nil, http.StatusUnauthorized, history{}},
		{"member may not change", "PUT", e.bob, []string{"visibility", "joined"}, http.StatusForbidden, history{}},
		{"stranger may not change", "PUT", e.carol, []string{"visibility", "joined"}, http.StatusNotFound, history{}},
		{"unknown visibility", "PUT", e.alice, []string{"visibility", "sideways"}, http.StatusBadRequest, history{}},
		{"nothing to change", "PUT", e.alice, nil, http.StatusBadRequest, history{}},
		{"retention too long", "PUT", e.alice, []string{"retention_days", "36501"}, http.StatusBadRequest, history{}},
		{"admin sets joined", "PUT", e.alice, []string{"visibility", "joined", "retention_days", "30"}, http.StatusOK, history{"joined", 30}},
		{"member reads them", "GET", e.bob, nil, http.StatusOK, history{"joined", 30}},
		{"admin keeps visibility, drops retention", "PUT", e.alice, []string{"retention_days", "0"}, http.StatusOK, history{"joined", 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := req{token: c.as.token}
			if c.form != nil {
				q.form = form(c.form...)
			}
			resp := e.do(c.method, path, q)
			if resp.status != c.status {
				t.Fatalf("%s %s = %s, want %d", c.method, path, resp, c.status)
			}
			if c.status != http.StatusOK {
				resp.errors(t)
				return
			}
			var got history
			resp.decode(t, &got)
			if got != c.want {
				t.Errorf("%s %s = %+v, want %+v", c.method, path, got, c.want)
			}
		})
	}

	e.post(e.bob, e.room, "said before carol came")
	if err := e.node.AddMember(t.Context(), e.alice.Handle, e.room.ID, node.MemberSpec{Account: e.carol.ID}); err != nil {
		t.Fatal(err)
	}
	e.post(e.alice, e.room, "said after carol came")
	// The system message of carol's joining is her first in the room:
	// she reads it.
	added := fmt.Sprintf("[info][dtext:chatroom_member_is][piconname:%d][dtext:chatroom_added][/info]", e.carol.Alias)
	for _, c := range []struct {
		as   *user
		want []string
	}{
		{e.bob, []string{"said before carol came", added, "said after carol came"}},
		{e.carol, []string{deletedBody, added, "said after carol came"}},
	} {
		resp := e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: c.as.token, form: form("force", "1")})
		if resp.status != http.StatusOK {
			t.Fatalf("%s reads messages: %s", c.as.Handle, resp)
		}
		var ms []messageJSON
		resp.decode(t, &ms)
		var got []string
		for _, m := range ms {
			got = append(got, m.Body)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s reads %q, want %q", c.as.Handle, got, c.want)
		}
	}
}
