package nodetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// postHTTP posts body to room (its ChatWork room_id) over the ChatWork
// API at base with token, and returns the status and the answer.
func postHTTP(t *testing.T, base, token string, room uint64, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", fmt.Sprintf("%s/v2/rooms/%d/messages", base, room),
		strings.NewReader(url.Values{"body": {body}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStandbyFailover: a' follows a (partnered with b) as a standby. It
// serves reads and refuses writes, and both show the lag. Under a load
// of posts a stops dead; a' is promoted: every post a acknowledged
// before the moment a' had applied is there, alice's API token works on
// it, b reconnects to it (the same peer ID) and the shared room flows
// both ways again. The old a, started again, refuses to run: its standby
// holds a higher epoch.
func TestStandbyFailover(t *testing.T) {
	c := NewCluster(t, 2, Options{ReplicationSecret: "pair-secret"})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	shared := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitMembers(shared, alice.ID(), bob.ID())
	own := alice.CreateRoom("Internal")
	alice.Post(shared, "before the standby")
	token := a.Token("alice")

	s := c.AddStandby(a)
	Await(t, 30*time.Second, func() (bool, string) {
		st := s.ReplicationStatus()
		return st.Applied > 0, fmt.Sprintf("standby status %+v", st)
	})
	standbyAlice := s.As("alice")
	standbyAlice.AwaitMessages(shared, "before the standby")
	if s.ID() != a.ID() {
		t.Fatalf("standby has ID %s, primary %s", s.ID(), a.ID())
	}
	if _, err := s.Post(t.Context(), "alice", own, "on the standby"); !errors.Is(err, node.ErrStandby) {
		t.Fatalf("post on the standby: %v, want ErrStandby", err)
	}
	ownRoom := alice.Room(own)
	if code, body := postHTTP(t, s.URL, token, ownRoom.Alias, "over HTTP on the standby"); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "standby") {
		t.Fatalf("HTTP post on the standby: %d %s, want 503 naming the standby", code, body)
	}
	Await(t, 10*time.Second, func() (bool, string) {
		ps, ss := a.ReplicationStatus(), s.ReplicationStatus()
		return ps != nil && ps.Standby == "http://"+s.http && ps.Lag != "" && ss.Lag != "" && ss.Applied > 0,
			fmt.Sprintf("primary status %+v, standby status %+v", ps, ss)
	})

	if _, err := s.Node.Promote(t.Context(), false); !errors.Is(err, node.ErrConflict) {
		t.Fatalf("promote while the primary answers: %v, want ErrConflict", err)
	}

	// Load: four writers post to the room of a's own people until a dies.
	var (
		mu    sync.Mutex
		acked = map[string]time.Time{}
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := range 60 {
				body := fmt.Sprintf("w%d-%d", w, i)
				if _, err := a.Post(context.Background(), "alice", own, body); err != nil {
					return
				}
				mu.Lock()
				acked[body] = time.Now()
				mu.Unlock()
			}
		})
	}
	Await(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 80, fmt.Sprintf("%d posts acknowledged", len(acked))
	})
	a.Stop() // dead: the writers' next posts fail
	wg.Wait()
	applied := s.ReplicationStatus().AppliedTime

	epoch := s.Promote(false)
	if epoch != 1 {
		t.Errorf("promoted to epoch %d, want 1", epoch)
	}
	ms, err := s.Messages(t.Context(), "alice", own, node.Page{Limit: node.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range ms {
		have[m.Body] = true
	}
	lost, inWindow := 0, 0
	for body, at := range acked {
		switch {
		case at.Before(applied) && !have[body]:
			lost++
		case !at.Before(applied):
			inWindow++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d posts acknowledged before %s (the standby's applied moment) are missing", lost, len(acked), applied)
	}
	t.Logf("%d posts acknowledged; %d after the standby's last applied moment (the lag window); %d on the promoted node",
		len(acked), inWindow, len(have))

	// Clients: the same token works on the promoted node.
	if code, body := postHTTP(t, s.URL, token, ownRoom.Alias, "after the failover"); code != http.StatusOK {
		t.Fatalf("HTTP post on the promoted node: %d %s", code, body)
	}
	// Partners: b reconnects to the same peer ID, and the shared room
	// works both ways once the promoted node has caught up with it.
	Await(t, 30*time.Second, func() (bool, string) {
		_, err := s.Post(t.Context(), "alice", shared, "from the promoted node")
		return err == nil, fmt.Sprintf("post in the shared room: %v", err)
	})
	bob.AwaitMessages(shared, "before the standby", "from the promoted node")
	bob.Post(shared, "hello again")
	s.As("alice").AwaitMessages(shared, "before the standby", "from the promoted node", "hello again")
	for _, nd := range []*Node{s, b} {
		st, err := nd.Node.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Equivocations != 0 {
			t.Errorf("node %s holds %d equivocations after the failover", nd.Name, st.Equivocations)
		}
	}

	// Fencing: the old primary must not run again as a primary.
	old, err := node.New(a.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.Run(t.Context()); !errors.Is(err, node.ErrFenced) {
		t.Fatalf("old primary's Run: %v, want ErrFenced", err)
	}
}

// TestStandbyAcrossRestarts: the primary restarts (it lost the read
// transaction the standby's increments came from), then changes things,
// a deletion among them: the standby converges from a full copy. The
// standby restarts: it resumes from the version it had applied.
func TestStandbyAcrossRestarts(t *testing.T) {
	c := NewCluster(t, 1, Options{ReplicationSecret: "pair-secret"})
	a := c.Nodes[0]
	a.User("alice")
	alice := a.As("alice")
	room := alice.CreateRoom("Ops")
	gone := alice.Post(room, "to be deleted")
	alice.Post(room, "one")
	s := c.AddStandby(a)
	Await(t, 30*time.Second, func() (bool, string) {
		st := s.ReplicationStatus()
		return st.Applied > 0, fmt.Sprintf("standby status %+v", st)
	})
	s.As("alice").AwaitMessages(room, "to be deleted", "one")

	a.Stop()
	a.Start() // its standby answers with the same epoch: it starts
	alice.Delete(gone)
	alice.Post(room, "two")
	s.As("alice").AwaitMessages(room, "", "one", "two")

	// The standby acknowledges what it applied with its next request,
	// which may come after the messages show: wait for it.
	Await(t, 30*time.Second, func() (bool, string) {
		st := a.ReplicationStatus()
		return st.Acked > 0, fmt.Sprintf("the primary shows no version acknowledged by its standby: %+v", st)
	})
	s.Stop()
	s.Start()
	alice.Post(room, "three")
	s.As("alice").AwaitMessages(room, "", "one", "two", "three")
}
