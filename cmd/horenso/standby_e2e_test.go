package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestStandbyFailoverEndToEnd runs the built binary as a primary and a
// standby (--standby-of), kills the primary with SIGKILL while clients
// post over HTTP, promotes the standby with `horenso promote`, and
// checks that every post acknowledged before the standby's applied
// moment is there, that the clients' token works on it at the same
// address, and that the old primary refuses to start again.
func TestStandbyFailoverEndToEnd(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdata, sdata := filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	p := start(t, pdata, "--replication-secret-file", secret)
	primaryURL := httpBase(t, p)
	ctx := t.Context()
	admin := dial(t, pdata)
	if _, err := admin.AddUser(ctx, node.NewAccount{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := admin.CreateRoom(ctx, "alice", "Ops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := admin.CreateToken(ctx, "alice", "client")
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	standbyAddr := ln.Addr().String()
	ln.Close()
	start(t, sdata, "--standby-of", primaryURL, "--replication-secret-file", secret, "--http", standbyAddr, "--standby-poll", "50ms")
	standbyURL := "http://" + standbyAddr
	waitUntil(t, func() bool {
		_, err := dial(t, sdata).Messages(ctx, "alice", room.Alias, 10)
		return err == nil
	})
	if code := postForm(t, standbyURL, token, room.Alias, "on the standby"); code != http.StatusServiceUnavailable {
		t.Fatalf("post on the standby: %d, want 503", code)
	}

	var (
		mu    sync.Mutex
		acked = map[string]time.Time{}
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				body := fmt.Sprintf("w%d-%d", w, i)
				if postForm(t, primaryURL, token, room.Alias, body) != http.StatusOK {
					return
				}
				mu.Lock()
				acked[body] = time.Now()
				mu.Unlock()
			}
		})
	}
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 150 })
	p.stop(t, syscall.SIGKILL)
	wg.Wait()
	var st node.Status
	horenso(t, sdata, &st, "status")
	if st.Replication == nil || st.Replication.Role != "standby" {
		t.Fatalf("standby status: %+v", st.Replication)
	}
	applied := st.Replication.AppliedTime

	horenso(t, sdata, nil, "promote")
	waitUntil(t, func() bool {
		out, err := exec.Command(horensoBin, "--data", sdata, "--json", "status").Output()
		var st node.Status
		return err == nil && json.Unmarshal(out, &st) == nil && st.Replication != nil && st.Replication.Role == "primary"
	})
	ms, err := dial(t, sdata).Messages(ctx, "alice", room.Alias, node.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range ms {
		have[m.Body] = true
	}
	mu.Lock()
	lost, window := 0, 0
	for body, at := range acked {
		if at.Before(applied) && !have[body] {
			lost++
		} else if !at.Before(applied) {
			window++
		}
	}
	mu.Unlock()
	if lost > 0 {
		t.Fatalf("%d of %d posts acknowledged before the standby's applied moment %s are missing", lost, len(acked), applied)
	}
	t.Logf("%d posts acknowledged, %d in the lag window, %d on the promoted standby", len(acked), window, len(have))
	waitUntil(t, func() bool { return postForm(t, standbyURL, token, room.Alias, "after the failover") == http.StatusOK })

	// The old primary, started again, finds its standby promoted.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(rctx, horensoBin, "run", "--data", pdata, "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--replication-secret-file", secret).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "promoted in its place") {
		t.Fatalf("old primary started again: %v\n%s", err, out)
	}
}

// postForm posts body to room over the ChatWork API and returns the
// status; 0 if the node did not answer.
func postForm(t *testing.T, base, token string, room uint64, body string) int {
	req, err := http.NewRequestWithContext(t.Context(), "POST", fmt.Sprintf("%s/v2/rooms/%d/messages", base, room),
		strings.NewReader(url.Values{"body": {body}}.Encode()))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
