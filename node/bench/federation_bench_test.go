package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/bench/measure"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkCrossNodeLatency measures how long a message posted on node A
// (node.Post, which returns once the message is durable on A) takes to
// appear on node B's live event stream (GET /api/events over HTTP, as a
// member of the room with an API token): A's outbox and gossip, B's
// validation and durable store, B's change feed and the stream's
// rendering. A posts at 20 msg/s (rate=low) or 1,000 msg/s for 10 s (2 s
// under -short); the figures are the p50 and p99 over every message, a
// message the stream never showed counting with the time waited for it.
// The physical limit is BenchmarkGossipsubLatency in node/p2p: two bare
// libp2p hosts with Horenso's transports and gossipsub settings,
// publishing payloads of the same size at the same rates.
// Goal: p50 ≤ 5 ms, p99 ≤ 25 ms.
//
// With HORENSO_BENCH_LATENCIES set to a file path, each run writes there
// one line per message delivered: when it was posted, in ms since the
// run's first post, and its latency in ms; so that when the slow ones
// came can be seen (docs/PERFORMANCE.md, "What the cross-node p99 at
// 1,000 msg/s waits for").
func BenchmarkCrossNodeLatency(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"low", 20}, {"1000", 1000}} {
		b.Run("rate="+tc.name, func(b *testing.B) {
			dur := shortOr(10*time.Second, 2*time.Second)
			var lat []time.Duration
			for range b.N {
				lat = append(lat, crossNodeRun(b, tc.rate, dur)...)
			}
			b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.5)), "p50-ms")
			b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.99)), "p99-ms")
		})
	}
}

// envLatencies names the file BenchmarkCrossNodeLatency writes each
// message's latency to.
const envLatencies = "HORENSO_BENCH_LATENCIES"

// crossNodeRun posts rate msg/s for dur on A and returns each message's
// latency to B's event stream.
func crossNodeRun(b *testing.B, rate float64, dur time.Duration) []time.Duration {
	r := startFedRoom(b, 2)
	defer r.stop()
	a, bn := r.nodes[0], r.nodes[1]
	s := openEvents(b, bn, fedMember)
	defer s.close()

	ctx := b.Context()
	n := int(rate * dur.Seconds())
	sent := make([]time.Time, n) // written by the posting workers
	recv := make([]time.Time, n)
	var posting sync.WaitGroup
	postsDone := make(chan struct{})
	var posted int
	begin := time.Now()
	posting.Go(func() {
		defer close(postsDone)
		posted = measure.Pace(ctx, n, rate, 64, begin.Add(2*dur), func(i int) {
			sent[i] = time.Now()
			if _, err := a.Post(ctx, fedMember, r.room, messageBody(i)); err != nil {
				b.Error(err)
			}
		})
	})

	// Read the stream until every message posted is on it, or until
	// grace after the last post.
	const grace = 20 * time.Second
	var giveUp <-chan time.Time
	got, ended := 0, false
read:
	for {
		select {
		case ar, ok := <-s.arrivals:
			if !ok {
				ended = true
				break read
			}
			i, err := bodyNumber(ar.body)
			if err != nil || i < 0 || i >= n || !recv[i].IsZero() {
				continue
			}
			recv[i] = ar.at
			if got++; postsDone == nil && got == posted {
				break read
			}
		case <-postsDone:
			postsDone = nil
			if got == posted {
				break read
			}
			giveUp = time.After(grace)
		case <-giveUp:
			break read
		}
	}
	end := time.Now()
	posting.Wait()
	if ended {
		b.Fatal("B's event stream ended")
	}

	lat := make([]time.Duration, 0, posted)
	lost := 0
	for i := range n {
		switch {
		case sent[i].IsZero(): // not posted: the poster fell too far behind
		case recv[i].IsZero():
			lost++
			lat = append(lat, end.Sub(sent[i]))
		default:
			lat = append(lat, recv[i].Sub(sent[i]))
		}
	}
	if path := os.Getenv(envLatencies); path != "" {
		var out strings.Builder
		for i := range n {
			if !sent[i].IsZero() && !recv[i].IsZero() {
				fmt.Fprintf(&out, "%.2f %.2f\n", measure.Ms(sent[i].Sub(begin)), measure.Ms(recv[i].Sub(sent[i])))
			}
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	size, err := postSize(ctx, a.Node, r.room)
	if err != nil {
		b.Fatal(err)
	}
	st, err := bn.Node.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("cross-node at %v msg/s: posted %d of %d, %.0f B/event; %d never reached B's stream within %v of the last post; B: gossip accepted %d in %d batches, orphaned %d (adopted %d, given up %d), dropped %d; %d sync rounds received %d events",
		rate, posted, n, size, lost, grace, st.Network.GossipAccepted, st.Network.GossipBatches, st.Network.GossipOrphaned, st.Network.GossipAdopted, st.Network.GossipIgnored, st.Network.GossipDropped, st.Network.SyncRounds, st.Network.SyncEvents)
	return lat
}

// BenchmarkFanOut measures delivery in a room shared by 10 nodes, each
// hosting one member, while posts arrive at 1,000 msg/s for 30 s (3 s
// under -short), spread round-robin over all 10 nodes (100 msg/s each),
// from 64 concurrent posters: when the nodes cannot keep up, posts start
// late, and those not started within 10% past the 30 s are not made:
// posted-msg/s is the rate at which posts were made.
// A message counts as delivered to a node when it appears in that node's
// change feed (observed in-process with node.WaitChange and node.Changes,
// not over 10 HTTP event streams). After the posts, gossip gets 5 s to
// finish; then every node syncs the room with every other, as the next
// anti-entropy round would, and delivered-% is, for the worst node, the
// share of the other nodes' posts it then holds. p50-ms and p99-ms are over
// every (message, receiving node) pair, post call to feed, sync-repaired
// messages included. The physical limit is BenchmarkGossipsubFanOut in
// node/p2p: 10 bare gossipsub hosts at the same rate and payload size.
// Goal: 100%, p99 ≤ 50 ms.
func BenchmarkFanOut(b *testing.B) {
	const nodes, rate = 10, 1000.0
	dur := shortOr(30*time.Second, 3*time.Second)
	var lat []time.Duration
	var cpu time.Duration
	delivered, posted, received := 100.0, 0.0, 0
	for range b.N {
		l, d, p, c, r := fanOutRun(b, nodes, rate, dur)
		lat = append(lat, l...)
		delivered = min(delivered, d)
		posted += p / float64(b.N)
		cpu += c
		received += r
	}
	verify, store := receiveFloor(b, shortOr(2_000, 200))
	perReceived := float64(cpu.Microseconds()) / float64(max(1, received))
	floor := float64((verify + store).Nanoseconds()) / 1e3
	b.Logf("fan-out: CPU %v for %d received messages: %.0f µs each, %.1f× the floor of %.0f µs (signature check %v, durable store write %v)",
		cpu.Round(time.Millisecond), received, perReceived, perReceived/floor, floor, verify, store)
	b.ReportMetric(delivered, "delivered-%")
	b.ReportMetric(posted, "posted-msg/s")
	b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.99)), "p99-ms")
	b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.5)), "p50-ms")
	b.ReportMetric(perReceived, "cpu-us/recv")
	b.ReportMetric(floor, "floor-us/recv")
	b.ReportMetric(perReceived/floor, "cpu/floor")
}

// feedWatch follows one node's change feed and records when each message
// of the room first appears in it.
type feedWatch struct {
	seen  map[protocol.EventID]time.Time // owned by the watching goroutine until it returns
	count atomic.Int64                   // len(seen)
}

// watch records the room's messages on nd after change after until ctx
// ends.
func (w *feedWatch) watch(ctx context.Context, nd *node.Node, room protocol.RoomID, after uint64) {
	for {
		at, last := time.Now(), nd.LastChange()
		cs, err := nd.Changes(ctx, fedMember, after, node.MaxPage)
		if err != nil {
			return
		}
		late := time.Now()
		for _, c := range cs {
			after = c.Seq
			if c.Kind != node.ChangeMessage || c.Room != room {
				continue
			}
			if _, ok := w.seen[c.Event]; ok {
				continue
			}
			if c.Seq <= last {
				w.seen[c.Event] = at
			} else { // committed while Changes ran
				w.seen[c.Event] = late
			}
			w.count.Add(1)
		}
		if len(cs) == node.MaxPage {
			continue
		}
		after = max(after, last)
		if err := nd.WaitChange(ctx, after); err != nil {
			return
		}
	}
}

// fanOutRun runs one fan-out scenario and returns the latencies, the
// worst node's delivered percentage, the rate at which posts were made,
// and the process's CPU time from the first post until every node held
// every post (the sync repair included), with the number of (message,
// receiving node) pairs that CPU time took in.
func fanOutRun(b *testing.B, nodes int, rate float64, dur time.Duration) (lat []time.Duration, delivered, postRate float64, cpu time.Duration, received int) {
	r := startFedRoom(b, nodes)
	defer r.stop()
	ctx := b.Context()

	watchCtx, stopWatching := context.WithCancel(ctx)
	watches := make([]*feedWatch, nodes)
	var watching sync.WaitGroup
	for k, nd := range r.nodes {
		w := &feedWatch{seen: map[protocol.EventID]time.Time{}}
		watches[k] = w
		after := nd.LastChange()
		watching.Go(func() { w.watch(watchCtx, nd.Node, r.room, after) })
	}
	defer func() {
		stopWatching()
		watching.Wait()
	}()

	n := int(rate * dur.Seconds())
	sent := make([]time.Time, n)
	ids := make([]protocol.EventID, n)
	begin, cpuBegin := time.Now(), processCPU()
	posted := measure.Pace(ctx, n, rate, 64, begin.Add(dur+dur/10), func(i int) {
		sent[i] = time.Now()
		m, err := r.nodes[i%nodes].Post(ctx, fedMember, r.room, messageBody(i))
		if err != nil {
			b.Error(err)
			sent[i] = time.Time{}
			return
		}
		ids[i] = m.ID
	})
	postTime := time.Since(begin)

	complete := func() bool {
		for _, w := range watches {
			if w.count.Load() < int64(posted) {
				return false
			}
		}
		return true
	}
	awaitComplete := func(timeout time.Duration) bool {
		deadline := time.Now().Add(timeout)
		for !complete() {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
		return true
	}
	byGossip := 100.0
	if !awaitComplete(5 * time.Second) {
		for _, w := range watches {
			byGossip = min(byGossip, 100*float64(w.count.Load())/float64(posted))
		}
		r.syncAll(b)
		awaitComplete(60 * time.Second)
	}
	cpu, received = processCPU()-cpuBegin, posted*(nodes-1)
	var drops, sendDrops, outboxDrops, orphaned, adopted, ignored, syncRounds, syncEvents, syncHeld, validated, sigBatches uint64
	var answers node.SyncAnswerStats
	for _, nd := range r.nodes {
		st, err := nd.Node.Status(ctx)
		if err != nil {
			b.Fatal(err)
		}
		drops += st.Network.GossipDropped
		validated += st.Network.GossipReceived
		sigBatches += st.Network.GossipSigBatches
		sendDrops += st.Network.GossipSendDropped
		outboxDrops += st.OutboxDropped
		orphaned += st.Network.GossipOrphaned
		adopted += st.Network.GossipAdopted
		ignored += st.Network.GossipIgnored
		syncRounds += st.Network.SyncRounds
		syncEvents += st.Network.SyncEvents
		syncHeld += st.Network.SyncHeld
		answers.Chains += st.SyncAnswers.Chains
		answers.Walk += st.SyncAnswers.Walk
		answers.Whole += st.SyncAnswers.Whole
	}
	stopWatching()
	watching.Wait()

	delivered = 100.0
	for k, w := range watches {
		want, have := 0, 0
		for i := range n {
			if i%nodes == k || sent[i].IsZero() {
				continue
			}
			want++
			if at, ok := w.seen[ids[i]]; ok {
				have++
				lat = append(lat, at.Sub(sent[i]))
			}
		}
		if want > 0 {
			delivered = min(delivered, 100*float64(have)/float64(want))
		}
	}
	size, err := postSize(ctx, r.nodes[0].Node, r.room)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("fan-out: %d nodes posted %d of %d in %v (%.0f msg/s), %.0f B/event; worst node held %.1f%% (own posts included) 5 s after the last post, before the sync repair; all nodes: gossip validated %d (signatures checked in %d batches), dropped %d, orphaned %d (adopted %d, given up %d), send queue dropped %d, outbox dropped %d; %d sync rounds received %d events, %d of them held already; rooms answered off the chains %d, by a walk %d, whole %d",
		nodes, posted, n, postTime.Round(time.Millisecond), float64(posted)/postTime.Seconds(), size, byGossip, validated, sigBatches, drops, orphaned, adopted, ignored, sendDrops, outboxDrops, syncRounds, syncEvents, syncHeld,
		answers.Chains, answers.Walk, answers.Whole)
	return lat, delivered, float64(posted) / postTime.Seconds(), cpu, received
}

// BenchmarkCatchUp measures catching up after downtime: node B is stopped
// while node A's member posts 100,000 messages (5,000 under -short, by 128
// concurrent node.Post calls); then the time from B's Start (open the
// store, listen, dial A, sync) until B holds every event, that is, until
// its heads of the room are A's. events is how many events B lacked, MB
// their wire bytes (what A's sync streams, without frame and transport
// overhead), events/s events over catchup-s. The physical limit is
// BenchmarkStreamTransfer in node/p2p: the same number of bytes over one
// raw libp2p stream between two hosts. Goal: ≤ 5 s for 100,000 events.
// The log also gives how long A's answer of the whole room takes, to a node
// that names nothing A holds (a partner's node new to the room).
func BenchmarkCatchUp(b *testing.B) {
	events := shortOr(100_000, 5_000)
	var took time.Duration
	var lacked, bytes int
	for range b.N {
		d, e, by := catchUpRun(b, events)
		took += d
		lacked += e
		bytes += by
	}
	secs := took.Seconds() / float64(b.N)
	b.ReportMetric(secs, "catchup-s")
	b.ReportMetric(float64(lacked)/float64(b.N), "events")
	b.ReportMetric(float64(bytes)/1e6/float64(b.N), "MB")
	b.ReportMetric(float64(lacked)/float64(b.N)/secs, "events/s")
}

// catchUpRun runs one catch-up and returns how long it took, how many
// events B lacked and their wire size.
func catchUpRun(b *testing.B, events int) (took time.Duration, lacked, bytes int) {
	r := startFedRoom(b, 2)
	defer r.stop()
	a, bn := r.nodes[0], r.nodes[1]
	ctx := b.Context()

	had, err := bn.Heads(ctx, r.room)
	if err != nil {
		b.Fatal(err)
	}
	bn.Stop()
	const writers = 128
	var next atomic.Int64
	var posting sync.WaitGroup
	begin := time.Now()
	for range writers {
		posting.Go(func() {
			for i := next.Add(1) - 1; i < int64(events); i = next.Add(1) - 1 {
				if _, err := a.Post(ctx, fedMember, r.room, messageBody(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	posting.Wait()
	postTime := time.Since(begin)
	want, err := a.Heads(ctx, r.room)
	if err != nil {
		b.Fatal(err)
	}
	sortIDs(want)

	cacheBefore, err := a.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stopProfile := profilePhase(b)
	start := time.Now()
	bn.Start()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	// B has caught up once it holds A's heads, hence all their ancestors.
	// (Its heads may differ: it acknowledges what it receives with events
	// of its own.)
	for {
		last := bn.LastChange()
		if !slices.Contains(bn.FederationForTest().Held(wctx, want, nil), false) {
			break
		}
		if err := bn.WaitChange(wctx, last); err != nil {
			hs, _ := bn.Heads(ctx, r.room)
			b.Fatalf("B did not catch up within 5 minutes: heads %v, want A's %v held", hs, want)
		}
	}
	took = time.Since(start)
	stopProfile()
	cacheAfter, err := a.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}

	if ma, mb := r.messages(b, a), r.messages(b, bn); ma != mb {
		b.Fatalf("after catching up, A holds %d messages and B %d", ma, mb)
	}
	err = a.FederationForTest().Missing(ctx, bn.ID(), protocol.SyncWant{Room: r.room, Heads: had}, nil, func(wire []byte) error {
		lacked++
		bytes += len(wire)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	bst, err := bn.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The whole room, as A sends it to a node that names nothing A holds
	// (a partner's node new to the room): the answer alone, in process.
	wholeStart := time.Now()
	var whole int
	err = a.FederationForTest().Missing(ctx, bn.ID(), protocol.SyncWant{Room: r.room, Heads: []protocol.EventID{{1}}}, nil, func([]byte) error {
		whole++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	wholeTook := time.Since(wholeStart)
	b.Logf("catch-up: A posted %d in %v (%.0f/s); B caught up %d events, %d bytes (%.0f B/event), in %v; A's block cache meanwhile: %d hits, %d misses; B's store: %d commits, %d batches split as too big; A's answer of the whole room (%d events) to a node that holds none of it took %v",
		events, postTime.Round(time.Millisecond), float64(events)/postTime.Seconds(), lacked, bytes, float64(bytes)/float64(lacked), took.Round(time.Millisecond),
		cacheAfter.Store.BlockCacheHits-cacheBefore.Store.BlockCacheHits, cacheAfter.Store.BlockCacheMisses-cacheBefore.Store.BlockCacheMisses,
		bst.Store.Commits, bst.AcceptSplits, whole, wholeTook.Round(time.Millisecond))
	return took, lacked, bytes
}

// postSize returns the average wire size of the benchmark's message posts
// in room (not the warm-up's), as nd holds them.
func postSize(ctx context.Context, nd *node.Node, room protocol.RoomID) (float64, error) {
	var count, bytes int
	err := nd.FederationForTest().Missing(ctx, nd.ID(), protocol.SyncWant{Room: room}, nil, func(wire []byte) error {
		e, err := protocol.DecodeStored(wire)
		if err != nil {
			return err
		}
		if p, ok := e.Content.(*protocol.MessagePost); ok && strings.HasPrefix(p.Body, "message ") {
			count++
			bytes += len(wire)
		}
		return nil
	})
	if count == 0 {
		return 0, err
	}
	return float64(bytes) / float64(count), err
}

// bodyNumber returns i for the body messageBody(i).
func bodyNumber(body string) (int, error) {
	s, ok := strings.CutPrefix(body, "message ")
	if i := strings.IndexByte(s, ':'); ok && i > 0 {
		return strconv.Atoi(s[:i])
	}
	return 0, fmt.Errorf("not a benchmark message: %q", body)
}

// sortIDs sorts event IDs by their bytes.
func sortIDs(ids []protocol.EventID) {
	slices.SortFunc(ids, func(x, y protocol.EventID) int { return strings.Compare(string(x[:]), string(y[:])) })
}
