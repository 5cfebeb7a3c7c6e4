package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkSearchIndexer measures the node's search indexer on its real
// path (change feed, store reads, Bleve), where node/search's
// BenchmarkSearch measures the index alone:
//
//   - indexer-msg/s: a node started with a backlog of B messages its
//     index lacks (posted while the node was not running, as after a
//     burst the indexer deferred, or an upgrade) and nothing else to do
//     indexes them at this rate;
//   - posts/s-index-idle: 64 posters post P messages with node.Post into
//     64 rooms, the index caught up beforehand;
//   - posts/s-indexing: the same, on a node started with another backlog
//     of B, so that the indexer has work all through the posts (it yields
//     to them: docs/ARCHITECTURE.md, "Search").
//
// The limit of posts/s-indexing is posts/s-index-idle: the goal is the
// same ("posts/s unchanged while it runs", issue 19).
func BenchmarkSearchIndexer(b *testing.B) {
	backlog := shortOr(100_000, 5_000)
	burst := shortOr(20_000, 2_000)
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "node")
		if _, err := node.Init(dir, "Bench"); err != nil {
			b.Fatal(err)
		}
		rooms, err := indexerRooms(b.Context(), dir)
		if err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		if err := postOffline(b.Context(), dir, rooms, backlog, &seq); err != nil {
			b.Fatal(err)
		}
		r, err := start(dir)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := awaitIndexed(b.Context(), r, 10*time.Minute); err != nil {
			b.Fatal(errors.Join(err, r.stop()))
		}
		indexRate := float64(backlog) / time.Since(t0).Seconds()
		idle, err := postBurst(b.Context(), r, rooms, burst, &seq)
		if err == nil {
			err = awaitIndexed(b.Context(), r, 10*time.Minute)
		}
		if err := errors.Join(err, r.stop()); err != nil {
			b.Fatal(err)
		}

		if err := postOffline(b.Context(), dir, rooms, backlog, &seq); err != nil {
			b.Fatal(err)
		}
		if r, err = start(dir); err != nil {
			b.Fatal(err)
		}
		before := r.SearchStatus()
		busy, err := postBurst(b.Context(), r, rooms, burst, &seq)
		during := r.SearchStatus().Cursor - before.Cursor
		if err == nil {
			err = awaitIndexed(b.Context(), r, 10*time.Minute)
		}
		if err := errors.Join(err, r.stop()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(backlog), "backlog-msgs")
		b.ReportMetric(indexRate, "indexer-msg/s")
		b.ReportMetric(idle, "posts/s-index-idle")
		b.ReportMetric(busy, "posts/s-indexing")
		b.ReportMetric(float64(during), "indexed-during-posts")
	}
}

// indexerRooms makes the account "poster" and 64 rooms of its in dir's
// node, and returns the rooms.
func indexerRooms(ctx context.Context, dir string) ([]protocol.RoomID, error) {
	n, err := node.New(node.Config{DataDir: dir, Logger: benchLog})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if _, err := n.CreateAccount(ctx, node.NewAccount{Handle: "poster"}); err != nil {
		return nil, err
	}
	rooms := make([]protocol.RoomID, 64)
	for i := range rooms {
		r, err := n.CreateRoom(ctx, "poster", node.NewRoom{Name: fmt.Sprintf("部署 %d", i)})
		if err != nil {
			return nil, err
		}
		rooms[i] = r.ID
	}
	return rooms, n.Close()
}

// postOffline posts msgs messages into rooms of dir's node without
// running it (so without its indexer): the backlog a started node finds.
func postOffline(ctx context.Context, dir string, rooms []protocol.RoomID, msgs int, seq *atomic.Int64) error {
	n, err := node.New(node.Config{DataDir: dir, Logger: benchLog})
	if err != nil {
		return err
	}
	err = postAll(ctx, n, rooms, msgs, seq)
	return errors.Join(err, n.Close())
}

// postBurst posts msgs messages into rooms of r, one poster per room, and
// returns the durable posts per second.
func postBurst(ctx context.Context, r *running, rooms []protocol.RoomID, msgs int, seq *atomic.Int64) (float64, error) {
	t0 := time.Now()
	if err := postAll(ctx, r.Node, rooms, msgs, seq); err != nil {
		return 0, err
	}
	return float64(msgs) / time.Since(t0).Seconds(), nil
}

func postAll(ctx context.Context, n *node.Node, rooms []protocol.RoomID, msgs int, seq *atomic.Int64) error {
	var left atomic.Int64
	left.Store(int64(msgs))
	return concurrently(len(rooms), func(c int) error {
		rnd := rand.New(rand.NewPCG(uint64(c), uint64(seq.Load())))
		for left.Add(-1) >= 0 {
			if _, err := n.Post(ctx, "poster", rooms[c], chatText(rnd, int(seq.Add(1)))); err != nil {
				return err
			}
		}
		return nil
	})
}

var (
	chatJa = strings.Fields("会議 新製品 発表 来週 予算 承認 資料 確認 お願い します 営業 部長 顧客 見積 契約 納期 出張 報告 定例 議事録 品質 改善 計画 共有 東京 大阪 請求書 対応 問題 修正")
	chatEn = strings.Fields("meeting release budget review customer invoice deploy server report schedule quality plan update design contract travel approve draft launch feedback")
)

// chatText is a chat message of mixed Japanese and English, as
// BenchmarkSearch's, numbered i.
func chatText(r *rand.Rand, i int) string {
	var b strings.Builder
	for range 4 + r.IntN(10) {
		if r.IntN(3) == 0 {
			b.WriteString(" " + chatEn[r.IntN(len(chatEn))] + " ")
		} else {
			b.WriteString(chatJa[r.IntN(len(chatJa))])
			if r.IntN(2) == 0 {
				b.WriteString([]string{"の", "は", "を", "が", "に", "、", "。"}[r.IntN(7)])
			}
		}
	}
	fmt.Fprintf(&b, " #%d", i)
	return b.String()
}

// awaitIndexed waits until r's search index has caught up with its
// change feed.
func awaitIndexed(ctx context.Context, r *running, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st := r.SearchStatus()
		switch {
		case st.Error != "":
			return fmt.Errorf("search index: %s", st.Error)
		case st.Lag == 0 && !st.Building:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("search index not caught up after %v: %+v", timeout, st)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		time.Sleep(10 * time.Millisecond)
	}
}
