package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory benchmarks (rss_test.go, soak_test.go) measure what the
// issue's reviewer measured: a real `horenso run` process, built from
// cmd/horenso, posted to over loopback HTTP, its VmRSS read from
// /proc/<pid>/status. The helpers here build the binary once per test
// process, start nodes and run admin commands on them.

// binary is the horenso binary of the test process, built on first use.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// envBinary names a horenso binary for the memory benchmarks to run in
// place of one built from this module, e.g. an older build to compare
// with.
const envBinary = "HORENSO_BENCH_BIN"

// horensoBinary returns the path of a horenso binary built from this
// module's cmd/horenso, building it on first use, or $HORENSO_BENCH_BIN.
func horensoBinary(b testing.TB) string {
	b.Helper()
	if bin := os.Getenv(envBinary); bin != "" {
		return bin
	}
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "horenso-bench-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "horenso")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/horenso/horenso/cmd/horenso").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("build horenso: %w\n%s", err, out)
		}
	})
	if binary.err != nil {
		b.Fatal(binary.err)
	}
	return binary.path
}

// nodeProc is a running `horenso run`.
type nodeProc struct {
	bin, data string
	cmd       *exec.Cmd
	http      string // base URL of its HTTP API
	metrics   string // URL of its /metrics
	exited    chan error
}

// envRunFlags adds flags to every `horenso run` of the memory
// benchmarks, to compare settings (e.g. "--memory-limit-mib=300").
const envRunFlags = "HORENSO_BENCH_RUN_FLAGS"

var (
	httpLine    = regexp.MustCompile(`HTTP:\s+(http://\S+)/`)
	metricsLine = regexp.MustCompile(`metrics: (http://\S+)`)
)

// startProc initializes data as org's node and runs `horenso run` on it
// with loopback addresses, no API rate limit, metrics on loopback, the
// flags of $HORENSO_BENCH_RUN_FLAGS and then extra. It returns once the
// node serves HTTP; the process is killed at the end of the benchmark if
// it has not been stopped.
func startProc(b testing.TB, data, org string, extra ...string) *nodeProc {
	b.Helper()
	return startProcOf(b, horensoBinary(b), data, org, extra...)
}

// startProcOf is startProc with the executable bin.
func startProcOf(b testing.TB, bin, data, org string, extra ...string) *nodeProc {
	b.Helper()
	if out, err := exec.Command(bin, "--data", data, "init", "--org", org).CombinedOutput(); err != nil {
		b.Fatalf("horenso init: %v\n%s", err, out)
	}
	args := []string{"--data", data, "run", "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--metrics", "127.0.0.1:0", "--rate-limit", "-1", "--log-level", "warn"}
	args = append(append(args, strings.Fields(os.Getenv(envRunFlags))...), extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &nodeProc{bin: bin, data: data, cmd: cmd, exited: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := httpLine.FindStringSubmatch(sc.Text()); m != nil {
				p.http = m[1]
			}
			if m := metricsLine.FindStringSubmatch(sc.Text()); m != nil {
				p.metrics = m[1]
				close(ready) // printed after the HTTP line
			}
		}
		io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	b.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		p.exited <- nil
	})
	select {
	case <-ready:
	case err := <-p.exited:
		p.exited <- err
		b.Fatalf("horenso run exited: %v", err)
	case <-time.After(60 * time.Second):
		b.Fatal("horenso run did not come up within 60s")
	}
	return p
}

// admin runs an admin subcommand with --json and decodes its output into
// out (if not nil).
func (p *nodeProc) admin(out any, args ...string) error {
	cmd := exec.Command(p.bin, append([]string{"--data", p.data, "--json"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("horenso %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			return fmt.Errorf("horenso %s: decode %q: %w", strings.Join(args, " "), stdout, err)
		}
	}
	return nil
}

// procStatus returns fields of /proc/<pid>/status in kB: VmRSS, RssAnon,
// RssFile and so on.
func (p *nodeProc) procStatus() (map[string]int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return nil, fmt.Errorf("read process status: %w", err)
	}
	fields := map[string]int64{}
	for line := range bytes.Lines(raw) {
		k, v, ok := strings.Cut(string(line), ":")
		v = strings.TrimSpace(v)
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			fields[k] = n
		}
	}
	if _, ok := fields["VmRSS"]; !ok {
		return nil, errors.New("read process status: no VmRSS")
	}
	return fields, nil
}

// mappedByKind returns the resident kB of the process's file mappings by
// kind: the store's tables (.sst) and memtable logs (.mem), the search
// index, the program, and other files, from /proc/<pid>/smaps.
func (p *nodeProc) mappedByKind() (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", p.cmd.Process.Pid))
	if err != nil {
		return nil, fmt.Errorf("read mappings: %w", err)
	}
	defer f.Close()
	kinds := map[string]int64{}
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			kind = ""
			if len(fields) >= 6 && strings.HasPrefix(fields[5], "/") {
				switch path := fields[5]; {
				case strings.HasSuffix(path, ".sst"):
					kind = "tables"
				case strings.HasSuffix(path, ".mem"):
					kind = "memtable logs"
				case strings.Contains(path, "/search/"):
					kind = "search index"
				case path == p.bin:
					kind = "program"
				default:
					kind = "other files"
				}
			}
		case kind != "" && len(fields) == 3 && fields[0] == "Rss:":
			kB, _ := strconv.ParseInt(fields[1], 10, 64)
			kinds[kind] += kB
		}
	}
	return kinds, sc.Err()
}

// openFiles returns how many file descriptors the process has open.
func (p *nodeProc) openFiles() (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("count open files: %w", err)
	}
	return len(fds), nil
}

// gauges reads the named gauges (without labels) from the process's
// /metrics, e.g. go_memstats_heap_inuse_bytes.
func (p *nodeProc) gauges(ctx context.Context, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// httpPosters sets up n posting clients on p through its admin commands:
// accounts "poster" and "reader", and per client a token of "poster" and a
// room of the two. members are more members of every room (e.g. a
// partner's account).
func (p *nodeProc) httpPosters(n int, members ...string) ([]poster, error) {
	for _, h := range []string{"poster", "reader"} {
		if err := p.admin(nil, "user", "add", h); err != nil {
			return nil, err
		}
	}
	ps := make([]poster, n)
	const parallel = 8 // admin commands at a time: each is a process
	return ps, concurrently(parallel, func(lane int) error {
		for i := lane; i < n; i += parallel {
			var err error
			if ps[i], err = p.httpPoster(i, members); err != nil {
				return err
			}
		}
		return nil
	})
}

// httpPoster sets up client i of httpPosters.
func (p *nodeProc) httpPoster(i int, members []string) (poster, error) {
	var room struct {
		Alias uint64 `json:"room_id"`
	}
	if err := p.admin(&room, "room", "create", fmt.Sprintf("Room %d", i), "--as", "poster",
		"--members", strings.Join(append([]string{"reader"}, members...), ",")); err != nil {
		return poster{}, err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := p.admin(&tok, "token", "create", "poster", "--name", fmt.Sprintf("client %d", i)); err != nil {
		return poster{}, err
	}
	return poster{url: fmt.Sprintf("%s/v2/rooms/%d/messages", p.http, room.Alias), token: tok.Token}, nil
}

// saveProfile saves the process's runtime profile name (heap,
// goroutine, …) to path; the process must run with --pprof.
func (p *nodeProc) saveProfile(ctx context.Context, name, path string) error {
	url := strings.TrimSuffix(p.metrics, "/metrics") + "/debug/pprof/" + name
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("read %s profile: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read %s profile: %s", name, resp.Status)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s profile: %w", name, err)
	}
	return os.WriteFile(path, raw, 0o644)
}
