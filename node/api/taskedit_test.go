package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestEditTask drives PUT /api/rooms/{room_id}/tasks/{task_id} in the
// order of its cases: a member changes a task's body, assignee and due
// date, each alone; bad values and strangers get ChatWork's error shape;
// the timeline tells of each edit.
func TestEditTask(t *testing.T) {
	e := newEnv(t, Config{})
	tk, err := e.node.CreateTask(t.Context(), e.alice.Handle, e.room.ID, node.NewTask{Body: "Buy milk", Assignees: []protocol.AccountID{e.bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/rooms/%d/tasks/%d", e.room.Alias, tk.Alias)
	type want struct {
		body      string
		assignee  uint64
		limit     int64
		limitType string
	}
	for _, c := range []struct {
		name   string
		as     *user
		form   []string
		status int
		want   want
	}{
		{"body", e.bob, []string{"body", "Buy oat milk"}, http.StatusOK, want{"Buy oat milk", e.bob.Alias, 0, "none"}},
		{"assignee", e.alice, []string{"to_ids", fmt.Sprint(e.alice.Alias)}, http.StatusOK, want{"Buy oat milk", e.alice.Alias, 0, "none"}},
		{"due date", e.alice, []string{"limit", "1900000000", "limit_type", "date"}, http.StatusOK, want{"Buy oat milk", e.alice.Alias, 1900000000, "date"}},
		{"no due date", e.alice, []string{"limit", "0"}, http.StatusOK, want{"Buy oat milk", e.alice.Alias, 0, "none"}},
		{"nothing to change", e.alice, nil, http.StatusBadRequest, want{}},
		{"empty body", e.alice, []string{"body", ""}, http.StatusBadRequest, want{}},
		{"no assignee", e.alice, []string{"to_ids", ""}, http.StatusBadRequest, want{}},
		{"assignee not in the room", e.alice, []string{"to_ids", fmt.Sprint(e.carol.Alias)}, http.StatusBadRequest, want{}},
		{"bad limit type", e.alice, []string{"limit", "5", "limit_type", "week"}, http.StatusBadRequest, want{}},
		{"stranger", e.carol, []string{"body", "mine now"}, http.StatusNotFound, want{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := req{token: c.as.token}
			if c.form != nil {
				q.form = form(c.form...)
			}
			resp := e.do("PUT", path, q)
			if resp.status != c.status {
				t.Fatalf("PUT %s = %s, want %d", path, resp, c.status)
			}
			if c.status != http.StatusOK {
				resp.errors(t)
				return
			}
			var got taskJSON
			resp.decode(t, &got)
			if got.Body != c.want.body || got.Account == nil || got.Account.AccountID != c.want.assignee ||
				got.LimitTime != c.want.limit || got.LimitType != c.want.limitType {
				t.Errorf("task = %+v (account %+v), want %+v", got, got.Account, c.want)
			}
		})
	}
	ms, err := e.node.Messages(t.Context(), e.bob.Handle, e.room.ID, node.Page{})
	if err != nil {
		t.Fatal(err)
	}
	edits := 0
	for _, m := range ms {
		if m.Notice == node.NoticeTaskEdited {
			edits++
			if !strings.Contains(m.Body, "Buy oat milk") {
				t.Errorf("edit notice %q does not show the task as it is now", m.Body)
			}
		}
	}
	if edits != 4 {
		t.Errorf("%d task_edited notices, want 4", edits)
	}
}
