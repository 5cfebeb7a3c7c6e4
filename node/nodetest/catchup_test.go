package nodetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// summary is what two nodes holding a large room must agree on: its heads
// (which fix the whole event set), its counters, its newest page and its
// tasks, as ac sees them.
func summary(ac *Actor, room protocol.RoomID) string {
	ctx := context.Background()
	nd, as := ac.Node(), ac.Handle
	heads, err := nd.Heads(ctx, room)
	if err != nil {
		return "error: " + err.Error()
	}
	slices.SortFunc(heads, func(a, b protocol.EventID) int { return slices.Compare(a[:], b[:]) })
	r, err := nd.Room(ctx, as, room)
	if err != nil {
		return "error: " + err.Error()
	}
	s := fmt.Sprintf("heads %v, %d messages, %d tasks", heads, r.Messages, r.Tasks)
	ms, err := nd.Messages(ctx, as, room, node.Page{Limit: 20})
	if err != nil {
		return "error: " + err.Error()
	}
	for _, m := range ms {
		s += fmt.Sprintf("\n%s %q", m.ID, m.Body)
	}
	ts, err := nd.Tasks(ctx, as, room, node.TaskFilter{})
	if err != nil {
		return "error: " + err.Error()
	}
	for _, tk := range ts {
		s += fmt.Sprintf("\ntask %s %s", tk.ID, tk.Status)
	}
	return s
}

// TestCatchUpAfterDowntime: B is stopped; A posts 10,000 messages and
// completes tasks; B restarts and converges to the identical state, with
// no one re-sending anything.
func TestCatchUpAfterDowntime(t *testing.T) {
	if testing.Short() {
		t.Skip("posts 10,000 messages")
	}
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Busy", bob.ID())
	var tasks []protocol.EventID
	for i := range 5 {
		tasks = append(tasks, alice.CreateTask(room, fmt.Sprint("task ", i), alice.ID(), bob.ID()))
	}
	Await(t, 20*time.Second, func() (bool, string) {
		sa, sb := summary(alice, room), summary(bob, room)
		return sa == sb, "b has not received the room:\n" + sb
	})

	b.Stop()
	const posts, writers = 10_000, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < posts; i += writers {
				if _, err := a.Post(ctx, "alice", room, fmt.Sprint("message ", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, tk := range tasks[:3] {
		alice.CompleteTask(tk)
	}
	start := time.Now()
	b.Start()
	Await(t, 2*time.Minute, func() (bool, string) {
		sa, sb := summary(alice, room), summary(bob, room)
		return sa == sb, fmt.Sprintf("b differs from a:\n%.1500s\n--- a:\n%.1500s", sb, sa)
	})
	took := time.Since(start)
	// The host counts a sync frame's events once the node has stored all
	// of them, so the count may trail what b shows by a frame.
	var st p2p.Stats
	Await(t, 30*time.Second, func() (bool, string) {
		st = b.Status(t).Network
		return st.SyncEvents >= posts, fmt.Sprintf("b's sync counted %d events, want at least %d: did it catch up some other way?", st.SyncEvents, posts)
	})
	t.Logf("b caught up %d events in %v with %d sync requests", st.SyncEvents, took, st.SyncRequests)
	if st.SyncRequests > 10 {
		t.Errorf("catching up took %d sync round trips; the transfer should be in bulk", st.SyncRequests)
	}
}
