package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/protocol"
)

// phaseProfile names a file for a CPU profile of the measured phase of
// BenchmarkLiveFanOut, BenchmarkMorningRush and BenchmarkCatchUp alone (-cpuprofile takes
// in the setup too, which adds thousands of members).
var phaseProfile = flag.String("phaseprofile", "", "write a CPU profile of the measured phase of the live fan-out, morning rush and catch-up benchmarks to this file")

// profilePhase starts a CPU profile into *phaseProfile, if set, and
// returns the function that stops it.
func profilePhase(b *testing.B) func() {
	if *phaseProfile == "" {
		return func() {}
	}
	f, err := os.Create(*phaseProfile)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// bigRoom is a running node with an all-hands room of local members,
// served over real HTTP on loopback.
type bigRoom struct {
	*running
	room    protocol.RoomID
	handles []protocol.Handle
	url     string // the HTTP API's base URL
}

// newBigRoom starts a node whose room "All hands" has members local
// members m00000…, made as BenchmarkAllHands makes them (the first 256
// listed by the room.create, the rest added one at a time), and serves
// its API over HTTP on 127.0.0.1 with the connection limits raised for
// thousands of clients from one address. It stops with the benchmark.
func newBigRoom(b *testing.B, members int) *bigRoom {
	b.Helper()
	raiseFileLimit(b)
	r := startNew(b)
	br := &bigRoom{running: r}
	b.Cleanup(func() {
		if err := r.stop(); err != nil {
			b.Error(err)
		}
	})
	ctx := context.Background()
	br.handles = make([]protocol.Handle, members)
	for i := range br.handles {
		br.handles[i] = protocol.Handle(fmt.Sprintf("m%05d", i))
		if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: br.handles[i]}); err != nil {
			b.Fatal(err)
		}
	}
	listed := min(members, protocol.MaxListSize+1)
	specs := make([]node.MemberSpec, 0, listed-1)
	for _, h := range br.handles[1:listed] {
		specs = append(specs, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)})
	}
	room, err := r.CreateRoom(ctx, br.handles[0], node.NewRoom{Name: "All hands", Members: specs})
	if err != nil {
		b.Fatal(err)
	}
	br.room = room.ID
	for _, h := range br.handles[listed:] {
		if err := r.AddMember(ctx, br.handles[0], room.ID, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)}); err != nil {
			b.Fatal(err)
		}
	}
	br.url = serve(b, r)
	return br
}

// serve serves r's API over HTTP on 127.0.0.1, without a rate limit and
// with the connection limits raised for thousands of clients from one
// address, until the benchmark ends, and returns its base URL.
func serve(b *testing.B, r *running) string {
	b.Helper()
	r.api = api.New(r.Node, api.Config{Logger: benchLog, RateLimit: -1, MaxConns: 1 << 20, MaxConnsPerAddr: 1 << 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := r.api.HTTPServer()
	srv.RegisterOnShutdown(r.api.Shutdown)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(r.api.Listener(ln)) }()
	b.Cleanup(func() {
		r.api.Shutdown()
		if err := srv.Close(); err != nil {
			b.Error(err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// tokens returns an API token for each of the first n members, made
// directly through the node (not over HTTP), a few at a time.
func (br *bigRoom) tokens(b *testing.B, n int) []string {
	b.Helper()
	out := make([]string, n)
	const workers = 8
	err := concurrently(workers, func(w int) error {
		for i := w; i < n; i += workers {
			t, err := br.CreateToken(context.Background(), br.handles[i], "bench")
			if err != nil {
				return err
			}
			out[i] = t
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// raiseFileLimit raises the process's open file limit to its hard limit:
// every loopback connection takes two descriptors, the client's and the
// server's.
func raiseFileLimit(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Logf("open file limit: %v", err)
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Logf("raise open file limit: %v", err)
		}
	}
}

// liveClient is one /api/events stream, read by a goroutine that notes
// when each benchmark message arrives.
type liveClient struct {
	got      []time.Time   // by message number; zero until received
	received *atomic.Int64 // counts first receipts, shared by the clients
}

// liveMarker starts each benchmark message body: "live <n>;".
const liveMarker = "live "

// follow opens the stream as the holder of token and records the arrival
// of message bodies starting with liveMarker until ctx ends. It closes
// connected once the stream's headers have arrived.
func (lc *liveClient) follow(ctx context.Context, hc *http.Client, url, token string, connected func(error)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/events", nil)
	if err != nil {
		connected(err)
		return err
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := hc.Do(req)
	if err != nil {
		connected(err)
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("GET /api/events: %s", resp.Status)
		connected(err)
		return err
	}
	br := bufio.NewReaderSize(resp.Body, 8<<10)
	first := true
	marker := []byte(`"body":"` + liveMarker)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read /api/events: %w", err)
		}
		if first { // "retry: …", the stream's first line
			first = false
			connected(nil)
		}
		at := time.Now()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		i := bytes.Index(line, marker)
		if i < 0 {
			continue
		}
		rest := line[i+len(marker):]
		j := bytes.IndexByte(rest, ';')
		if j < 0 {
			continue
		}
		n, err := strconv.Atoi(string(rest[:j]))
		if err == nil && n >= 0 && n < len(lc.got) && lc.got[n].IsZero() {
			lc.got[n] = at
			lc.received.Add(1)
		}
	}
}

// BenchmarkLiveFanOut measures the live event stream of a large
// organization: a node whose all-hands room has 5,000 local members (500
// under -short), 2,000 of whom (200) follow /api/events, each with its
// own token and its own HTTP connection on loopback. A member posts
// 100-byte messages into the room at a steady rate (10/s, for 10 s; 2 s
// under -short); p50-ms and p99-ms are the time from a post's commit
// (node.Post returning) to each stream's receipt of it, delivered-% the
// share of (post, stream) pairs received before the streams close, 5 s
// after the last post. cpu-us/delivery is the CPU time the whole process
// (node, HTTP server, the streams' clients and the poster) used while
// posting, per (post, stream) delivered: a figure a busy machine moves
// less than latency. Goal: p99 ≤ 200 ms, 100% delivered.
func BenchmarkLiveFanOut(b *testing.B) {
	members, streams := shortOr(5000, 500), shortOr(2000, 200)
	const rate = 10 // posts per second
	posts := shortOr(100, 20)
	br := newBigRoom(b, members)
	tokens := br.tokens(b, streams)
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: streams, DisableCompression: true}}
	defer hc.CloseIdleConnections()

	var lat []time.Duration
	var cpu time.Duration
	delivered, offered := 0, 0
	for b.Loop() {
		ctx, cancel := context.WithCancel(b.Context())
		clients := make([]*liveClient, streams)
		var received atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		var connectWG sync.WaitGroup
		connectWG.Add(streams)
		t0 := time.Now()
		for i := range clients {
			clients[i] = &liveClient{got: make([]time.Time, posts), received: &received}
			var once sync.Once
			wg.Go(func() {
				err := clients[i].follow(ctx, hc, br.url, tokens[i], func(err error) {
					once.Do(func() {
						if err != nil {
							failed.CompareAndSwap(nil, &err)
						}
						connectWG.Done()
					})
				})
				once.Do(connectWG.Done)
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			})
		}
		connectWG.Wait()
		if err := failed.Load(); err != nil {
			cancel()
			wg.Wait()
			b.Fatal(*err)
		}
		b.Logf("%d streams connected in %v", streams, time.Since(t0).Round(time.Millisecond))

		stopProfile := profilePhase(b)
		cpu0 := cpuTime(b)
		committed := make([]time.Time, posts)
		tick := time.NewTicker(time.Second / rate)
		poster := br.handles[members-1]
		for i := range posts {
			<-tick.C
			if _, err := br.Post(ctx, poster, br.room, liveBody(i)); err != nil {
				cancel()
				wg.Wait()
				b.Fatal(err)
			}
			committed[i] = time.Now()
		}
		tick.Stop()
		// Wait for every stream to have every post, at most 5 s.
		deadline := time.Now().Add(5 * time.Second)
		for received.Load() < int64(streams*posts) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		stopProfile()
		cpu += cpuTime(b) - cpu0
		cancel()
		wg.Wait()
		if err := failed.Load(); err != nil {
			b.Fatal(*err)
		}
		for _, c := range clients {
			for i, at := range c.got {
				offered++
				if at.IsZero() {
					continue
				}
				delivered++
				lat = append(lat, max(0, at.Sub(committed[i])))
			}
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	}
	b.ReportMetric(100*float64(delivered)/float64(offered), "delivered-%")
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(1, delivered)), "cpu-us/delivery")
	b.ReportMetric(float64(streams), "streams")
	b.ReportMetric(float64(members), "members")
}

// liveBody is the body of the benchmark's message i: liveMarker, its
// number, then filler up to bodyBytes.
func liveBody(i int) string {
	s := fmt.Sprintf("%s%d;", liveMarker, i)
	return s + messageBody(i)[len(s):]
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
