package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestMemoryFlags: `horenso run` refuses a memory limit too small to
// split, and a level size multiplier under 2 (which only the store
// checks, so the flag reached it), and runs with the store's sizes given
// by flags.
func TestMemoryFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	horenso(t, data, nil, "init", "--org", "Acme")
	out, err := refusedRun(t, data, "--memory-limit-mib", "10")
	if err == nil || !strings.Contains(string(out), "the least is 64 MiB") {
		t.Fatalf("run --memory-limit-mib 10: %v, %s; want a refusal naming the least limit", err, out)
	}
	out, err = refusedRun(t, data, "--store-level-multiplier", "1")
	if err == nil || !strings.Contains(string(out), "level size multiplier 1, want 2 or more") {
		t.Fatalf("run --store-level-multiplier 1: %v, %s; want a refusal naming the multiplier", err, out)
	}
	start(t, data, "--memory-limit-mib", "128", "--store-memtable-mib", "4", "--store-memtables", "3",
		"--store-block-cache-mib", "4", "--store-index-cache-mib", "-1", "--store-compactors", "3", "--store-vlog-file-mib", "16",
		"--store-value-threshold-kib", "64", "--store-l0-tables", "6", "--store-level-multiplier", "4")
	horenso(t, data, nil, "user", "add", "alice")
	var rooms []node.Room
	horenso(t, data, &rooms, "room", "list", "--as", "alice")
	if len(rooms) != 1 { // the account's own chat
		t.Fatalf("alice's rooms: %+v, want her own chat", rooms)
	}
}

// refusedRun runs `horenso run` on data with flags, expected to refuse
// them and exit, and returns its output and error. A node that starts
// instead is killed after 30 s, so the test fails, not hangs.
func refusedRun(t *testing.T, data string, flags ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := append([]string{"--data", data, "run", "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0"}, flags...)
	return exec.CommandContext(ctx, horensoBin, args...).CombinedOutput()
}
