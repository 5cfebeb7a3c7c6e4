package main

import (
	"strings"
	"testing"
)

const output = `goos: linux
goarch: amd64
pkg: github.com/horenso/horenso/storage
cpu: Example CPU @ 2.00GHz
BenchmarkBadgerGroupCommit/writers=64-2   	       1	1000 ns/op	    16000 records/s
BenchmarkBadgerGroupCommit/writers=64-2   	       1	1000 ns/op	    15000 records/s
BenchmarkHTTPPost/clients=64-2            	       1	1000 ns/op	     9000 posts/s
BenchmarkHTTPPost/clients=64-2            	       1	1000 ns/op	     9500 posts/s
BenchmarkHTTPPost/clients=64-2            	       1	1000 ns/op	     8000 posts/s
BenchmarkCatchUp                          	       1	5 ns/op	3.21 catchup-s	100000 events
BenchmarkFootprint-2 1 5 ns/op 120 rss-MB 350.4 disk-B/msg 1000000 msgs
--- BENCH: BenchmarkSomething
    noise 1 2 3
PASS
ok  	github.com/horenso/horenso/storage	1.0s
`

func TestParse(t *testing.T) {
	s, env, err := parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	if env["cpu"] != "Example CPU @ 2.00GHz" || env["goos"] != "linux" {
		t.Errorf("env = %v", env)
	}
	if got := s["HTTPPost/clients=64"]["posts/s"]; len(got) != 3 || got[2] != 8000 {
		t.Errorf("HTTPPost samples = %v", got)
	}
	if got := s["CatchUp"]["events"]; len(got) != 1 || got[0] != 100000 {
		t.Errorf("CatchUp events = %v", got)
	}
	if len(s) != 4 {
		t.Errorf("parsed %d benchmarks, want 4: %v", len(s), s)
	}
}

func TestRender(t *testing.T) {
	s, env, err := parse(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, env, s, measures)
	out := b.String()
	for _, want := range []string{
		"machine: Example CPU @ 2.00GHz, linux/amd64",
		"| durable posts/s over HTTP, 64 clients ",
		"| 9,000 (8,000–9,500, 3) ",
		"| 15,500 ",
		"| 0.58× ",
		"| ≥ 10,000 | NO ",
		"| catch-up after downtime (s), 100,000 events ",
		"| 3.21 (3.21–3.21, 1) ",
		"| ≤ 5 ",
		"| node RSS (MB), 1,000,000 msgs ",
		"| 120 (120–120, 1) ",
		"| ≤ 150 ",
		"| disk bytes per message, 1,000,000 msgs ",
		"| 350 (350–350, 1) ",
		"| durable posts/s over HTTP, 1 client ",
		"| not run ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(out, "\n| "); lines != len(measures)+2 {
		t.Errorf("table has %d rows, want %d:\n%s", lines, len(measures)+2, out)
	}
}

// TestRatioGoal checks that a goal of a ratio is judged on Horenso's
// figure divided by the limit's, and is left unjudged without the limit.
func TestRatioGoal(t *testing.T) {
	const out = `BenchmarkPostGrownStore/msgs=0-2 1 5 ns/op 0.25 cpu-ms/post 4000 posts/s 0 msgs
BenchmarkPostGrownStore/msgs=1000000-2 1 5 ns/op 0.28 cpu-ms/post 3700 posts/s 1000000 msgs
BenchmarkPostGrownStore/msgs=10000000-2 1 5 ns/op 0.5 cpu-ms/post 2000 posts/s 10000000 msgs
BenchmarkAllHands/members=5000-2 1 5 ns/op 900 posts/s 5000 members
`
	s, env, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, env, s, measures)
	rows := map[string]string{}
	for line := range strings.Lines(b.String()) {
		cells := strings.Split(line, "|")
		if len(cells) < 7 {
			continue
		}
		rows[strings.TrimSpace(cells[1])] = strings.Join(strings.Fields(strings.Join(cells[4:7], "|")), " ")
	}
	for what, want := range map[string]string{
		"post into a grown store at 64 clients: CPU per post (ms), 1,000,000 msgs":  "1.12× | ≤ 1.2× | yes",
		"post into a grown store at 64 clients: posts/s, 1,000,000 msgs":            "0.93× | ≥ 0.833× | yes",
		"post into a grown store at 64 clients: CPU per post (ms), 10,000,000 msgs": "2.00× | ≤ 1.2× | NO",
		"post into a grown store at 64 clients: posts/s, 10,000,000 msgs":           "0.50× | ≥ 0.833× | NO",
		"all-hands room, 5,000 members: posts/s at 64 posters, 5,000 members":       "— | ≥ 0.5× | —",
		// Not run: the name still says which size.
		"post into a grown store at 64 clients: posts/s, 3,000,000 msgs": "— | ≥ 0.833× | —",
	} {
		if got := rows[what]; got != want {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
}
