package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestRestoreAtEndToEnd runs the built binary: a node with continuous
// backups has a room deleted by mistake over the ChatWork API at T and
// then dies (kill -9); `horenso restore --at T−1s` builds a new data
// directory, and the node run on it has the room and its messages back.
func TestRestoreAtEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	backups := filepath.Join(t.TempDir(), "backups")
	p := start(t, data, "--backup-dir", backups, "--backup-every", "200ms", "--backup-keep", "1d")
	ctx := t.Context()
	admin := dial(t, data)
	if _, err := admin.AddUser(ctx, node.NewAccount{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := admin.CreateRoom(ctx, "alice", "Budget", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"first", "second"} {
		if _, err := admin.Post(ctx, "alice", room.Alias, body); err != nil {
			t.Fatal(err)
		}
	}
	posted := time.Now()
	var last time.Time
	waitUntil(t, func() bool {
		var st node.Status
		horenso(t, data, &st, "status")
		if st.Backup == nil {
			t.Fatal("horenso status shows no backups")
		}
		last = st.Backup.Last
		return last.After(posted)
	})
	waitUntil(t, func() bool { return time.Since(last) > time.Second })

	mistake := time.Now()
	token, err := admin.CreateToken(ctx, "alice", "client")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, "DELETE",
		fmt.Sprintf("%s/v2/rooms/%d?action_type=delete", httpBase(t, p), room.Alias), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete room: %s", resp.Status)
	}
	if _, err := admin.Messages(ctx, "alice", room.Alias, 10); err == nil {
		t.Fatal("alice still reads the deleted room")
	}
	p.stop(t, syscall.SIGKILL)

	restored := filepath.Join(t.TempDir(), "restored")
	var out struct {
		Point node.RestorePoint `json:"point"`
	}
	horenso(t, restored, &out, "restore", "--from", backups, "--at", mistake.Add(-time.Second).Format(time.RFC3339Nano))
	if out.Point.Time.After(mistake.Add(-time.Second)) || out.Point.Time.Before(posted.Add(-time.Second)) {
		t.Errorf("restored to %s; asked for %s, posts made at %s", out.Point.Time, mistake.Add(-time.Second), posted)
	}
	start(t, restored)
	ms, err := dial(t, restored).Messages(ctx, "alice", room.Alias, node.MaxPage)
	if err != nil {
		t.Fatalf("the restored node has no room %d: %v", room.Alias, err)
	}
	var bodies []string
	for _, m := range ms {
		if m.Notice == "" {
			bodies = append(bodies, m.Body)
		}
	}
	if fmt.Sprint(bodies) != "[first second]" {
		t.Fatalf("restored messages %q, want first and second", bodies)
	}
}
