package web_test

import (
	"os"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestBrowserTasks: Bob sees his open task count right after logging in,
// marks a task done from its notice in the timeline, sees the task due
// today and the overdue one stand out, edits a task (body, assignee, due
// date), and makes a task from a reply without its reply header
// (testdata/browser/tasks.test.mjs).
func TestBrowserTasks(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	alice := acme.person(t, "alice", "Alice Sato")
	bob := acme.person(t, "bob", "Bob Tanaka")
	room := acme.room(t, alice, "Release 2.0", "", bob)
	asked := acme.post(t, bob, room, "Who writes the release notes?")
	acme.post(t, alice, room, "[rp aid="+alice.Global+" to="+acme.roomID(t, room).String()+"-"+asked[0].ID.String()+"]Bob Tanaka\nI will write the release notes by Friday.")
	// The browser runs in Asia/Tokyo: "today" is today there.
	jst := time.FixedZone("JST", 9*60*60)
	now := time.Now().In(jst)
	endOf := func(d time.Time) int64 {
		return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, jst).Unix()
	}
	for _, tk := range []struct {
		body string
		due  int64
	}{
		{"Future task 将来", time.Date(2031, 3, 1, 23, 59, 59, 0, jst).Unix()},
		{"Due today task 今日", endOf(now)},
		{"Overdue task 期限切れ", endOf(now.AddDate(0, 0, -1))},
	} {
		if _, err := acme.n.CreateTask(t.Context(), alice.acc.Handle, acme.roomID(t, room),
			node.NewTask{Body: tk.body, Assignees: []protocol.AccountID{bob.acc.ID}, Due: tk.due, Limit: protocol.LimitDate}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := e2eConfig{
		People:      map[string]*person{"alice": alice, "bob": bob},
		Rooms:       map[string]uint64{"release": room},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/tasks.test.mjs")
}
