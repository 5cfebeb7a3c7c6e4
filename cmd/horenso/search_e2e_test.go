package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
)

// TestSearchIndexerSurvivesKill9 kills a node with SIGKILL while its
// indexer is behind a stream of posts, restarts it, and checks that the
// index resumes and then holds every stored message exactly once; then
// that `horenso search reindex` rebuilds the same index and `horenso
// status` shows its lag.
func TestSearchIndexerSurvivesKill9(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, data)
	ctx := t.Context()
	admin := dial(t, data)
	if _, err := admin.AddUser(ctx, node.NewAccount{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	room, err := admin.CreateRoom(ctx, "alice", "load", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	wctx, stopWriters := context.WithCancel(ctx)
	defer stopWriters()
	for w := range 4 {
		wg.Go(func() {
			c, err := control.Dial(wctx, data)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := 0; wctx.Err() == nil; i++ {
				token := fmt.Sprintf("w%dx%d", w, i)
				if _, err := c.Post(wctx, "alice", room.Alias, "crashword 定例会議 "+token); err != nil {
					return // the node died: not acknowledged
				}
				mu.Lock()
				acked = append(acked, token)
				mu.Unlock()
			}
		})
	}
	// Kill the node once it has indexed some posts and is behind on others.
	waitUntil(t, func() bool {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		st, err := admin.Status(ctx)
		return err == nil && n >= 300 && st.Search.Cursor > 0 && st.Search.Lag > 0
	})
	p.stop(t, syscall.SIGKILL)
	wg.Wait()

	start(t, data)
	c := dial(t, data)
	caughtUp := func() node.SearchStatus {
		var st node.SearchStatus
		waitUntil(t, func() bool {
			s, err := c.Status(ctx)
			if err != nil {
				return false
			}
			st = s.Search
			return st.Lag == 0 && !st.Building && st.Error == ""
		})
		return st
	}
	st := caughtUp()
	ms, err := c.Messages(ctx, "alice", room.Alias, node.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, m := range ms {
		if m.Notice == "" {
			stored++
		}
	}
	if stored < len(acked) || stored >= node.MaxPage {
		t.Fatalf("%d messages stored, %d acknowledged (and message.list shows at most %d)", stored, len(acked), node.MaxPage)
	}
	for _, q := range []string{"crashword", "会議"} {
		res, err := c.Search(ctx, "alice", q, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != uint64(stored) {
			t.Errorf("%q: %d found after kill -9 and restart, %d messages stored", q, res.Total, stored)
		}
	}
	for i := 0; i < len(acked); i += max(1, len(acked)/25) {
		res, err := c.Search(ctx, "alice", acked[i], 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1 {
			t.Errorf("acknowledged post %s found %d times", acked[i], len(res.Hits))
		}
	}
	t.Logf("%d acknowledged, %d stored, index %+v", len(acked), stored, st)

	var rebuilt node.SearchStatus
	horenso(t, data, &rebuilt, "search", "reindex")
	if rebuilt.Documents != st.Documents {
		t.Errorf("reindex made %d documents, the resumed index held %d", rebuilt.Documents, st.Documents)
	}
	var status node.Status
	horenso(t, data, &status, "status")
	if status.Search.Documents != st.Documents || status.Search.Cursor == 0 {
		t.Errorf("status after reindex: %+v", status.Search)
	}
	var found node.SearchResult
	horenso(t, data, &found, "search", "query", "--as", "alice", "crashword")
	if found.Total != uint64(stored) {
		t.Errorf("search query after reindex found %d, want %d", found.Total, stored)
	}
}
