package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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
