package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// BenchmarkPostGrownStore measures what a post costs as the store grows
// (issue 22): 64 clients, each with its own group room (shared with a
// second local account, whose unread count every post raises), post
// 1,500 100-byte messages each, one after another, into a store that already holds 0
// or 1,000,000 messages (0 and 20,000 with -short; more with
// envGrownSizes). It reports
// posts/s and the process CPU time per post in ms (user + system, from
// getrusage): the API handler is called in process, without sockets, so
// the process's CPU is the server's: authentication, the node, the store,
// the search indexer, Badger's compactions. Goal: the grown stores within
// 1.2× of the empty one.
//
// The grown stores are built once and kept (see grownStore); each run
// posts into a copy, so every run starts from the same store, and starts
// timing once the node is idle (Badger's compactions on opening it
// done).
func BenchmarkPostGrownStore(b *testing.B) {
	const clients = 64
	sizes, err := grownSizes()
	if err != nil {
		b.Fatal(err)
	}
	for _, msgs := range sizes {
		b.Run(fmt.Sprintf("msgs=%d", msgs), func(b *testing.B) {
			src, err := grownStore(b, msgs, clients)
			if err != nil {
				b.Fatal(err)
			}
			dir := filepath.Join(b.TempDir(), "node")
			if err := os.CopyFS(dir, os.DirFS(src.dir)); err != nil {
				b.Fatalf("copy grown store: %v", err)
			}
			r, err := start(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := r.stop(); err != nil {
					b.Error(err)
				}
			}()
			post := func(c, i int) error {
				return servePost(r.api, src.Posters[c].Alias, src.Posters[c].Token, messageBody(i))
			}
			// A few posts per room first, as a node that has been
			// running has posted before.
			if err := concurrently(clients, func(c int) error {
				for i := range 4 {
					if err := post(c, i); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			// Badger compacts what the store's building left in its
			// upper levels when it opens it: that is not what a post
			// costs, so wait for it to end.
			if err := settle(b.Context(), 3*time.Minute); err != nil {
				b.Logf("timing a node that is not idle: %v", err)
			}
			// 1,500 posts per client, 96,000 in all, take the tree
			// through several flushes and compactions: in 19,200, whether
			// one fell in them decided the figure (docs/PERFORMANCE.md,
			// "Event records and own counts by sequence").
			perClient := shortOr(1500, 20)
			posts, round := 0, 1
			var busy, cpu time.Duration
			var faults, majors, compacted int64
			for b.Loop() {
				compacted0 := compactionBytes()
				minor0, major0 := processFaults()
				cpu0, t0 := processCPU(), time.Now()
				err := concurrently(clients, func(c int) error {
					for i := range perClient {
						if err := post(c, round*perClient+i); err != nil {
							return err
						}
					}
					return nil
				})
				busy += time.Since(t0)
				cpu += processCPU() - cpu0
				minor, major := processFaults()
				faults += minor - minor0 + major - major0
				majors += major - major0
				compacted += compactionBytes() - compacted0
				if err != nil {
					b.Fatal(err)
				}
				posts += clients * perClient
				round++
			}
			b.ReportMetric(float64(posts)/busy.Seconds(), "posts/s")
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(posts), "cpu-ms/post")
			b.ReportMetric(float64(faults)/float64(posts), "faults/post")
			b.ReportMetric(float64(majors)/float64(posts), "major-faults/post")
			b.ReportMetric(float64(compacted)/float64(posts), "compacted-B/post")
			b.ReportMetric(float64(msgs), "msgs")
		})
	}
}

// settle waits until the process uses less than 5% of a core in each of
// three seconds in a row (Badger starts a compaction up to a second after
// opening a store), or fails after limit.
func settle(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for quiet := 0; time.Now().Before(deadline); {
		cpu0, t0 := processCPU(), time.Now()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if processCPU()-cpu0 >= time.Since(t0)/20 {
			quiet = 0
		} else if quiet++; quiet == 3 {
			return nil
		}
	}
	return fmt.Errorf("the node still busy after %v", limit)
}

// envGrownSizes, if set, lists the store sizes BenchmarkPostGrownStore
// posts into, comma-separated (e.g. "0,1000000,3000000,10000000"):
// building a store of millions of messages takes minutes per million,
// more than `make bench` allows, so the bigger ones are asked for.
const envGrownSizes = "HORENSO_BENCH_GROWN_SIZES"

// grownSizes returns the store sizes to post into: envGrownSizes, or 0
// and 1,000,000 (0 and 20,000 with -short).
func grownSizes() ([]int, error) {
	v := os.Getenv(envGrownSizes)
	if v == "" {
		return shortOr([]int{0, 1_000_000}, []int{0, 20_000}), nil
	}
	var sizes []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a number of messages", envGrownSizes, f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processFaults returns the page faults of the process so far: minor (the
// page was in memory: the page cache, or a fresh page) and major (read
// from the disk).
func processFaults() (minor, major int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return ru.Minflt, ru.Majflt
}

// compactionBytes returns how many bytes of tables Badger's compactions have
// written in this process, summed over the levels they wrote to (its
// expvar "badger_write_bytes_compaction"; the memtables' flushes to level 0
// are not in it). Compactions run beside the posts, and what they write
// grows with the levels a store has: BenchmarkPostGrownStore reports it
// per post, a figure that does not move with the machine's speed.
func compactionBytes() int64 {
	m, ok := expvar.Get("badger_write_bytes_compaction").(*expvar.Map)
	if !ok {
		return 0
	}
	var n int64
	m.Do(func(kv expvar.KeyValue) {
		if v, ok := kv.Value.(*expvar.Int); ok {
			n += v.Value()
		}
	})
	return n
}

// servePost posts body to the room with ChatWork room_id alias as the
// holder of token, calling h in process.
func servePost(h http.Handler, alias uint64, token, body string) error {
	path := fmt.Sprintf("/v2/rooms/%d/messages", alias)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("body="+url.QueryEscape(body)))
	req.Header.Set("X-ChatWorkToken", token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", path, w.Code, w.Body)
	}
	return nil
}

// grown is a node data directory made by grownStore, closed; its
// description is kept beside it in grownInfo.
type grown struct {
	dir     string
	Posters []grownPoster `json:"posters"`
	// Settled says Badger's compactions of the building are done (see
	// settleGrown).
	Settled bool `json:"settled,omitempty"`
}

type grownPoster struct {
	Alias uint64 `json:"alias"` // the room's ChatWork room_id
	Token string `json:"token"`
}

// grownVersion names the layout of the kept grown stores: change it when
// grownStore changes what it builds, or the store's schema changes its
// key layout, so that stale ones are not used (2: schema 12's event
// records by sequence, a store of 1 would be migrated when opened; 3: its
// own counts by room and position).
const grownVersion = 3

// grownInfo is the file beside a grown store that describes it; it is
// written last, so a store without it is incomplete.
const grownInfo = "grown.json"

// grownStore returns a node data directory whose account "poster" has
// clients group rooms, each shared with the account "reader", and a
// token per room; and whose store holds msgs messages besides.
//
// It is built once per size and kept in the system's temporary
// directory (horenso-bench-grown-v<grownVersion>-<msgs>, reused by later
// runs and processes; delete it to build it again), since building the
// big ones takes minutes. The rooms are made through the node first, so
// that their records are old when the posting starts, as a long-running
// node's are. The messages are then written straight through package
// storage, in large batches, on a node that is not running: signed
// message events of grownRooms other rooms, each stored as the node
// stores a message (event, snapshot key, by-depth index, timeline entry,
// message index, message_id alias). They are filler: those rooms have no
// Room record, the search index and change feed do not hold them; they
// give Badger's tree the size and depth of a store that took msgs posts.
func grownStore(b *testing.B, msgs, clients int) (*grown, error) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("horenso-bench-grown-v%d-%d", grownVersion, msgs))
	g := &grown{dir: filepath.Join(dir, "node")}
	if raw, err := os.ReadFile(filepath.Join(dir, grownInfo)); err == nil {
		if err := json.Unmarshal(raw, g); err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		if len(g.Posters) >= clients {
			return g, settleGrown(b, g, dir)
		}
	}
	t0 := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if _, err := node.Init(g.dir, "Bench"); err != nil {
		return nil, err
	}
	r, err := start(g.dir)
	if err != nil {
		return nil, err
	}
	ps, err := newPosters(b.Context(), r, "", clients)
	if err == nil {
		for _, p := range ps {
			var alias uint64
			if _, err = fmt.Sscanf(p.url, "/v2/rooms/%d/messages", &alias); err != nil {
				break
			}
			g.Posters = append(g.Posters, grownPoster{Alias: alias, Token: p.token})
		}
	}
	if serr := r.stop(); err == nil {
		err = serr
	}
	if err == nil && msgs > 0 {
		err = fillStore(b.Context(), filepath.Join(g.dir, "store"), msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("build grown store of %d messages: %w", msgs, err)
	}
	if err := writeGrownInfo(g, dir); err != nil {
		return nil, err
	}
	b.Logf("built a store of %d messages in %s in %v", msgs, dir, time.Since(t0).Round(time.Second))
	return g, settleGrown(b, g, dir)
}

// settleGrown runs the node on the kept store in dir once, until Badger
// has done the compactions its building left (a store written in large
// batches on a closed node has its upper levels over their sizes), and
// notes that it did. Every run starts from a copy of the kept store: a
// copy that compacted on opening would time, in its first posts, what the
// building left undone (at ten million messages, more than the 3 minutes
// BenchmarkPostGrownStore waits for the node to be idle).
func settleGrown(b *testing.B, g *grown, dir string) error {
	if g.Settled {
		return nil
	}
	t0 := time.Now()
	r, err := start(g.dir)
	if err != nil {
		return err
	}
	err = settle(b.Context(), time.Hour)
	if serr := r.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("settle the grown store in %s: %w", dir, err)
	}
	g.Settled = true
	if err := writeGrownInfo(g, dir); err != nil {
		return err
	}
	b.Logf("settled the grown store in %s in %v", dir, time.Since(t0).Round(time.Second))
	return nil
}

// writeGrownInfo writes what grownStore keeps of g beside the store in dir.
func writeGrownInfo(g *grown, dir string) error {
	raw, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, grownInfo), raw, 0o600)
}

// grownRooms is how many rooms fillStore spreads its messages over.
const grownRooms = 64

// fillBatch is how many messages fillStore writes in one Update: about
// 330 KB, within one Badger transaction even of a 4 MiB memtable (15% of
// it, 629 KB; at 1,000 messages, 834 KB were too big for one).
const fillBatch = 400

// fillStore writes msgs filler messages into the (closed) node store in
// dir; see grownStore. Two lanes sign and write side by side.
func fillStore(ctx context.Context, dir string, msgs int) error {
	st, err := storage.Open(dir, storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	const lanes = 2
	err = concurrently(lanes, func(lane int) error {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		const handle protocol.Handle = "filler"
		author := protocol.NewAccountID(protocol.NodeIDFromKey(pub), handle)
		type chain struct {
			room  protocol.RoomID
			prev  protocol.EventID
			depth uint64
		}
		chains := make([]chain, grownRooms/lanes)
		for i := range chains {
			rand.Read(chains[i].room[:])
			rand.Read(chains[i].prev[:])
		}
		t0 := time.Now().UnixMilli() - int64(msgs)
		for i := lane; i < msgs; {
			type filler struct {
				e    *protocol.Signed
				body string
			}
			var batch []filler
			for ; i < msgs && len(batch) < fillBatch; i += lanes {
				c := &chains[(i/lanes)%len(chains)]
				c.depth++
				body := messageBody(i)
				e, err := protocol.Sign(key, protocol.Event{Room: c.room, Author: handle, Prev: []protocol.EventID{c.prev},
					Depth: c.depth, Seq: c.depth, Time: t0 + int64(i)}, &protocol.MessagePost{Body: body})
				if err != nil {
					return err
				}
				c.prev = e.ID
				batch = append(batch, filler{e, body})
			}
			err := st.Update(ctx, func(tx *storage.Tx) error {
				for _, f := range batch {
					e := f.e
					alias, err := tx.Alias(storage.AliasMessage, e.ID[:])
					if err != nil {
						return err
					}
					if err := tx.PutEvent(e, protocol.SnapshotKey{}); err != nil {
						return err
					}
					m := &storage.Message{Message: protocol.Message{ID: e.ID, Author: author, Depth: e.Depth, Time: e.Time,
						Body: f.body}, Alias: alias, Arrival: e.Depth}
					if err := tx.PutMessage(e.RoomID(), m); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return errors.Join(err, st.Close())
}
