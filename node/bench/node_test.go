package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/bench/measure"
	"github.com/horenso/horenso/protocol"
)

// writerBusy returns the time n's store writer has spent on batches of
// Updates since it opened (storage.Stats.WriterBusy).
func writerBusy(b *testing.B, n *node.Node) (time.Duration, uint64) {
	b.Helper()
	st, err := n.Status(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	return st.Store.WriterBusy, st.Store.Commits
}

// BenchmarkHTTPPost measures durable posts per second through the HTTP
// API: 1, 8 or 64 clients, each with its own API token and its own group
// room (shared with a second local account, whose unread count every post
// raises), post a fixed number of 100-byte messages one after another with
// POST /v2/rooms/{room_id}/messages over loopback HTTP. A post is answered
// once it is durable (node.Post returns after the store's group commit
// has synced it). The limit is storage's BenchmarkBadgerGroupCommit with
// as many writers: raw Badger writes of the bytes one post writes, the
// writes waiting at the same time sharing one sync. Goal: 10,000 posts/s
// with 64 clients. It also reports the store writer's time per post and
// its share of the run (writer-busy-%): near 100, the single writer is
// what limits the posts, however idle the cores; the posts a Badger
// commit carried (posts/commit), and the process's CPU time per post,
// load generator included (cpu-µs/post).
func BenchmarkHTTPPost(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			r := startNew(b)
			defer func() {
				if err := r.stop(); err != nil {
					b.Error(err)
				}
			}()
			srv := httptest.NewServer(r.api)
			defer srv.Close()
			posters, err := newPosters(b.Context(), r, srv.URL, clients)
			if err != nil {
				b.Fatal(err)
			}
			perClient := shortOr(map[int]int{1: 3000, 8: 1000, 64: 470}, map[int]int{1: 300, 8: 100, 64: 32})[clients]
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}}
			defer client.CloseIdleConnections()
			posts, round := 0, 0
			var busy, writer, cpu time.Duration
			var commits uint64
			for b.Loop() {
				w0, c0 := writerBusy(b, r.Node)
				cpu0 := processCPU()
				t0 := time.Now()
				err := concurrently(clients, func(c int) error {
					for i := range perClient {
						if err := posters[c].post(b.Context(), client, messageBody(round*perClient+i)); err != nil {
							return err
						}
					}
					return nil
				})
				busy += time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - cpu0
				w1, c1 := writerBusy(b, r.Node)
				writer, commits = writer+w1-w0, commits+c1-c0
				posts += clients * perClient
				round++
			}
			b.ReportMetric(float64(posts)/busy.Seconds(), "posts/s")
			b.ReportMetric(float64(writer.Microseconds())/float64(posts), "writer-µs/post")
			b.ReportMetric(100*writer.Seconds()/busy.Seconds(), "writer-busy-%")
			b.ReportMetric(float64(posts)/float64(max(commits, 1)), "posts/commit")
			b.ReportMetric(float64(cpu.Microseconds())/float64(posts), "cpu-µs/post")
		})
	}
}

// poster is one client of BenchmarkHTTPPost: a token and the URL it posts
// to.
type poster struct {
	url, token string
}

// newPosters sets up n clients on r: an account "poster" with a token per
// client, and per client a room of "poster" and "reader".
func newPosters(ctx context.Context, r *running, base string, n int) ([]poster, error) {
	for _, h := range []protocol.Handle{"poster", "reader"} {
		if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: h}); err != nil {
			return nil, err
		}
	}
	reader := protocol.NewAccountID(r.ID(), "reader")
	ps := make([]poster, n)
	for i := range ps {
		room, err := r.CreateRoom(ctx, "poster", node.NewRoom{Name: fmt.Sprintf("Room %d", i),
			Members: []node.MemberSpec{{Account: reader}}})
		if err != nil {
			return nil, err
		}
		tok, err := r.CreateToken(ctx, "poster", fmt.Sprintf("client %d", i))
		if err != nil {
			return nil, err
		}
		ps[i] = poster{url: fmt.Sprintf("%s/v2/rooms/%d/messages", base, room.Alias), token: tok}
	}
	return ps, nil
}

// post posts body, as a ChatWork client does, and returns once the node
// has answered.
func (p poster) post(ctx context.Context, c *http.Client, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader("body="+url.QueryEscape(body)))
	if err != nil {
		return err
	}
	req.Header.Set("X-ChatWorkToken", p.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("post: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post: %s: %s", resp.Status, answer)
	}
	return nil
}

// BenchmarkReadLast50 measures, in microseconds, the median and 99th
// percentile time the HTTP API takes to answer GET
// /api/rooms/{room_id}/messages?limit=50, the newest 50 messages of a room
// (what the web app asks for when it opens one), in a room of 1,000,000
// messages (20,000 with -short). The handler is called in process, so the
// time is the server's alone: authentication, the store, JSON. The limit
// is storage's BenchmarkBadgerRangeRead: raw Badger reading the newest 50
// of as many records of the size a post keeps. Goal: p50 ≤ 1 ms.
func BenchmarkReadLast50(b *testing.B) {
	s := seededStore(b)
	r, err := start(s.dir)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := r.stop(); err != nil {
			b.Error(err)
		}
	}()
	path := fmt.Sprintf("/api/rooms/%d/messages?limit=50", s.alias)
	read := func() (time.Duration, error) {
		w, took := serveGet(r.api, path, s.token)
		if w.Code != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d %s", path, w.Code, w.Body)
		}
		return took, nil
	}
	if err := checkLast50(r.api, path, s.token); err != nil {
		b.Fatal(err)
	}
	for range 20 { // warm the caches, as a serving node's are
		if _, err := read(); err != nil {
			b.Fatal(err)
		}
	}
	var times []time.Duration
	for b.Loop() {
		for range shortOr(2000, 200) {
			took, err := read()
			if err != nil {
				b.Fatal(err)
			}
			times = append(times, took)
		}
	}
	b.ReportMetric(measure.Us(measure.Quantile(times, 0.50)), "p50-us")
	b.ReportMetric(measure.Us(measure.Quantile(times, 0.99)), "p99-us")
	b.ReportMetric(float64(s.msgs), "msgs")
}

// checkLast50 checks that path answers 50 messages with bodies.
func checkLast50(h http.Handler, path, token string) error {
	w, _ := serveGet(h, path, token)
	var ms []struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ms); err != nil {
		return fmt.Errorf("GET %s: %d: %w", path, w.Code, err)
	}
	if len(ms) != 50 || ms[49].Body == "" {
		return fmt.Errorf("GET %s: %d messages, want 50", path, len(ms))
	}
	return nil
}

// The environment of TestFootprintChild, set by BenchmarkFootprint.
const (
	envFootprintDir   = "HORENSO_BENCH_FOOTPRINT_DIR"   // the seeded node's data directory
	envFootprintPath  = "HORENSO_BENCH_FOOTPRINT_PATH"  // what to GET
	envFootprintToken = "HORENSO_BENCH_FOOTPRINT_TOKEN" // as whom
	envFootprintOut   = "HORENSO_BENCH_FOOTPRINT_OUT"   // where to write the resident set size, in kB
)

// BenchmarkFootprint measures what a node with 1,000,000 stored messages
// (20,000 with -short) costs: the resident set size in MB of a process
// that runs the node on them and has answered 200 reads of the newest 50
// messages of their room (the test binary run again as TestFootprintChild,
// so that the figure is the node's and not the benchmark's), and the bytes
// of its data directory per message once it is closed. The limit of the
// latter is storage's BenchmarkBadgerFootprint: raw Badger holding as many
// records of the bytes a post keeps. Goals: 150 MB, 400 bytes per message.
func BenchmarkFootprint(b *testing.B) {
	s := seededStore(b)
	var rssKB, size int64
	for b.Loop() {
		out := filepath.Join(b.TempDir(), "rss")
		cmd := exec.CommandContext(b.Context(), os.Args[0], "-test.run=^TestFootprintChild$", "-test.bench=^$", "-test.count=1")
		cmd.Env = append(os.Environ(), envFootprintDir+"="+s.dir, envFootprintToken+"="+s.token, envFootprintOut+"="+out,
			envFootprintPath+"="+fmt.Sprintf("/api/rooms/%d/messages?limit=50", s.alias))
		if log, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("footprint process: %v\n%s", err, log)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		if rssKB, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
			b.Fatal(err)
		}
		if size, err = measure.DirSize(s.dir); err != nil {
			b.Fatal(err)
		}
		// The search index is reported apart, by node/search's
		// BenchmarkSearch (index bytes per message).
		index, err := measure.DirSize(filepath.Join(s.dir, "search"))
		if err != nil {
			b.Fatal(err)
		}
		size -= index
	}
	if err := logFootprint(b, s.dir, int64(s.msgs)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rssKB)/1024, "rss-MB")
	b.ReportMetric(float64(size)/float64(s.msgs), "disk-B/msg")
	b.ReportMetric(float64(s.msgs), "msgs")
}

// TestFootprintChild is BenchmarkFootprint's node process: it runs the node
// in $HORENSO_BENCH_FOOTPRINT_DIR, serves 200 reads, and writes its
// resident set size to $HORENSO_BENCH_FOOTPRINT_OUT. Run by itself, it
// skips.
func TestFootprintChild(t *testing.T) {
	dir := os.Getenv(envFootprintDir)
	if dir == "" {
		t.Skip("run by BenchmarkFootprint")
	}
	r, err := start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.stop(); err != nil {
			t.Error(err)
		}
	}()
	path, token := os.Getenv(envFootprintPath), os.Getenv(envFootprintToken)
	if err := checkLast50(r.api, path, token); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if w, _ := serveGet(r.api, path, token); w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
	}
	kB, err := residentKB()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(envFootprintOut), []byte(strconv.FormatInt(kB, 10)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// residentKB returns the process's resident set size (VmRSS) in kB.
func residentKB() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read resident set size: %w", err)
	}
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kB, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read resident set size: %w", err)
			}
			return kB, nil
		}
	}
	return 0, fmt.Errorf("read resident set size: no VmRSS in /proc/self/status")
}
