package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpAddr waits for the address a running node prints for its HTTP side.
func httpAddr(t *testing.T, p *process) string {
	t.Helper()
	re := regexp.MustCompile(`HTTP:\s+http://([^/\s]+)/`)
	var addr string
	waitUntil(t, func() bool {
		m := re.FindStringSubmatch(p.stdout.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// TestFileDescriptorsRunOut: a node whose HTTP clients use up its file
// descriptors keeps running; once they go, the control socket and the
// HTTP API answer again.
func TestFileDescriptorsRunOut(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "horenso-lowfd")
	script := fmt.Sprintf("#!/bin/sh\nulimit -n 160 || exit 97\nexec %q \"$@\"\n", horensoBin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p := startBin(t, wrapper, data, "--max-conns-per-addr", "100000", "--max-conns", "100000")
	addr := httpAddr(t, p)
	// The libp2p host must be listening first: running out of descriptors
	// while it starts stops the node, as any failure to listen does.
	waitUntil(t, func() bool { return strings.Contains(p.stdout.String(), "partners add this node with") })

	// Hold more connections than the node has descriptors.
	var conns []net.Conn
	for range 300 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	// The node has run out: a control request is not served in time.
	waitUntil(t, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		return !answers(ctx, data)
	})
	for _, c := range conns {
		c.Close()
	}
	waitUntil(t, func() bool { return answers(t.Context(), data) })
	select {
	case err := <-p.exited:
		t.Fatalf("the node exited: %v", err)
	default:
	}
	resp, err := http.Get("http://" + addr + "/api/health")
	if err != nil {
		t.Fatalf("HTTP after the descriptors came back: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

// smallDisk mounts a tmpfs of size MiB for the test, or skips the test
// where it cannot (not root, no mount).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small filesystem here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the filesystem has about keep bytes
// free, and returns its path.
func fill(t *testing.T, dir string, keep int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for n := free - keep; n > 0; n -= int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), n)]); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	return path
}

// TestDiskFull runs a node on a small filesystem that fills up: it refuses
// changes cleanly (CLI and HTTP), keeps serving reads, restarts on the
// full disk, resumes when space returns, and loses nothing it
// acknowledged.
func TestDiskFull(t *testing.T) {
	disk := smallDisk(t, 256)
	data := filepath.Join(disk, "data")
	p := start(t, data, "--min-free-disk", "96")
	addr := httpAddr(t, p)
	horenso(t, data, nil, "user", "add", "alice", "--password", "alice-password")
	var tok struct{ Token string }
	horenso(t, data, &tok, "token", "create", "alice")
	var room struct {
		Alias uint64 `json:"room_id"`
	}
	horenso(t, data, &room, "room", "create", "Ops", "--as", "alice")
	rid := fmt.Sprint(room.Alias)
	api := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("X-ChatWorkToken", tok.Token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	acked := 0
	for i := range 20 {
		if code, body := api("POST", "/v2/rooms/"+rid+"/messages", fmt.Sprintf("body=before+%d", i)); code != http.StatusOK {
			t.Fatalf("post before the disk filled: %d %s", code, body)
		}
		acked++
	}

	filler := fill(t, disk, 48<<20) // below the 96 MiB floor
	code, body := api("POST", "/v2/rooms/"+rid+"/messages", "body=refused")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"errors"`) || !strings.Contains(body, "disk is full") {
		t.Fatalf("post on a full disk: %d %s, want 503 in ChatWork's shape", code, body)
	}
	cli := exec.Command(horensoBin, "--data", data, "message", "post", rid, "refused too", "--as", "alice")
	if out, err := cli.CombinedOutput(); err == nil || !strings.Contains(string(out), "disk full") {
		t.Fatalf("CLI post on a full disk: %v: %s", err, out)
	}
	if code, body := api("GET", "/v2/rooms/"+rid+"/messages?force=1", ""); code != http.StatusOK || !strings.Contains(body, "before 19") {
		t.Fatalf("reading on a full disk: %d %s", code, body)
	}
	var st struct {
		DiskFull bool `json:"disk_full"`
	}
	horenso(t, data, &st, "status")
	if !st.DiskFull {
		t.Fatal("status does not say the disk is full")
	}

	// A restart on the full disk: the node starts and serves reads.
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("stop on a full disk: %v", err)
	}
	p = start(t, data, "--min-free-disk", "96")
	addr = httpAddr(t, p)
	if code, body := api("GET", "/v2/rooms/"+rid+"/messages?force=1", ""); code != http.StatusOK || !strings.Contains(body, "before 19") {
		t.Fatalf("reading after a restart on a full disk: %d %s", code, body)
	}
	if code, _ := api("POST", "/v2/rooms/"+rid+"/messages", "body=refused"); code != http.StatusServiceUnavailable {
		t.Fatalf("post after a restart on a full disk: %d, want 503", code)
	}

	// Space returns: writes resume by themselves.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, body := api("POST", "/v2/rooms/"+rid+"/messages", "body=after"); code != http.StatusOK {
		t.Fatalf("post after space returned: %d %s", code, body)
	}
	acked++
	_, body = api("GET", "/v2/rooms/"+rid+"/messages?force=1", "")
	var ms []struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != acked {
		t.Fatalf("%d messages stored, %d acknowledged", len(ms), acked)
	}
}
