package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// samples holds every value reported, by benchmark name (without the
// "Benchmark" prefix and the -GOMAXPROCS suffix) and unit, one per run.
type samples map[string]map[string][]float64

// procsSuffix is the -GOMAXPROCS suffix go test appends to names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output: result lines into samples, and the
// goos, goarch, cpu lines into env. Other lines are ignored.
func parse(r io.Reader) (samples, map[string]string, error) {
	out := samples{}
	env := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && slices.Contains([]string{"goos", "goarch", "cpu"}, k) {
			env[k] = v
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if out[name] == nil {
				out[name] = map[string][]float64{}
			}
			out[name][f[i+1]] = append(out[name][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return out, env, nil
}

// metric names one figure: a benchmark and one of its units.
type metric struct{ bench, unit string }

// measure is a row of the table: what Horenso achieved, the physical
// limit it is compared with (if any) and the goal (if any).
type measure struct {
	what  string
	got   metric
	limit metric // zero: no limit measured
	size  metric // how much the run handled (e.g. messages stored), shown after what; zero: nothing to show
	// goal is the target; higher says whether more is better. With
	// ratio, the goal is of Horenso's figure divided by the limit's
	// (a store of 1,000,000 messages against an empty one), not of the
	// figure itself.
	goal   float64
	higher bool
	ratio  bool
}

// measures are the rows, in the order of issue 6 and docs/PERFORMANCE.md.
var measures = []measure{
	{what: "durable posts/s over HTTP, 1 client", got: metric{"HTTPPost/clients=1", "posts/s"}, limit: metric{"BadgerGroupCommit/writers=1", "records/s"}, higher: true},
	{what: "durable posts/s over HTTP, 8 clients", got: metric{"HTTPPost/clients=8", "posts/s"}, limit: metric{"BadgerGroupCommit/writers=8", "records/s"}, higher: true},
	{what: "durable posts/s over HTTP, 64 clients", got: metric{"HTTPPost/clients=64", "posts/s"}, limit: metric{"BadgerGroupCommit/writers=64", "records/s"}, goal: 10000, higher: true},
	{what: "store writer's time per post over HTTP, 64 clients (µs)", got: metric{"HTTPPost/clients=64", "writer-µs/post"}},
	{what: "store writer busy during it (% of the time)", got: metric{"HTTPPost/clients=64", "writer-busy-%"}},
	{what: "posts per store commit during it", got: metric{"HTTPPost/clients=64", "posts/commit"}},
	{what: "process CPU per post during it, load generator included (µs)", got: metric{"HTTPPost/clients=64", "cpu-µs/post"}},
	{what: "all-hands room, 2 members: posts/s at 64 posters", got: metric{"AllHands/members=2", "posts/s"}, size: metric{"AllHands/members=2", "members"}, higher: true},
	{what: "all-hands room, 500 members: posts/s at 64 posters", got: metric{"AllHands/members=500", "posts/s"}, limit: metric{"AllHands/members=2", "posts/s"}, size: metric{"AllHands/members=500", "members"}, goal: 0.5, higher: true, ratio: true},
	{what: "all-hands room, 5,000 members: posts/s at 64 posters", got: metric{"AllHands/members=5000", "posts/s"}, limit: metric{"AllHands/members=2", "posts/s"}, size: metric{"AllHands/members=5000", "members"}, goal: 0.5, higher: true, ratio: true},
	{what: "all-hands room: one member added, first 10% (ms)", got: metric{"AllHands/members=5000", "first-add-ms"}, size: metric{"AllHands/members=5000", "members"}},
	{what: "all-hands room: one member added, last 10% (ms)", got: metric{"AllHands/members=5000", "last-add-ms"}, limit: metric{"AllHands/members=5000", "first-add-ms"}, size: metric{"AllHands/members=5000", "members"}},
	{what: "all-hands room: one member added, last 10% ÷ first 10%", got: metric{"AllHands/members=5000", "last/first-add"}, size: metric{"AllHands/members=5000", "members"}, goal: 1.2},
	{what: "all-hands room: all but the create's 256 added in one call (ms)", got: metric{"AllHands/members=5000", "bulk-add-ms"}, size: metric{"AllHands/members=5000", "members"}},
	{what: "big room: one member removed, first 10% (ms)", got: metric{"MemberRemove", "first-remove-ms"}, size: metric{"MemberRemove", "members"}},
	{what: "big room: one member removed, last 10% (ms)", got: metric{"MemberRemove", "last-remove-ms"}, limit: metric{"MemberRemove", "first-remove-ms"}, size: metric{"MemberRemove", "members"}},
	{what: "big room: one member removed, last 10% ÷ first 10%", got: metric{"MemberRemove", "last/first-remove"}, size: metric{"MemberRemove", "members"}, goal: 1.2},
	{what: "big room: all members removed one at a time (s)", got: metric{"MemberRemove", "remove-all-s"}, size: metric{"MemberRemove", "members"}},
	{what: "big room: all members removed in one call, after a refill (s)", got: metric{"MemberRemove", "bulk-remove-s"}, size: metric{"MemberRemove", "members"}},
	{what: "big room: the same, the third time (s)", got: metric{"MemberRemove", "third-bulk-remove-s"}, limit: metric{"MemberRemove", "bulk-remove-s"}, size: metric{"MemberRemove", "members"}},
	{what: "live fan-out, 5,000-member room: post to stream p50 (ms)", got: metric{"LiveFanOut", "p50-ms"}, size: metric{"LiveFanOut", "streams"}},
	{what: "live fan-out, 5,000-member room: post to stream p99 (ms)", got: metric{"LiveFanOut", "p99-ms"}, size: metric{"LiveFanOut", "streams"}, goal: 200},
	{what: "live fan-out, 5,000-member room: delivered (%)", got: metric{"LiveFanOut", "delivered-%"}, size: metric{"LiveFanOut", "streams"}, goal: 100, higher: true},
	{what: "live fan-out: CPU per post delivered to a stream (µs)", got: metric{"LiveFanOut", "cpu-us/delivery"}, size: metric{"LiveFanOut", "streams"}},
	{what: "login flood: password logins/s, 64 clients", got: metric{"LoginFlood", "logins/s"}, size: metric{"LoginFlood", "logins"}, goal: 1000.0 / 60, higher: true},
	{what: "login flood: post p99 during it (ms; limit: before it)", got: metric{"LoginFlood", "post-p99-ms"}, limit: metric{"LoginFlood", "quiet-post-p99-ms"}, size: metric{"LoginFlood", "logins"}},
	{what: "morning rush: first-load call p50 (ms)", got: metric{"MorningRush", "p50-ms"}, size: metric{"MorningRush", "accounts"}},
	{what: "morning rush: first-load call p99 (ms)", got: metric{"MorningRush", "p99-ms"}, size: metric{"MorningRush", "accounts"}, goal: 1000},
	{what: "morning rush: CPU per app opened (ms)", got: metric{"MorningRush", "cpu-ms/open"}, size: metric{"MorningRush", "accounts"}},
	{what: "morning rush: post p99 during it (ms)", got: metric{"MorningRush", "post-p99-ms"}, size: metric{"MorningRush", "accounts"}},
	{what: "post into a grown store at 64 clients: posts/s", got: metric{"PostGrownStore/msgs=0", "posts/s"}, size: metric{"PostGrownStore/msgs=0", "msgs"}, higher: true},
	{what: "post into a grown store at 64 clients: CPU per post (ms)", got: metric{"PostGrownStore/msgs=0", "cpu-ms/post"}, size: metric{"PostGrownStore/msgs=0", "msgs"}},
	{what: "post into a grown store at 64 clients: posts/s", got: metric{"PostGrownStore/msgs=1000000", "posts/s"}, limit: metric{"PostGrownStore/msgs=0", "posts/s"}, size: metric{"PostGrownStore/msgs=1000000", "msgs"}, goal: 1 / 1.2, higher: true, ratio: true},
	{what: "post into a grown store at 64 clients: CPU per post (ms)", got: metric{"PostGrownStore/msgs=1000000", "cpu-ms/post"}, limit: metric{"PostGrownStore/msgs=0", "cpu-ms/post"}, size: metric{"PostGrownStore/msgs=1000000", "msgs"}, goal: 1.2, ratio: true},
	{what: "post into a grown store at 64 clients: posts/s", got: metric{"PostGrownStore/msgs=3000000", "posts/s"}, limit: metric{"PostGrownStore/msgs=0", "posts/s"}, size: metric{"PostGrownStore/msgs=3000000", "msgs"}, goal: 1 / 1.2, higher: true, ratio: true},
	{what: "post into a grown store at 64 clients: CPU per post (ms)", got: metric{"PostGrownStore/msgs=3000000", "cpu-ms/post"}, limit: metric{"PostGrownStore/msgs=0", "cpu-ms/post"}, size: metric{"PostGrownStore/msgs=3000000", "msgs"}, goal: 1.2, ratio: true},
	{what: "post into a grown store at 64 clients: posts/s", got: metric{"PostGrownStore/msgs=10000000", "posts/s"}, limit: metric{"PostGrownStore/msgs=0", "posts/s"}, size: metric{"PostGrownStore/msgs=10000000", "msgs"}, goal: 1 / 1.2, higher: true, ratio: true},
	{what: "post into a grown store at 64 clients: CPU per post (ms)", got: metric{"PostGrownStore/msgs=10000000", "cpu-ms/post"}, limit: metric{"PostGrownStore/msgs=0", "cpu-ms/post"}, size: metric{"PostGrownStore/msgs=10000000", "msgs"}, goal: 1.2, ratio: true},
	{what: "cross-node latency p50, low rate (ms)", got: metric{"CrossNodeLatency/rate=low", "p50-ms"}, limit: metric{"GossipsubLatency/rate=low", "p50-ms"}, goal: 5},
	{what: "cross-node latency p99, low rate (ms)", got: metric{"CrossNodeLatency/rate=low", "p99-ms"}, limit: metric{"GossipsubLatency/rate=low", "p99-ms"}, goal: 25},
	{what: "cross-node latency p50, 1,000 msg/s (ms)", got: metric{"CrossNodeLatency/rate=1000", "p50-ms"}, limit: metric{"GossipsubLatency/rate=1000", "p50-ms"}, goal: 5},
	{what: "cross-node latency p99, 1,000 msg/s (ms)", got: metric{"CrossNodeLatency/rate=1000", "p99-ms"}, limit: metric{"GossipsubLatency/rate=1000", "p99-ms"}, goal: 25},
	{what: "fan-out to 10 nodes: posts made (msg/s of 1,000 offered)", got: metric{"FanOut", "posted-msg/s"}, goal: 1000, higher: true},
	{what: "fan-out to 10 nodes: delivered, worst node (%)", got: metric{"FanOut", "delivered-%"}, limit: metric{"GossipsubFanOut", "delivered-%"}, goal: 100, higher: true},
	{what: "fan-out to 10 nodes: latency p99 (ms)", got: metric{"FanOut", "p99-ms"}, limit: metric{"GossipsubFanOut", "p99-ms"}, goal: 50},
	{what: "fan-out to 10 nodes: CPU per received message per node (µs)", got: metric{"FanOut", "cpu-us/recv"}, limit: metric{"FanOut", "floor-us/recv"}},
	{what: "fan-out to 10 nodes: that CPU ÷ (signature check + durable write)", got: metric{"FanOut", "cpu/floor"}, goal: 1.5},
	{what: "catch-up after downtime (s)", got: metric{"CatchUp", "catchup-s"}, limit: metric{"StreamTransfer", "transfer-s"}, size: metric{"CatchUp", "events"}, goal: 5},
	{what: "read last 50 messages p50 (µs)", got: metric{"ReadLast50", "p50-us"}, limit: metric{"BadgerRangeRead", "p50-us"}, size: metric{"ReadLast50", "msgs"}, goal: 1000},
	{what: "read last 50 messages p99 (µs)", got: metric{"ReadLast50", "p99-us"}, limit: metric{"BadgerRangeRead", "p99-us"}, size: metric{"ReadLast50", "msgs"}},
	{what: "node RSS (MB)", got: metric{"Footprint", "rss-MB"}, size: metric{"Footprint", "msgs"}, goal: 150},
	{what: "posting node RSS after sustained posting at 64 clients (MB)", got: metric{"PostingRSS", "rss-MB"}, size: metric{"PostingRSS", "minutes"}, goal: 200},
	{what: "posting node RSS growth over the last half (MB)", got: metric{"PostingRSS", "rss-growth-MB"}, size: metric{"PostingRSS", "minutes"}, goal: 10},
	{what: "posting node posts/s while measured", got: metric{"PostingRSS", "posts/s"}, size: metric{"PostingRSS", "minutes"}, higher: true},
	{what: "disk bytes per message", got: metric{"Footprint", "disk-B/msg"}, limit: metric{"BadgerFootprint", "disk-B/record"}, size: metric{"Footprint", "msgs"}, goal: 400},
	{what: "search: query p50 (ms)", got: metric{"Search", "p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: query p99 (ms)", got: metric{"Search", "p99-ms"}, size: metric{"Search", "msgs"}},
	{what: "search: query p50, a common word (ms)", got: metric{"Search", "common-p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: query p50, a rare word (ms)", got: metric{"Search", "rare-p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: query p50, a Japanese phrase (ms)", got: metric{"Search", "phrase-p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: query p50, in one room (ms)", got: metric{"Search", "room-p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: query p50, from one sender (ms)", got: metric{"Search", "sender-p50-ms"}, size: metric{"Search", "msgs"}, goal: 50},
	{what: "search: indexing rate (msg/s)", got: metric{"Search", "indexed-msg/s"}, size: metric{"Search", "msgs"}, goal: 5000, higher: true},
	{what: "search: indexing rate per CPU second (msg/cpu-s)", got: metric{"Search", "indexed-msg/cpu-s"}, size: metric{"Search", "msgs"}},
	{what: "search: CPU per query (ms)", got: metric{"Search", "query-cpu-ms"}, size: metric{"Search", "msgs"}},
	{what: "search: index bytes per message", got: metric{"Search", "index-B/msg"}, size: metric{"Search", "msgs"}},
	{what: "search: node indexer, a backlog (msg/s)", got: metric{"SearchIndexer", "indexer-msg/s"}, size: metric{"SearchIndexer", "backlog-msgs"}, goal: 5000, higher: true},
	{what: "search: posts/s at 64 posters while the indexer has a backlog", got: metric{"SearchIndexer", "posts/s-indexing"}, limit: metric{"SearchIndexer", "posts/s-index-idle"}, size: metric{"SearchIndexer", "backlog-msgs"}, higher: true},
	{what: "file upload over HTTP (MB/s)", got: metric{"FileUpload", "upload-MB/s"}, limit: metric{"DiskWrite", "write-MB/s"}, size: metric{"FileUpload", "MB"}, higher: true},
	{what: "file download over HTTP (MB/s)", got: metric{"FileUpload", "download-MB/s"}, limit: metric{"DiskWrite", "write-MB/s"}, size: metric{"FileUpload", "MB"}, higher: true},
	{what: "file fetched by a partner's node (MB/s)", got: metric{"PartnerFile", "transfer-MB/s"}, limit: metric{"StreamTransfer", "MB/s"}, size: metric{"PartnerFile", "MB"}, higher: true},
	{what: "node peak RSS during an upload (MB; limit: before it)", got: metric{"UploadRSS", "peak-rss-MB"}, limit: metric{"UploadRSS", "base-rss-MB"}, size: metric{"UploadRSS", "MB"}},
}

// sizeInName returns the size a benchmark's name gives for m's unit, as
// in "PostGrownStore/msgs=10000000", so that a row whose benchmark did not
// run still says which size it is of.
func sizeInName(m metric) (float64, bool) {
	_, last, _ := strings.Cut(m.bench, "/")
	k, v, ok := strings.Cut(last, "=")
	if !ok || k != m.unit {
		return 0, false
	}
	n, err := strconv.ParseFloat(v, 64)
	return n, err == nil
}

// render writes the table of ms from s, in Markdown, after a line naming
// the machine.
func render(w io.Writer, env map[string]string, s samples, ms []measure) {
	fmt.Fprintf(w, "\nmachine: %s, %s/%s\n\n", orUnknown(env["cpu"]), orUnknown(env["goos"]), orUnknown(env["goarch"]))
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	line := func(cells ...string) { fmt.Fprintln(tw, "| "+strings.Join(cells, "\t| ")+"\t|") }
	line("measure", "Horenso: median (min–max, runs)", "limit: median", "Horenso/limit", "goal", "met")
	line("---", "---", "---", "---", "---", "---")
	for _, m := range ms {
		got := s[m.got.bench][m.got.unit]
		lim := s[m.limit.bench][m.limit.unit]
		row := []string{m.what, "not run", "—", "—", "—", "—"}
		if size := s[m.size.bench][m.size.unit]; len(size) > 0 {
			med, _, _ := summary(size)
			row[0] += fmt.Sprintf(", %s %s", num(med), m.size.unit)
		} else if n, ok := sizeInName(m.size); ok {
			row[0] += fmt.Sprintf(", %s %s", num(n), m.size.unit)
		}
		if len(got) > 0 {
			med, lo, hi := summary(got)
			row[1] = fmt.Sprintf("%s (%s–%s, %d)", num(med), num(lo), num(hi), len(got))
			judged, judge := med, !m.ratio // what the goal is of, and whether there is one
			if len(lim) > 0 {
				lmed, _, _ := summary(lim)
				row[2] = num(lmed)
				if lmed != 0 {
					row[3] = fmt.Sprintf("%.2f×", med/lmed)
					if m.ratio {
						judged, judge = med/lmed, true
					}
				}
			}
			if m.goal != 0 && judge {
				met := judged <= m.goal
				if m.higher {
					met = judged >= m.goal
				}
				row[5] = map[bool]string{true: "yes", false: "NO"}[met]
			}
		} else if len(lim) > 0 {
			lmed, _, _ := summary(lim)
			row[2] = num(lmed)
		}
		if m.goal != 0 {
			row[4] = map[bool]string{true: "≥ ", false: "≤ "}[m.higher] + num(m.goal)
			if m.ratio {
				row[4] += "×"
			}
		}
		line(row...)
	}
	tw.Flush()
}

// summary returns the median, minimum and maximum of vs (not empty).
func summary(vs []float64) (median, lo, hi float64) {
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

// num formats v with three significant digits, or as a whole number with
// thousands separators from 100 up.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return thousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func thousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
