// Package bench measures Horenso nodes against the physical limits of the
// machine they run on (issue 6). Each benchmark does a fixed amount of work
// per iteration and reports its figures with b.ReportMetric, so that runs
// with -count give a median and a spread; -short makes every scenario
// small enough for a quick run. The single-node benchmarks are in
// node_test.go and set against the raw Badger benchmarks of package
// storage; the federation benchmarks are in federation_bench_test.go. The
// package holds only tests.
package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/protocol"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if store.tmp != "" {
		os.RemoveAll(store.tmp)
	}
	if binary.dir != "" { // process_test.go
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// shortOr returns full, or quick under -short.
func shortOr[T any](full, quick T) T {
	if testing.Short() {
		return quick
	}
	return full
}

// bodyBytes is the size of every message body the benchmarks post.
const bodyBytes = 100

// messageBody returns a bodyBytes-long message body numbered i.
func messageBody(i int) string {
	s := fmt.Sprintf("message %d: ", i)
	return s + strings.Repeat("lorem ipsum dolor sit amet ", bodyBytes/27+1)[:bodyBytes-len(s)]
}

// running is a node served by Run, with its HTTP API as an in-process
// handler.
type running struct {
	*node.Node
	api  *api.Server
	stop func() error // stops Run and closes the node
}

// benchLog is the log of the benchmark nodes: warnings and errors only,
// since a benchmark's b.Log output is always printed.
var benchLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// envMemoryLimit sets node.MemoryConfig.Limit of the in-process
// benchmark nodes, in MiB (-1: none), to compare with the default.
const envMemoryLimit = "HORENSO_BENCH_MEMORY_LIMIT_MIB"

// benchMemoryLimit returns the memory limit $HORENSO_BENCH_MEMORY_LIMIT_MIB
// asks for, in bytes; 0 (the node's default) if it is not set.
func benchMemoryLimit() (int64, error) {
	v := os.Getenv(envMemoryLimit)
	if v == "" {
		return 0, nil
	}
	mib, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("$%s=%q: want MiB: %w", envMemoryLimit, v, err)
	}
	return mib << 20, nil
}

// startNew sets up a node in a new directory of b's and starts it (start);
// the caller stops it.
func startNew(b *testing.B) *running {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "node")
	if _, err := node.Init(dir, "Bench"); err != nil {
		b.Fatal(err)
	}
	r, err := start(dir)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// start opens the node in dir, which node.Init set up, and runs it until
// stop, as `horenso run` does but without the HTTP listener. The API has
// no rate limit.
func start(dir string) (*running, error) {
	cfg := node.Config{DataDir: dir, Logger: benchLog}
	var err error
	if cfg.Memory.Limit, err = benchMemoryLimit(); err != nil {
		return nil, err
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-done:
		cancel()
		return nil, errors.Join(fmt.Errorf("run node: %w", err), n.Close())
	}
	r := &running{Node: n, api: api.New(n, api.Config{Logger: benchLog, RateLimit: -1})}
	r.stop = func() error {
		cancel()
		err := <-done
		return errors.Join(err, n.Close())
	}
	return r, nil
}

// seeded is a node data directory holding a room with many messages,
// closed.
type seeded struct {
	dir   string
	room  protocol.RoomID
	alias uint64 // the room's ChatWork room_id
	token string // API token of the room's local member, "reader"
	msgs  int
}

// store is the one seeded directory of the test process: made by the
// first benchmark that needs it, reused by the others and by every run of
// -count, removed by TestMain.
var store struct {
	once sync.Once
	tmp  string
	s    *seeded
	err  error
}

// seededMessages is how many messages the seeded room holds.
func seededMessages() int { return shortOr(1_000_000, 20_000) }

// seededStore returns the process's seeded directory, making it on first
// use.
func seededStore(b *testing.B) *seeded {
	b.Helper()
	store.once.Do(func() {
		t0 := time.Now()
		store.tmp, store.err = os.MkdirTemp("", "horenso-bench-")
		if store.err == nil {
			store.s, store.err = seed(filepath.Join(store.tmp, "node"), seededMessages())
		}
		if store.err == nil {
			b.Logf("seeded %d messages in %v", store.s.msgs, time.Since(t0).Round(time.Millisecond))
		}
	})
	if store.err != nil {
		b.Fatalf("seed store: %v", store.err)
	}
	return store.s
}

// seedLanes is how many chains of messages seed builds side by side. Each
// chain's events are signed and checked one after another, since each
// names the one before as its parent; several chains keep both cores
// busy.
const seedLanes = 4

// seedBatch is how many events seed hands the node's Accept at a time.
const seedBatch = 1024

// seed makes a node in dir whose account "reader" shares a group room
// with "poster", an account on each of seedLanes partner nodes, which
// post msgs messages in it. The partner's messages are real signed events, stored through
// the node's real path for partners' events (decode and verify the
// signature as the p2p host does, then the node's p2p.Handler Accept:
// check the room rules, store, in batches). They form
// seedLanes concurrent chains, one per partner node (a node's events in
// a room form one chain: two lanes of one node would be equivocation), as
// posts from several nodes that did not see each other's would.
func seed(dir string, msgs int) (*seeded, error) {
	if _, err := node.Init(dir, "Bench"); err != nil {
		return nil, err
	}
	r, err := start(dir)
	if err != nil {
		return nil, err
	}
	s, err := seedRunning(r, dir, msgs)
	if err == nil {
		// The node indexes for search as it runs; a seeded node is one
		// whose index has caught up, as a node's is in steady state.
		for st := r.SearchStatus(); err == nil && (st.Lag > 0 || st.Building); st = r.SearchStatus() {
			if st.Error != "" {
				err = fmt.Errorf("search index: %s", st.Error)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if serr := r.stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop seeded node: %w", serr)
	}
	return s, err
}

func seedRunning(r *running, dir string, msgs int) (*seeded, error) {
	ctx := context.Background()
	if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: "reader"}); err != nil {
		return nil, err
	}
	token, err := r.CreateToken(ctx, "reader", "bench")
	if err != nil {
		return nil, err
	}
	partners := make([]*signer, seedLanes)
	var members []node.MemberSpec
	for i := range partners {
		if partners[i], err = newSigner("poster"); err != nil {
			return nil, err
		}
		members = append(members, node.MemberSpec{Account: protocol.NewAccountID(partners[i].origin, partners[i].author)})
	}
	room, err := r.CreateRoom(ctx, "reader", node.NewRoom{Name: "Bench", Members: members})
	if err != nil {
		return nil, err
	}
	heads, err := r.Heads(ctx, room.ID)
	if err != nil || len(heads) != 1 {
		return nil, errors.Join(err, fmt.Errorf("new room has heads %v", heads))
	}
	t0 := time.Now().UnixMilli() - int64(msgs)
	err = concurrently(seedLanes, func(lane int) error {
		partner := partners[lane]
		prev, depth := heads[0], uint64(1)
		for i := lane; i < msgs; {
			var events []*protocol.Signed
			for ; i < msgs && len(events) < seedBatch; i += seedLanes {
				id, wire, err := partner.post(room.ID, prev, depth, depth, t0+int64(i), messageBody(i))
				if err != nil {
					return err
				}
				// Decoded as the p2p host decodes a partner's sync frame:
				// the signature is checked again.
				e, err := protocol.Decode(wire)
				if err != nil {
					return err
				}
				events = append(events, e)
				prev, depth = id, depth+1
			}
			errs := r.FederationForTest().Accept(ctx, partner.origin, room.ID, events)
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("partner events refused: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v, err := r.Room(ctx, "reader", room.ID)
	if err != nil {
		return nil, err
	}
	if v.Messages != uint64(msgs) {
		return nil, fmt.Errorf("seeded room holds %d messages, want %d", v.Messages, msgs)
	}
	return &seeded{dir: dir, room: room.ID, alias: v.Alias, token: token, msgs: msgs}, nil
}

// signer makes a partner node's message.post events.
type signer struct {
	key    ed25519.PrivateKey
	origin protocol.NodeID
	author protocol.Handle
}

func newSigner(author protocol.Handle) (*signer, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &signer{key: key, origin: protocol.NodeIDFromKey(pub), author: author}, nil
}

// post returns the ID and wire form of a message.post in room with the
// single parent prev, at position seq of the signer's chain (prev is its
// event of seq-1, or another node's for seq 1).
func (s *signer) post(room protocol.RoomID, prev protocol.EventID, depth, seq uint64, at int64, body string) (protocol.EventID, []byte, error) {
	e, err := protocol.Sign(s.key, protocol.Event{Room: room, Author: s.author, Prev: []protocol.EventID{prev}, Depth: depth, Seq: seq, Time: at},
		&protocol.MessagePost{Body: body})
	if err != nil {
		return protocol.EventID{}, nil, err
	}
	return e.ID, e.Wire(), nil
}

// concurrently runs fn(0) … fn(n-1) in n goroutines and returns their
// errors joined.
func concurrently(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// serveGet serves GET path as the holder of token, in process, and
// returns the response and how long the handler took.
func serveGet(h http.Handler, path, token string) (*httptest.ResponseRecorder, time.Duration) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("X-ChatWorkToken", token)
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, req)
	return w, time.Since(start)
}
