package api

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// sh blocks of docs/API.md: extracted in order.
func shBlocks(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	if in {
		t.Fatalf("%s: unterminated sh block", file)
	}
	return blocks
}

// TestDocsWalkthrough runs the curl walk-through of docs/API.md against a
// real node and HTTP server: every sh block, in order, in one bash with
// -euo pipefail, so that each command must succeed.
func TestDocsWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walk-through needs %s: %v", tool, err)
		}
	}
	blocks := shBlocks(t, "../../docs/API.md")
	if len(blocks) < 5 {
		t.Fatalf("docs/API.md has only %d sh blocks", len(blocks))
	}
	e := newEnv(t, Config{})
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo '::block %d'\n%s\necho '::ok %d'\n", i+1, b, i+1)
	}
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script.String())
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "BASE="+e.srv.URL, "TOKEN="+e.alice.token, "LOGIN=alice", "PASSWORD="+e.alice.password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("walk-through output:\n%s", out.String())
	for i := range blocks {
		if !strings.Contains(out.String(), fmt.Sprintf("::ok %d\n", i+1)) {
			t.Fatalf("block %d failed (%v):\n%s", i+1, err, blocks[i])
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
