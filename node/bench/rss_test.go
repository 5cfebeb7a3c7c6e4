package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// envSustain sets how long BenchmarkPostingRSS posts, as a Go duration:
// the figure is "10m"; `make bench` runs the default, 2 minutes.
const envSustain = "HORENSO_BENCH_SUSTAIN"

// envHeapProfile names a file for BenchmarkPostingRSS to save the posting
// node's heap profile in at the end of its run (the node runs with
// --pprof): `go tool pprof -sample_index=inuse_space FILE`.
const envHeapProfile = "HORENSO_BENCH_HEAP_PROFILE"

// sustainFor returns how long BenchmarkPostingRSS posts.
func sustainFor(b *testing.B) time.Duration {
	if s := os.Getenv(envSustain); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("$%s=%q: want a duration such as 10m", envSustain, s)
		}
		return d
	}
	return shortOr(2*time.Minute, 10*time.Second)
}

// rssSample is the posting node's memory at one time of a run.
type rssSample struct {
	at              time.Duration
	rss, anon, file int64 // VmRSS, RssAnon, RssFile+RssShmem, kB
	posts           int64
}

func (s rssSample) String() string {
	return fmt.Sprintf("%v %d MB (anon %d, files %d) %d posts",
		s.at.Round(time.Second), s.rss>>10, s.anon>>10, s.file>>10, s.posts)
}

// BenchmarkPostingRSS measures the memory of a posting node as the
// issue's reviewer did: a `horenso run` process (the binary built from
// cmd/horenso, default settings, or those of $HORENSO_BENCH_RUN_FLAGS)
// takes posts from 64 clients over loopback HTTP, as fast as they go (the
// 64-client rate of BenchmarkHTTPPost), for 2 minutes ($HORENSO_BENCH_SUSTAIN
// =10m for the 10; 10 s with -short). Its VmRSS is read from
// /proc/<pid>/status 24 times along the way. It reports the RSS at the
// end, the most seen, and the growth over the last half (rssGrowth).
// Goals: 200 MB, and no growth beyond 10 MB, the garbage collector's
// sawtooth.
func BenchmarkPostingRSS(b *testing.B) {
	const clients = 64
	length := sustainFor(b)
	var last, peak, growth, rate float64
	for b.Loop() {
		var extra []string
		if os.Getenv(envHeapProfile) != "" {
			extra = append(extra, "--pprof")
		}
		p := startProc(b, filepath.Join(b.TempDir(), "node"), "Bench", extra...)
		posters, err := p.httpPosters(clients)
		if err != nil {
			b.Fatal(err)
		}
		samples, posts, err := sustain(b.Context(), p, posters, length, 24)
		if err != nil {
			b.Fatal(err)
		}
		var lines []string // 4 samples a line: a benchmark's log shows 10 lines at most
		peak = 0
		for i, s := range samples {
			if i%4 == 0 {
				lines = append(lines, "")
			}
			lines[len(lines)-1] += s.String() + "; "
			peak = max(peak, float64(s.rss)/1024)
		}
		mapped, err := p.mappedByKind()
		if err != nil {
			b.Fatal(err)
		}
		heap, err := p.gauges(b.Context(), "go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes",
			"go_memstats_heap_released_bytes", "go_memstats_next_gc_bytes", "go_memstats_sys_bytes")
		if err != nil {
			b.Fatal(err)
		}
		if path := os.Getenv(envHeapProfile); path != "" {
			if err := p.saveProfile(b.Context(), "heap", path); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("posting node, %d clients, %v; mapped at the end (kB): %v; Go memory at the end (MB): %v\n  %s",
			clients, length, mapped, inMB(heap), strings.Join(lines, "\n  "))
		last, growth = float64(samples[len(samples)-1].rss)/1024, rssGrowth(samples)
		rate = float64(posts) / length.Seconds()
	}
	b.ReportMetric(last, "rss-MB")
	b.ReportMetric(peak, "peak-rss-MB")
	b.ReportMetric(growth, "rss-growth-MB")
	b.ReportMetric(rate, "posts/s")
	b.ReportMetric(length.Minutes(), "minutes")
}

// rssGrowth returns, in MB, how much the RSS grew over the last half of
// samples: the mean of the last quarter minus the mean of the quarter
// before, so that the garbage collector's sawtooth (tens of MB between
// two samples) does not pass for growth.
func rssGrowth(samples []rssSample) float64 {
	q := len(samples) / 4
	mean := func(ss []rssSample) float64 {
		var sum int64
		for _, s := range ss {
			sum += s.rss
		}
		return float64(sum) / float64(len(ss)) / 1024
	}
	return mean(samples[len(samples)-q:]) - mean(samples[len(samples)-2*q:len(samples)-q])
}

// sustain has every poster post, one post after another, for length, and
// samples p's memory n times at even intervals along the way. It returns
// the samples and how many posts were made.
func sustain(ctx context.Context, p *nodeProc, posters []poster, length time.Duration, n int) ([]rssSample, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, length)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: len(posters), MaxIdleConnsPerHost: len(posters)}}
	defer client.CloseIdleConnections()
	var posts atomic.Int64
	start := time.Now()
	var samples []rssSample
	sample := func() error {
		st, err := p.procStatus()
		if err == nil {
			samples = append(samples, rssSample{at: time.Since(start), rss: st["VmRSS"], anon: st["RssAnon"],
				file: st["RssFile"] + st["RssShmem"], posts: posts.Load()})
		}
		return err
	}
	sampled := make(chan error, 1)
	go func() { // n-1 samples while posting, the last once it ends
		tick := time.NewTicker(length / time.Duration(n))
		defer tick.Stop()
		for range n - 1 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				sampled <- nil
				return
			}
			if err := sample(); err != nil {
				sampled <- err
				return
			}
		}
		sampled <- nil
	}()
	err := concurrently(len(posters), func(c int) error {
		for i := 0; ctx.Err() == nil; i++ {
			if err := posters[c].post(ctx, client, messageBody(i)); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			posts.Add(1)
		}
		return nil
	})
	cancel()
	err = errors.Join(err, <-sampled)
	if err == nil {
		err = sample()
	}
	if err == nil && len(samples) < 2 {
		err = fmt.Errorf("only %d memory samples in %v", len(samples), length)
	}
	return samples, posts.Load(), err
}

// inMB returns gauges of bytes in whole MB, named without their
// go_memstats_ prefix.
func inMB(g map[string]float64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range g {
		out[strings.TrimPrefix(k, "go_memstats_")] = int64(v) >> 20
	}
	return out
}
