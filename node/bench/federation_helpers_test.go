package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
	"github.com/horenso/horenso/protocol"
)

// fedMember is the handle of the one account each benchmark node has.
const fedMember protocol.Handle = "member"

// fedRoom is a cluster of n nodes, partnered with each other, each with
// the account fedMember, all members of one group room that node a
// created.
type fedRoom struct {
	nodes []*nodetest.Node
	room  protocol.RoomID
}

// startFedRoom starts n nodes with the production SyncInterval (30 s),
// so that anti-entropy rounds do not stand in for gossip while the
// benchmark measures it, builds the shared room, and waits until gossip
// carries a message from every node to every other within a second. The
// caller stops the nodes with stop; the cluster's cleanup would stop them
// too, but only when the benchmark function returns, not per iteration.
func startFedRoom(b *testing.B, n int) *fedRoom {
	b.Helper()
	limit, err := benchMemoryLimit()
	if err != nil {
		b.Fatal(err)
	}
	c := nodetest.NewCluster(b, n, nodetest.Options{
		SyncInterval: 30 * time.Second,
		API:          api.Config{RateLimit: -1},
		Memory:       node.MemoryConfig{Limit: limit},
		// Overload makes nodes log errors per event (validation timeouts);
		// the benchmarks count what went wrong and log a summary instead.
		LogLevel: slog.LevelError + 1,
	})
	r := &fedRoom{nodes: c.Nodes}
	ctx := b.Context()
	var members []node.MemberSpec
	for _, nd := range r.nodes {
		acc := nd.User(fedMember)
		if nd != r.nodes[0] {
			members = append(members, node.MemberSpec{Account: acc})
		}
	}
	room, err := r.nodes[0].CreateRoom(ctx, fedMember, node.NewRoom{Name: "Bench", Members: members})
	if err != nil {
		b.Fatal(err)
	}
	r.room = room.ID
	nodetest.Await(b, 60*time.Second, func() (bool, string) {
		for _, nd := range r.nodes {
			if _, err := nd.Room(ctx, fedMember, r.room); err != nil {
				return false, fmt.Sprintf("node %s does not hold the room: %v", nd.Name, err)
			}
		}
		return true, ""
	})
	r.warmUp(b)
	return r
}

// warmUp posts one message from every node per round until a round
// reaches every node within a second, which gossip does and the 30 s
// anti-entropy does not: then every node's subscription is known where it
// matters. Nodes that learned the room after a partner subscribed dropped
// that subscription; a sync of the room makes the partner announce it
// again, so a slow round is followed by a sync between every pair.
func (r *fedRoom) warmUp(b *testing.B) {
	b.Helper()
	ctx := b.Context()
	posted := r.messages(b, r.nodes[0])
	for round := range 30 {
		for _, nd := range r.nodes {
			if _, err := nd.Post(ctx, fedMember, r.room, fmt.Sprintf("warm-up %d from %s", round, nd.Name)); err != nil {
				b.Fatal(err)
			}
		}
		posted += uint64(len(r.nodes))
		if r.awaitCount(b, posted, time.Second) {
			return
		}
		r.syncAll(b)
		nodetest.Await(b, 30*time.Second, func() (bool, string) {
			return r.awaitCount(b, posted, 0), fmt.Sprintf("not every node holds the %d warm-up messages", posted)
		})
	}
	b.Fatal("gossip does not reach every node within a second after 30 warm-up rounds")
}

// messages returns how many messages nd holds in the room.
func (r *fedRoom) messages(b *testing.B, nd *nodetest.Node) uint64 {
	b.Helper()
	room, err := nd.Room(b.Context(), fedMember, r.room)
	if err != nil {
		b.Fatal(err)
	}
	return room.Messages
}

// awaitCount reports whether every node holds want messages in the room
// within timeout, polling every millisecond.
func (r *fedRoom) awaitCount(b *testing.B, want uint64, timeout time.Duration) bool {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, nd := range r.nodes {
			if r.messages(b, nd) < want {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// syncAll has every node pull the room from every other node now, as the
// next anti-entropy round would.
func (r *fedRoom) syncAll(b *testing.B) {
	b.Helper()
	var wg sync.WaitGroup
	for _, x := range r.nodes {
		wg.Go(func() {
			for _, y := range r.nodes {
				if x == y {
					continue
				}
				if err := x.SyncRoomForTest(b.Context(), y.ID(), r.room); err != nil {
					b.Logf("sync %s from %s: %v", x.Name, y.Name, err)
				}
			}
		})
	}
	wg.Wait()
}

// stop stops every node and waits until each has shut down.
func (r *fedRoom) stop() {
	for _, nd := range r.nodes {
		nd.Stop()
	}
}

// sseArrival is one message event read from an /api/events stream: the
// message's body and when its data line was read.
type sseArrival struct {
	body string
	at   time.Time
}

// eventStream is an open GET /api/events connection.
type eventStream struct {
	arrivals chan sseArrival // message events, in stream order
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// openEvents subscribes to nd's live event stream as account handle, with
// an API token, as a ChatWork client would, and waits for the stream's
// first line, so that every change after that is on it. The reader
// goroutine runs until close.
func openEvents(b *testing.B, nd *nodetest.Node, handle protocol.Handle) *eventStream {
	b.Helper()
	ctx, cancel := context.WithCancel(b.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, nd.URL+"/api/events", nil)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", nd.Token(handle))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		b.Fatalf("GET /api/events: %s", resp.Status)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // "retry: 3000"
		resp.Body.Close()
		cancel()
		b.Fatalf("GET /api/events: %v", err)
	}
	s := &eventStream{arrivals: make(chan sseArrival, 1<<16), cancel: cancel}
	s.wg.Go(func() {
		defer resp.Body.Close()
		defer close(s.arrivals)
		var data struct {
			Message *struct {
				Body string `json:"body"`
			} `json:"message"`
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			rest, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			at := time.Now()
			data.Message = nil
			if err := json.Unmarshal([]byte(rest), &data); err != nil || data.Message == nil {
				continue
			}
			select {
			case s.arrivals <- sseArrival{body: data.Message.Body, at: at}:
			case <-ctx.Done():
				return
			}
		}
	})
	return s
}

// close ends the stream and waits for its reader.
func (s *eventStream) close() {
	s.cancel()
	s.wg.Wait()
}
