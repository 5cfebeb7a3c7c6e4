package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestMemoryFlags: `horenso run` refuses a memory limit too small to
// split, and runs with the store's sizes given by flags.
func TestMemoryFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	horenso(t, data, nil, "init", "--org", "Acme")
	out, err := exec.Command(horensoBin, "--data", data, "run", "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--memory-limit-mib", "10").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the least is 64 MiB") {
		t.Fatalf("run --memory-limit-mib 10: %v, %s; want a refusal naming the least limit", err, out)
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
