package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// httpPoster posts 100-byte messages over HTTP into the room with ChatWork
// room_id alias, as the holder of token, every interval until ctx ends,
// and records how long each post took.
func httpPoster(ctx context.Context, hc *http.Client, base, token string, alias uint64, interval time.Duration, lat *latencies) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		t0 := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/v2/rooms/%d/messages", base, alias),
			strings.NewReader(url.Values{"body": {messageBody(i)}}.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("X-ChatWorkToken", token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("post: %w", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("post: %s", resp.Status)
		}
		lat.add(time.Since(t0))
	}
}

// BenchmarkLoginFlood measures password logins over HTTP (POST
// /api/login: an argon2id hash each, in the node's bounded pool) by 64
// clients at once (16 under -short), each as its own account, 500 in all
// (50), while a member posts over HTTP every 50 ms into another room.
// logins/s is the logins answered 200 per second; busy-% the share of
// attempts answered 503 (the pool's queue full or its wait over), which
// the client retried after 100 ms; post-p99-ms the posts' latency during
// the flood, quiet-post-p99-ms before it, as the limit. Goal: 1,000
// logins a minute (16.7/s), posts as quick as without the flood.
func BenchmarkLoginFlood(b *testing.B) {
	// Each client logs in as its own account, as people do.
	logins, clients := shortOr(500, 50), shortOr(64, 16)
	accounts := clients
	r := startNew(b)
	b.Cleanup(func() { // after serve's, which stops the HTTP server
		if err := r.stop(); err != nil {
			b.Error(err)
		}
	})
	ctx := b.Context()
	raiseFileLimit(b)
	// One at a time: each hashes its password in the pool, whose queue
	// gives up after 10 s.
	for i := range accounts {
		if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: protocol.Handle(fmt.Sprintf("u%03d", i)), Password: fmt.Sprintf("password %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: "poster"}); err != nil {
		b.Fatal(err)
	}
	room, err := r.CreateRoom(ctx, "poster", node.NewRoom{Name: "Work goes on"})
	if err != nil {
		b.Fatal(err)
	}
	token, err := r.CreateToken(ctx, "poster", "bench")
	if err != nil {
		b.Fatal(err)
	}
	base := serve(b, r)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients, DisableCompression: true}}
	defer hc.CloseIdleConnections()

	// Posts without a flood: the limit.
	var quiet latencies
	qctx, qcancel := context.WithTimeout(ctx, shortOr(5*time.Second, time.Second))
	err = httpPoster(qctx, hc, base, token, room.Alias, 50*time.Millisecond, &quiet)
	qcancel()
	if err != nil {
		b.Fatal(err)
	}

	var during latencies
	var ok, busy atomic.Int64
	var busyTime time.Duration
	for b.Loop() {
		pctx, pcancel := context.WithCancel(ctx)
		posted := make(chan error, 1)
		go func() { posted <- httpPoster(pctx, hc, base, token, room.Alias, 50*time.Millisecond, &during) }()
		var next atomic.Int64
		t0 := time.Now()
		err := concurrently(clients, func(a int) error {
			for i := next.Add(1) - 1; i < int64(logins); i = next.Add(1) - 1 {
				for {
					status, err := login(ctx, hc, base, fmt.Sprintf("u%03d", a), fmt.Sprintf("password %d", a))
					if err != nil {
						return err
					}
					if status == http.StatusOK {
						ok.Add(1)
						break
					}
					if status != http.StatusServiceUnavailable {
						return fmt.Errorf("login: HTTP %d", status)
					}
					busy.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
			}
			return nil
		})
		busyTime += time.Since(t0)
		pcancel()
		if perr := <-posted; err == nil {
			err = perr
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ok.Load())/busyTime.Seconds(), "logins/s")
	b.ReportMetric(100*float64(busy.Load())/float64(busy.Load()+ok.Load()), "busy-%")
	b.ReportMetric(during.quantile(0.99), "post-p99-ms")
	b.ReportMetric(quiet.quantile(0.99), "quiet-post-p99-ms")
	b.ReportMetric(float64(logins), "logins")
}

// login posts a login form and returns the answer's status.
func login(ctx context.Context, hc *http.Client, base, name, password string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/login",
		strings.NewReader(url.Values{"login": {name}, "password": {password}}.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// firstLoad is what the web app asks for when it opens (app.js start,
// after GET /api/session), besides connecting to /api/events.
var firstLoad = []string{"/v2/rooms", "/v2/me", "/v2/my/status", "/v2/my/tasks?status=open", "/v2/incoming_requests", "/api/health"}

// BenchmarkMorningRush measures the morning rush of a 5,000-person
// organization (500 under -short): every member, with a session already
// (its token sent as the session cookie, as the web app does), opens the
// web app within 60 s (6 s), at evenly spread moments: GET /api/session,
// then at once the room list with unread counts, me, my status, my open
// tasks, contact requests and health, and the live event stream, which
// stays open; meanwhile a member posts into the 5,000-member all-hands
// room every 200 ms. p50-ms and p99-ms are over every first-load call
// (the stream's: until its headers arrive); the log names the slowest
// call. cpu-ms/open is the CPU time the whole process (node, server,
// clients, poster) used during the rush per app opened. Goal: p99 ≤ 1 s.
func BenchmarkMorningRush(b *testing.B) {
	members := shortOr(5000, 500)
	window := shortOr(60*time.Second, 6*time.Second)
	br := newBigRoom(b, members)
	tokens := br.tokens(b, members)
	v, err := br.Room(b.Context(), br.handles[0], br.room)
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1 << 16, DisableCompression: true}}
	defer hc.CloseIdleConnections()

	var all latencies
	byPath := map[string]*latencies{}
	for _, p := range append([]string{"/api/session", "/api/events"}, firstLoad...) {
		byPath[strings.SplitN(p, "?", 2)[0]] = &latencies{}
	}
	var postLat latencies
	var cpu time.Duration
	opens := 0
	var failed atomic.Pointer[error]
	fail := func(err error) { failed.CompareAndSwap(nil, &err) }
	for b.Loop() {
		ctx, cancel := context.WithCancel(b.Context())
		posted := make(chan error, 1)
		go func() {
			posted <- httpPoster(ctx, hc, br.url, tokens[0], v.Alias, 200*time.Millisecond, &postLat)
		}()
		stopProfile := profilePhase(b)
		cpu0 := cpuTime(b)
		var streams, loads sync.WaitGroup
		t0 := time.Now()
		for i := range members {
			at := t0.Add(window * time.Duration(i) / time.Duration(members))
			time.Sleep(time.Until(at))
			loads.Go(func() {
				if err := openApp(ctx, hc, br.url, tokens[i], &all, byPath, &streams); err != nil {
					fail(err)
				}
			})
		}
		loads.Wait()
		cpu += cpuTime(b) - cpu0
		opens += members
		stopProfile()
		cancel()
		streams.Wait()
		if err := <-posted; err != nil {
			fail(err)
		}
		if err := failed.Load(); err != nil {
			b.Fatal(*err)
		}
	}
	b.ReportMetric(all.quantile(0.5), "p50-ms")
	b.ReportMetric(all.quantile(0.99), "p99-ms")
	b.ReportMetric(postLat.quantile(0.99), "post-p99-ms")
	b.ReportMetric(float64(members), "accounts")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(opens), "cpu-ms/open")
	for p, l := range byPath {
		b.Logf("%-28s p50 %7.1f ms  p99 %7.1f ms", p, l.quantile(0.5), l.quantile(0.99))
	}
}

// openApp makes the web app's first-load calls as the holder of session
// token, timing each, and leaves its live stream open (read and
// discarded) until ctx ends, under streams.
func openApp(ctx context.Context, hc *http.Client, base, token string, all *latencies, byPath map[string]*latencies, streams *sync.WaitGroup) error {
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		req.AddCookie(&http.Cookie{Name: "horenso_session", Value: token})
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		if path != "/api/events" {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", path, err)
			}
		}
		d := time.Since(t0)
		all.add(d)
		byPath[strings.SplitN(path, "?", 2)[0]].add(d)
		return resp, nil
	}
	if _, err := get("/api/session"); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(firstLoad)+1)
	for i, p := range firstLoad {
		wg.Go(func() { _, errs[i] = get(p) })
	}
	wg.Go(func() {
		resp, err := get("/api/events")
		if err != nil {
			errs[len(firstLoad)] = err
			return
		}
		streams.Go(func() {
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body) // until ctx ends
		})
	})
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
