package search

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node/bench/measure"
)

var (
	benchMsgs = flag.Int("search.msgs", 1_000_000, "messages BenchmarkSearch indexes (-short: 20,000)")
	benchDir  = flag.String("search.dir", "", "BenchmarkSearch keeps its index here and reuses one it built of as many messages (to time queries again)")
)

var (
	jaWords = strings.Fields("会議 新製品 発表 来週 予算 承認 資料 確認 お願い します 営業 部長 顧客 見積 契約 納期 出張 報告 定例 議事録 品質 改善 計画 共有 東京 大阪 請求書 対応 問題 修正")
	enWords = strings.Fields("meeting release budget review customer invoice deploy server report schedule quality plan update design contract travel approve draft launch feedback")
)

// rareWords are each in about one message in 20,000 (a project's code
// name, a rare term): a search for one finds few, scattered over years.
var rareWords = strings.Fields("棚卸し kubernetes 稟議書 postmortem 就業規則")

// queryKinds are the searches BenchmarkSearch times, in turn: a common
// word (or two), a rare word, a Japanese phrase ("会議の資料"), a common
// word in one room (in:), and a common word from one sender (from:).
var queryKinds = []string{"common", "rare", "phrase", "room", "sender"}

// benchText is a message of mixed Japanese and English, like those of a
// Japanese office that names things in English.
func benchText(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(4000) == 0 {
		b.WriteString(rareWords[r.IntN(len(rareWords))] + " ")
	}
	for range 4 + r.IntN(10) {
		if r.IntN(3) == 0 {
			b.WriteString(" " + enWords[r.IntN(len(enWords))] + " ")
		} else {
			b.WriteString(jaWords[r.IntN(len(jaWords))])
			if r.IntN(2) == 0 {
				b.WriteString([]string{"の", "は", "を", "が", "に", "、", "。"}[r.IntN(7)])
			}
		}
	}
	return b.String()
}

// BenchmarkSearch indexes N messages in 300 rooms the way the node's
// indexer does (batches of 1,000, each durable), one a minute (an
// organization posting 1,440 messages a day: 1,000,000 span 23 months),
// then runs 250 searches over the 50 rooms an account is in, newest
// first, a page of 20 with snippets, 50 of each of queryKinds. It
// reports the indexing rate, the index's bytes per message, and the
// query latency p50 and p99, of all and of each kind. On a shared
// machine the wall-clock figures move with the load; the CPU time the
// process spent per message indexed and per query (background merges
// included) does much less.
func BenchmarkSearch(b *testing.B) {
	n := *benchMsgs
	if testing.Short() {
		n = 20_000
	}
	for range b.N {
		dir := filepath.Join(b.TempDir(), "search")
		if *benchDir != "" {
			dir = filepath.Join(*benchDir, fmt.Sprint(n))
		}
		x, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		built, err := x.Cursor()
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		const batch = 1000
		start, cpu0 := time.Now(), cpuTime(b)
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		total, reused := n, built == uint64(n)
		if reused {
			n = 0 // no indexing figures
		}
		for i := 0; i < n; i += batch {
			var bt Batch
			for j := i; j < min(n, i+batch); j++ {
				bt.Put = append(bt.Put, Doc{ID: DocID(KindMessage, fmt.Sprintf("%064x", j)), Kind: KindMessage,
					Room: fmt.Sprintf("room%03d", r.IntN(300)), Author: fmt.Sprintf("user%d@node", r.IntN(200)),
					Time: t0 + int64(j)*60_000, Text: benchText(r)})
			}
			bt.Cursor = uint64(min(n, i+batch))
			if err := x.Apply(b.Context(), bt); err != nil {
				b.Fatal(err)
			}
		}
		rate := float64(n) / time.Since(start).Seconds()
		cpuRate := float64(n) / (cpuTime(b) - cpu0).Seconds()
		// Let the index settle its merges before it is measured.
		size, _ := measure.DirSize(dir)
		rooms := make([]string, 50)
		for i := range rooms {
			rooms[i] = fmt.Sprintf("room%03d", i*6)
		}
		r = rand.New(rand.NewPCG(3, 4)) // the same queries, reused or not
		var lat []time.Duration
		byKind := map[string][]time.Duration{}
		cpuByKind := map[string]time.Duration{}
		qcpu0 := cpuTime(b)
		for i := range 250 {
			kind := queryKinds[i%len(queryKinds)]
			req := Request{Rooms: rooms, Size: 20}
			switch kind {
			case "common":
				req.Words = []string{jaWords[r.IntN(len(jaWords))]}
				if i%2 == 1 {
					req.Words = append(req.Words, enWords[r.IntN(len(enWords))])
				}
			case "rare":
				req.Words = []string{rareWords[r.IntN(len(rareWords))]}
			case "phrase":
				a, c := jaWords[r.IntN(len(jaWords))], jaWords[r.IntN(len(jaWords))]
				req.Phrases = []string{a + "の" + c}
			case "room":
				req.Words = []string{jaWords[r.IntN(len(jaWords))]}
				j := r.IntN(len(rooms))
				req.Rooms = rooms[j : j+1]
			case "sender":
				req.Words = []string{jaWords[r.IntN(len(jaWords))]}
				req.Authors = []string{fmt.Sprintf("user%d@node", r.IntN(200))}
			}
			qs, qc := time.Now(), cpuTime(b)
			if _, err := x.Search(b.Context(), req); err != nil {
				b.Fatal(err)
			}
			d := time.Since(qs)
			cpuByKind[kind] += cpuTime(b) - qc
			lat = append(lat, d)
			byKind[kind] = append(byKind[kind], d)
		}
		qcpu := (cpuTime(b) - qcpu0) / time.Duration(len(lat))
		if err := x.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total), "msgs")
		if !reused {
			b.ReportMetric(rate, "indexed-msg/s")
			b.ReportMetric(cpuRate, "indexed-msg/cpu-s")
		}
		b.ReportMetric(measure.Ms(qcpu), "query-cpu-ms")
		b.ReportMetric(float64(size)/float64(total), "index-B/msg")
		b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.5)), "p50-ms")
		b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.99)), "p99-ms")
		for _, k := range queryKinds {
			b.ReportMetric(measure.Ms(measure.Quantile(byKind[k], 0.5)), k+"-p50-ms")
			b.ReportMetric(measure.Ms(measure.Quantile(byKind[k], 0.99)), k+"-p99-ms")
			b.ReportMetric(measure.Ms(cpuByKind[k]/time.Duration(len(byKind[k]))), k+"-cpu-ms")
		}
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
