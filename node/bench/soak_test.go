package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node/bench/measure"
)

// The environment of BenchmarkSoak.
const (
	envSoak     = "HORENSO_SOAK"      // how long it posts, e.g. 30m; unset: skip
	envSoakRate = "HORENSO_SOAK_RATE" // posts a second; unset: half the 64-client rate measured first
)

// BenchmarkSoak runs two `horenso run` processes, partners, for
// $HORENSO_SOAK (`make soak`: 30 minutes): node A's 64 clients post into
// 64 rooms shared with node B's account at half the rate they reach
// flat out (measured for 20 s first; $HORENSO_SOAK_RATE sets it), while
// 8 readers on A read the newest 50 messages of a room, one read every
// 50 ms each. Every minute it prints, to standard error as it goes: A's
// and B's RSS, A's Go heap in use, A's open files, the posts made and
// their p99 latency, the reads' p99, and the events B holds. It skips
// unless $HORENSO_SOAK is set, so `make bench` and `make test` leave it
// out. It reports A's RSS at the end and its most, and the p99 of the
// posts of the last minute. With $HORENSO_BENCH_HEAP_PROFILE set, A runs
// with --pprof, and the soak saves A's heap profile at the end to that
// file, and a CPU profile of A's last 30 seconds of posting beside it
// (the same name, with ".cpu" added).
func BenchmarkSoak(b *testing.B) {
	length, err := time.ParseDuration(os.Getenv(envSoak))
	if err != nil || length <= 0 {
		b.Skipf("$%s is not a duration (e.g. 30m): skipping the soak run", envSoak)
	}
	const clients, readers = 64, 8
	for b.Loop() {
		profile := os.Getenv(envHeapProfile)
		var extra []string
		if profile != "" {
			extra = append(extra, "--pprof")
		}
		a := startProc(b, filepath.Join(b.TempDir(), "a"), "Soak A", extra...)
		// B takes in all of A's posts: at the rate of a fast hour, 30
		// minutes are two million events, twice the daily quota a partner
		// has by default, over which B would drop them.
		//
		// B runs a copy of the executable, as a partner's node runs on a
		// machine of its own: the kernel does not page out a page that
		// two processes map, so with one file each node would keep the
		// code both use resident (37.5 MB of A's RSS in a soak of
		// 2026-12-07, against 24–25 MB for a node alone).
		partner := startProcOf(b, copyBinary(b, horensoBinary(b)), filepath.Join(b.TempDir(), "b"), "Soak B",
			"--partner-events-per-day", "-1", "--partner-mib-per-day", "-1")
		var stA, stB struct {
			NodeID string   `json:"node_id"`
			Addrs  []string `json:"addrs"`
		}
		for _, s := range []struct {
			p  *nodeProc
			st any
		}{{a, &stA}, {partner, &stB}} {
			if err := s.p.admin(s.st, "status"); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.admin(nil, "partner", "add", stB.Addrs[0]); err != nil {
			b.Fatal(err)
		}
		if err := partner.admin(nil, "partner", "add", stA.Addrs[0]); err != nil {
			b.Fatal(err)
		}
		if err := partner.admin(nil, "user", "add", "remote"); err != nil {
			b.Fatal(err)
		}
		posters, err := a.httpPosters(clients, "remote@"+stB.NodeID)
		if err != nil {
			b.Fatal(err)
		}
		var reader struct {
			Token string `json:"token"`
		}
		if err := a.admin(&reader, "token", "create", "reader", "--name", "soak reader"); err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}}
		defer client.CloseIdleConnections()

		rate, _ := strconv.ParseFloat(os.Getenv(envSoakRate), 64)
		if rate <= 0 {
			_, posts, err := sustain(b.Context(), a, posters, 20*time.Second, 2)
			if err != nil {
				b.Fatal(err)
			}
			rate = float64(posts) / 20 / 2
		}
		fmt.Fprintf(os.Stderr, "soak: %v at %.0f posts/s from %d clients, %d readers; load %s\n", length, rate, clients, readers, loadAverage())
		s := soak(b, a, partner, posters, reader.Token, client, rate, length, readers, profile)
		b.ReportMetric(s.lastRSS, "rss-MB")
		b.ReportMetric(s.peakRSS, "peak-rss-MB")
		b.ReportMetric(s.lastP99, "p99-ms")
		b.ReportMetric(rate, "offered-posts/s")
		b.ReportMetric(length.Minutes(), "minutes")
	}
}

// soakResult is what BenchmarkSoak reports.
type soakResult struct{ lastRSS, peakRSS, lastP99 float64 }

// soak runs BenchmarkSoak's load on a, whose rooms partner receives, for
// length: posters post at rate in all, readers read. It prints a line a
// minute and returns once every poster and reader has stopped.
func soak(b *testing.B, a, partner *nodeProc, posters []poster, readToken string, client *http.Client,
	rate float64, length time.Duration, readers int, profile string) soakResult {
	ctx, cancel := context.WithTimeout(b.Context(), length)
	defer cancel()
	var posted, failed atomic.Int64
	var postLat, readLat latencies
	var wg sync.WaitGroup
	if profile != "" && length > time.Minute {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(length - 45*time.Second):
			}
			if err := a.saveProfile(b.Context(), "profile?seconds=30", profile+".cpu"); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Go(func() {
		n := int(rate * length.Seconds())
		measure.Pace(ctx, n, rate, len(posters), time.Now().Add(length), func(i int) {
			t0 := time.Now()
			if err := posters[i%len(posters)].post(ctx, client, messageBody(i)); err != nil {
				if ctx.Err() == nil {
					failed.Add(1)
				}
				return
			}
			postLat.add(time.Since(t0))
			posted.Add(1)
		})
	})
	for r := range readers {
		wg.Go(func() {
			room := strings.TrimSuffix(strings.TrimPrefix(posters[r].url, a.http+"/v2/rooms/"), "/messages")
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := getLast50(ctx, client, a.http+"/api/rooms/"+room+"/messages?limit=50", readToken); err == nil {
					readLat.add(time.Since(t0))
				} else if ctx.Err() == nil {
					failed.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}
	var res soakResult
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	start := time.Now()
	const row = "%3v  %6v  %6v  %8v  %6v  %7v  %10v  %11v  %8v  %6v  %8v  %6v  %5v\n"
	fmt.Fprintf(os.Stderr, row, "min", "A rss", "anon MB", "mapped MB", "A heap", "A files", "posts made", "post p99 ms",
		"read p99", "B rss", "B events", "failed", "load")
	for minute := 1; ; minute++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		if ctx.Err() != nil && time.Since(start) < length*9/10 {
			break // ended early: b.Context ended
		}
		stA, errA := a.procStatus()
		stB, errB := partner.procStatus()
		files, errF := a.openFiles()
		g, errG := a.gauges(b.Context(), "go_memstats_heap_inuse_bytes")
		var status struct {
			Events uint64 `json:"events"`
		}
		errS := partner.admin(&status, "status")
		if err := firstErr(errA, errB, errF, errG, errS); err != nil {
			b.Fatal(err)
		}
		postP99 := measure.Ms(measure.Quantile(postLat.take(), 0.99))
		readP99 := measure.Ms(measure.Quantile(readLat.take(), 0.99))
		rss := float64(stA["VmRSS"]) / 1024
		fmt.Fprintf(os.Stderr, row, minute, fmt.Sprintf("%.0f MB", rss), stA["RssAnon"]>>10, (stA["RssFile"]+stA["RssShmem"])>>10,
			fmt.Sprintf("%.0f MB", g["go_memstats_heap_inuse_bytes"]/(1<<20)), files, posted.Load(), fmt.Sprintf("%.1f", postP99),
			fmt.Sprintf("%.1f", readP99), fmt.Sprintf("%.0f MB", float64(stB["VmRSS"])/1024), status.Events, failed.Load(), loadAverage())
		res.lastRSS, res.peakRSS, res.lastP99 = rss, max(res.peakRSS, rss), postP99
		if ctx.Err() != nil {
			break
		}
	}
	if profile != "" {
		if err := a.saveProfile(b.Context(), "heap", profile); err != nil {
			b.Error(err)
		}
	}
	cancel()
	wg.Wait()
	return res
}

// copyBinary copies the executable bin into a temporary directory of b's
// and returns the copy's path.
func copyBinary(b testing.TB, bin string) string {
	b.Helper()
	raw, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), filepath.Base(bin))
	if err := os.WriteFile(path, raw, 0o755); err != nil {
		b.Fatal(err)
	}
	return path
}

// getLast50 reads the newest 50 messages of a room as the web app does.
func getLast50(ctx context.Context, c *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// loadAverage returns the machine's 1-minute load average, or "?".
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func firstErr(errs ...error) error {
	if i := slices.IndexFunc(errs, func(err error) bool { return err != nil }); i >= 0 {
		return errs[i]
	}
	return nil
}
