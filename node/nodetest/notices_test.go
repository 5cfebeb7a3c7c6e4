package nodetest

import (
	"fmt"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestSystemMessagesFederated: the system messages of a room's tasks and
// member changes are derived by each member node from the events, and
// read the same on both: same events, authors, bodies, order.
func TestSystemMessagesFederated(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	b.User("dave")
	alice, bob, dave := a.As("alice"), b.As("bob"), b.As("dave")

	room := alice.CreateRoom("A × B", bob.ID())
	bob.AwaitRoom(room)
	task := bob.CreateTask(room, "sign", alice.ID())
	alice.AwaitTask(task)
	alice.CompleteTask(task)
	alice.AddMember(room, dave.ID(), protocol.RoleMember)
	alice.RemoveMember(room, dave.ID())

	kinds := []string{node.NoticeTaskAdded, node.NoticeTaskDone, node.NoticeMemberAdded, node.NoticeMemberRemoved}
	render := func(ns []*node.Message) (out []string) {
		for _, m := range ns {
			out = append(out, fmt.Sprintf("%s %s %s %q", m.ID, m.Author, m.Notice, m.Body))
		}
		return out
	}
	onA := render(alice.AwaitNotices(room, kinds...))
	onB := render(bob.AwaitNotices(room, kinds...))
	for i := range onA {
		if onA[i] != onB[i] {
			t.Errorf("notice %d: a shows %s, b shows %s", i, onA[i], onB[i])
		}
	}
	want := fmt.Sprintf("[info][title][dtext:task_done][/title][task aid=%s st=done lt=0 ltype=none]sign[/task][/info]", alice.ID())
	if ns := alice.AwaitNotices(room, kinds...); ns[1].Body != want || ns[1].Author != alice.ID() {
		t.Errorf("task done notice %q by %s, want %q by alice", ns[1].Body, ns[1].Author, want)
	}
}
