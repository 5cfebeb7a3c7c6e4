package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/horenso/horenso/node"
)

// metricsURL waits for the metrics URL a running node prints.
func metricsURL(t *testing.T, p *process) string {
	t.Helper()
	re := regexp.MustCompile(`metrics:\s+(http://\S+/metrics)`)
	var u string
	waitUntil(t, func() bool {
		m := re.FindStringSubmatch(p.stdout.String())
		if m != nil {
			u = m[1]
		}
		return m != nil
	})
	return u
}

// scrape reads url with token and parses it with the Prometheus text
// parser.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want (label, value pairs), summed over those that match: a
// counter's or gauge's value, a histogram's count. ok is false if none
// matches.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		ok = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
	}
	return v, ok
}

// TestMetricsEndToEnd runs two partner nodes; A serves metrics on its
// admin listener, with a token, and logs JSON. Scrapes, parsed with the
// Prometheus text parser, follow what the nodes do: posts, a partner's
// events, store commits, HTTP requests, the partner's link and lag.
func TestMetricsEndToEnd(t *testing.T) {
	dirA, dirB := filepath.Join(t.TempDir(), "A"), filepath.Join(t.TempDir(), "B")
	tokenFile := filepath.Join(t.TempDir(), "token")
	const token = "s3cret-metrics-token"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, dirA, "--org", "Org A", "--metrics", "127.0.0.1:0", "--metrics-token-file", tokenFile, "--log-format", "json")
	start(t, dirB, "--org", "Org B")
	url := metricsURL(t, a)

	// Without the token: refused.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("scrape without token: %s, want 401", resp.Status)
	}

	before := scrape(t, url, token)
	if v, ok := value(before, "horenso_node_info", "org", "Org A"); !ok || v != 1 {
		t.Fatalf("horenso_node_info{org=\"Org A\"} = %v, %v", v, ok)
	}
	posts0, _ := value(before, "horenso_posts_total")
	commits0, _ := value(before, "horenso_store_commit_seconds")
	busy0, _ := value(before, "horenso_store_writer_busy_seconds_total")
	creates0, _ := value(before, "horenso_events_published_total", "type", "room.create")

	var stA, stB node.Status
	horenso(t, dirA, &stA, "status")
	horenso(t, dirB, &stB, "status")
	horenso(t, dirA, nil, "partner", "add", stB.Addrs[0])
	horenso(t, dirB, nil, "partner", "add", stA.Addrs[0])
	horenso(t, dirA, nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, dirB, nil, "user", "add", "bob", "--password", "bob-password")
	var room node.Room
	horenso(t, dirA, &room, "room", "create", "A and B", "--as", "alice", "--members", "bob@"+string(stB.NodeID))
	for i := range 3 {
		horenso(t, dirA, nil, "message", "post", fmt.Sprint(room.Alias), fmt.Sprint("hello ", i), "--as", "alice")
	}
	rooms := awaitCLI(t, dirB, "B holds the room", func(rs []node.Room) bool { return len(rs) == 2 }, "room", "list", "--as", "bob")
	var onB uint64
	for _, r := range rooms {
		if r.ID == room.ID {
			onB = r.Alias
		}
	}
	horenso(t, dirB, nil, "message", "post", fmt.Sprint(onB), "hello from B", "--as", "bob")
	if code := get(t, httpBase(t, a)+"/api/health", &http.Cookie{Name: "x", Value: "y"}); code != 200 {
		t.Fatalf("health: %d", code)
	}

	partner := string(stB.NodeID)
	var after map[string]*dto.MetricFamily
	waitUntil(t, func() bool {
		after = scrape(t, url, token)
		got, _ := value(after, "horenso_partner_events_total", "partner", partner, "result", "accepted")
		up, _ := value(after, "horenso_partner_connected", "partner", partner)
		// Sharing the room schedules a sync of it with B.
		rounds, _ := value(after, "horenso_partner_sync_rounds_total", "partner", partner)
		return got > 0 && up == 1 && rounds > 0
	})
	if v, _ := value(after, "horenso_posts_total"); v != posts0+3 {
		t.Errorf("horenso_posts_total = %v, want %v", v, posts0+3)
	}
	// alice's own room, and the room with bob.
	if v, _ := value(after, "horenso_events_published_total", "type", "room.create"); v != creates0+2 {
		t.Errorf("horenso_events_published_total{type=room.create} = %v, want %v", v, creates0+2)
	}
	if v, _ := value(after, "horenso_store_commit_seconds"); v <= commits0 {
		t.Errorf("store commits observed: %v, not more than %v before", v, commits0)
	}
	if v, _ := value(after, "horenso_store_writer_busy_seconds_total"); v <= busy0 {
		t.Errorf("store writer busy: %v s, not more than %v before", v, busy0)
	}
	if v, _ := value(after, "horenso_http_request_duration_seconds", "route", "GET /api/health", "code", "200"); v < 1 {
		t.Errorf("HTTP requests to GET /api/health observed: %v", v)
	}
	if v, _ := value(after, "horenso_partner_rooms", "partner", partner); v != 1 {
		t.Errorf("horenso_partner_rooms = %v, want 1", v)
	}
	if _, ok := value(after, "horenso_partner_info", "partner", partner, "org", "Org B"); !ok {
		t.Errorf("horenso_partner_info lacks B's organization: %v", after["horenso_partner_info"])
	}
	for _, name := range []string{"horenso_gossip_messages_total", "horenso_sync_total", "horenso_store_size_bytes",
		"horenso_gossip_orphans_total", "horenso_event_stream_clients", "horenso_store_block_cache_reads_total", "go_goroutines", "process_open_fds"} {
		if after[name] == nil {
			t.Errorf("scrape lacks %s", name)
		}
	}

	// The sample dashboard asks only for metrics the node serves (the
	// webhook ones have series once webhooks deliver, the per-room lag once
	// a room lags).
	dash, err := os.ReadFile("../../docs/grafana/horenso-node.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`horenso_[a-z_]+`).FindAllString(string(dash), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count")
		if after[base] == nil && !strings.HasPrefix(base, "horenso_webhook_") && base != "horenso_room_unacked_events" {
			t.Errorf("the dashboard uses %s, which the scrape lacks", name)
		}
	}

	// The logs are JSON, one object a line.
	if err := a.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("A exited with %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(a.stderr()))
	lines := 0
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if v["level"] == nil || v["msg"] == nil {
			t.Fatalf("log line %q lacks level or msg", sc.Text())
		}
		lines++
	}
	if lines == 0 {
		t.Fatal("no log lines")
	}
}

// TestMetricsOffLoopbackNeedsToken: a node asked to serve metrics on a
// non-loopback address without a token refuses to start, and says what
// to do.
func TestMetricsOffLoopbackNeedsToken(t *testing.T) {
	cmd := exec.Command(horensoBin, "run", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--metrics", "0.0.0.0:0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("run with metrics on 0.0.0.0 and no token started: %s", out)
	}
	if !strings.Contains(string(out), "--metrics-token-file") {
		t.Fatalf("the error does not say how to fix it: %s", out)
	}
}
