package nodetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"

	"github.com/horenso/horenso/protocol"
)

// TestSoftFailIsDecidedByTheEvents: what a removed member's node made
// concurrently with the removal is hidden on every node, whether a node
// received it before the removal or after, and shown again on every node
// when the member is added back. a hosts alice (admin), b bob, c carol.
// During a partition that keeps a apart from b and c, alice removes bob
// while bob posts and edits his earlier message; c, still linked to b,
// shows both. Once every node is linked, a and c show the same: bob's
// edited message (an edit is never hidden: it dropped the text it
// replaced), without his new post. Before acknowledgements decided it, c
// kept showing what it received first (soft-fail depended on arrival
// order).
func TestSoftFailIsDecidedByTheEvents(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal")
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	alice.AddMember(room, carol.ID(), protocol.RoleMember)
	bob.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	early := bob.Post(room, "before the removal")
	task := bob.CreateTask(room, "bob's task", carol.ID())
	kept := bob.Post(room, "stays after the removal")
	alice.AwaitMessages(room, "before the removal", "stays after the removal")
	alice.AwaitTask(task)
	carol.AwaitMessages(room, "before the removal", "stays after the removal")

	c.Unlink(a, b)
	c.Unlink(a, cn)
	alice.RemoveMember(room, bob.ID())
	alice.Post(room, "alice after removing bob")
	bob.Edit(early, "edited during the removal")
	bob.Post(room, "posted during the removal")
	bob.CompleteTask(task)
	during := carol.AwaitMessages(room, "edited during the removal", "stays after the removal", "posted during the removal")[2]
	awaitTaskStatus(carol, task, protocol.TaskDone)
	// Carol's live stream tells her web app to take the post out, and the
	// system message of bob's completing the task.
	taken := watchDeleted(t, cn, cn.Token("carol"), strconv.FormatUint(during.Alias, 10))
	doneNotice := noticeOf(t, cn, "carol", room, node.NoticeTaskDone)
	noticeTaken := watchDeleted(t, cn, cn.Token("carol"), strconv.FormatUint(doneNotice.Alias, 10))

	c.Link(a, b)
	c.Link(a, cn)
	want := []string{"edited during the removal", "stays after the removal", "alice after removing bob"}
	alice.AwaitMembers(room, alice.ID(), carol.ID())
	carol.AwaitMembers(room, alice.ID(), carol.ID())
	alice.AwaitMessages(room, want...)
	carol.AwaitMessages(room, want...)
	for _, u := range []*Actor{alice, carol} {
		awaitTaskStatus(u, task, protocol.TaskOpen) // bob completed it during his removal
	}
	if err := <-taken; err != nil {
		t.Errorf("carol's live stream: %v", err)
	}
	if err := <-noticeTaken; err != nil {
		t.Errorf("carol's live stream, the task_done notice: %v", err)
	}

	// Added back, bob's events are his again, on every node.
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	for _, u := range []*Actor{alice, bob, carol} {
		u.AwaitMembers(room, alice.ID(), bob.ID(), carol.ID())
	}
	// The two messages made concurrently sort by depth, then ID.
	ms := alice.AwaitMessageSet(room, "edited during the removal", "stays after the removal", "alice after removing bob", "posted during the removal")
	carol.AwaitMessages(room, bodies(ms)...)
	if ms[0].ID != early || ms[1].ID != kept {
		t.Errorf("the first messages are %s and %s, want bob's early ones %s and %s", ms[0].ID, ms[1].ID, early, kept)
	}
	awaitTaskStatus(alice, task, protocol.TaskDone)
}

// awaitTaskStatus waits until u sees task id with status.
func awaitTaskStatus(u *Actor, id protocol.EventID, status protocol.TaskStatus) {
	u.t.Helper()
	u.await(func() (bool, string) {
		tk, err := u.nd.Task(u.t.Context(), u.Handle, id)
		if err != nil {
			return false, fmt.Sprintf("cannot read task %s: %v", id, err)
		}
		return tk.Status == status, fmt.Sprintf("sees task %s %s, want %s", id, tk.Status, status)
	})
}

func bodies(ms []*node.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}

// watchDeleted opens the live event stream (/api/events) of nd with token,
// and reports on the returned channel nil once a message_deleted event
// names message_id without the message (it is no longer shown at all), or
// why not within 30 seconds.
func watchDeleted(t *testing.T, nd *Node, token, messageID string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, "GET", nd.URL+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev struct {
				Type      string          `json:"type"`
				MessageID string          `json:"message_id"`
				Message   json.RawMessage `json:"message"`
			}
			if json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "message_deleted" && ev.MessageID == messageID && ev.Message == nil {
				done <- nil
				return
			}
		}
		done <- fmt.Errorf("no message_deleted event naming message %s: %v", messageID, sc.Err())
	}()
	return done
}

// noticeOf returns the newest system message of kind in room as handle
// reads it on nd.
func noticeOf(t *testing.T, nd *Node, handle protocol.Handle, room protocol.RoomID, kind string) *node.Message {
	t.Helper()
	ms, err := nd.Messages(t.Context(), handle, room, node.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Notice == kind {
			return ms[i]
		}
	}
	t.Fatalf("%s sees no %s notice in %v", handle, kind, bodies(ms))
	return nil
}
