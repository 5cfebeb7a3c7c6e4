package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/horenso/horenso/node/bench/measure"
)

// The benchmarks in this file measure raw Badger, opened with the options
// a Store uses (badgerOptions), doing what a Horenso post needs of it with
// nothing of Horenso's in between: the physical limits that node/bench's
// benchmarks of the same scenarios are set against.
//
// Record sizes. Posting a 100-byte message in a group room with two local
// members (after three warm-up posts, so that every counter and alias of
// the room and accounts exists) writes 11 records. They were found by
// closing the node before and after the post, reading every key and value
// of its store with Badger, and diffing (schema 3; schema 10 dropped the
// 0x23 location, 33 + 40, and the 0x60 alias, 34 + 8, which the event and
// the timeline record hold; schema 11 moves 0x11's snapshot key into
// 0x10, 1 + 32 more there, drops the 0x13 key of a message and names a
// new message in 0x70 by its alias, 8 bytes instead of 32; the figures
// below, and postKeepBytes, are of schema 10):
//
//	new, kept for good                      key + value bytes
//	0x10 event → wire form                  33 + 338
//	0x11 event → snapshot key               33 +  32
//	0x13 room, depth, event → ∅             73 +   0
//	0x22 timeline: room, depth, event → msg 73 + 178
//	0x61 alias m, alias → event             10 +  32
//	0x70 change feed entry                   9 +  80
//	overwritten
//	0x03 two counters (alias, feed seq)      2 ×(2 + 8)
//	0x20 room record                        33 + 104
//	0x25 room heads                         33 +  39
//	0x50 the other member's read marker     93 +  44
//
// That is 1,257 bytes written per post (postWriteBytes), of which 891
// stay (postKeepBytes): the overwritten records replace older versions,
// which compaction drops. Of the kept bytes, about postRandomBytes are
// random: the event's ID (in six records, each compressed on its own),
// its parent's ID and its signature. The rest repeats from post to post
// (the room's ID, the node's ID in base58, CBOR field headers) or is text:
// the 100-byte body, stored twice (in the event and in the timeline).
// Measure again when the key layout changes.
const (
	postWriteBytes  = 1257
	postKeepBytes   = 891
	postRandomBytes = 6*32 + 32 + 64
)

// rawKey is the key of record i of a raw benchmark: a prefix byte, 24
// bytes that stand for a room, and i big-endian, 33 bytes like an event
// key, so records sort in the order they were written.
func rawKey(i uint64) []byte {
	k := make([]byte, 33)
	k[0] = 0xEE
	binary.BigEndian.PutUint64(k[25:], i)
	return k
}

// rawValue is the value of record i when records are size bytes with their
// key: postRandomBytes of random bytes, then what repeats in every post
// (a room ID, a node ID, text), so that it compresses like what a post
// stores.
func rawValue(i uint64, size int) []byte {
	v := make([]byte, size-33)
	random := min(postRandomBytes, len(v))
	r := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
	r.Read(v[:random])
	for j := random; j < len(v); j++ {
		v[j] = postRepeats[(j-random)%len(postRepeats)]
	}
	return v
}

// postRepeats is what rawValue repeats: a room ID, a node ID and text.
var postRepeats = "\x8e\x1d\x04\xd2\x7f\x9a\x31\x66\xc0\x5b\xe3\x28\x91\x4a\xf7\x0c" +
	"\x6d\xb5\x12\x83\x2e\xd9\x47\xaa\x58\x3c\xf1\x09\x74\xbe\x20\x95" +
	"12D3KooWQ4V8mJ7c2aXf9tH3pLk6Rb5sNy1zE8dGu4wTqC7vYx2M" +
	"the quick brown fox jumps over the lazy dog, then posts about it in the team room. "

func openRaw(dir string) (*badger.DB, error) {
	opt := Options{Logger: slog.New(slog.DiscardHandler)}.withDefaults()
	db, err := badger.Open(badgerOptions(dir, opt))
	if err != nil {
		return nil, fmt.Errorf("open raw badger: %w", err)
	}
	return db, nil
}

// BenchmarkBadgerGroupCommit measures durable single-record writes per
// second from 1, 8 and 64 concurrent writers, each doing its share of a
// fixed number of writes one after another, where every write waits for
// its fsync and the writes waiting at the same time share one: the limit
// of a Store's writer and of the node's posts (node/bench
// BenchmarkHTTPPost). It is the least code that does that with Badger: one
// goroutine commits whatever writes are waiting in one transaction.
// Concurrent Badger Updates do not share syncs (BenchmarkBadgerUpdate).
// Each record is postWriteBytes, what one post writes.
func BenchmarkBadgerGroupCommit(b *testing.B) {
	type write struct {
		k, v []byte
		done chan error
	}
	benchWriters(b, writesPerWriter, func(db *badger.DB, writers int) (func(k, v []byte) error, func()) {
		writes := make(chan write, writers)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			for w := range writes {
				batch := []write{w}
			more:
				for len(batch) < 512 {
					select {
					case w, ok := <-writes:
						if !ok {
							break more
						}
						batch = append(batch, w)
					default:
						break more
					}
				}
				txn := db.NewTransaction(true)
				var err error
				for _, w := range batch {
					if err = txn.Set(w.k, w.v); err != nil {
						break
					}
				}
				if err == nil {
					err = txn.Commit()
				}
				txn.Discard()
				for _, w := range batch {
					w.done <- err
				}
			}
		}()
		put := func(k, v []byte) error {
			done := make(chan error, 1)
			writes <- write{k, v, done}
			return <-done
		}
		return put, func() { close(writes); <-stopped }
	})
}

// BenchmarkBadgerUpdate is BenchmarkBadgerGroupCommit with each write a
// Badger Update of its own, as concurrent writers would do without a
// writer of their own: Badger v4 hands concurrent commits to its writer
// goroutine together, but syncs its write-ahead log once per transaction
// (strace counts 13,428 msyncs for 12,800 Updates from 64 writers), so
// this is one sync per write whatever the number of writers.
func BenchmarkBadgerUpdate(b *testing.B) {
	// One sync per write: a second's worth whatever the number of writers.
	perWriter := func(writers int) int { return max(1, 4000/writers/shortDiv()) }
	benchWriters(b, perWriter, func(db *badger.DB, writers int) (func(k, v []byte) error, func()) {
		put := func(k, v []byte) error {
			return db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) })
		}
		return put, func() {}
	})
}

// benchWriters runs a write benchmark with 1, 8 and 64 writers on a new raw
// Badger store: setup returns the durable write to measure and a function
// that stops what setup started.
func benchWriters(b *testing.B, perWriter func(writers int) int, setup func(db *badger.DB, writers int) (put func(k, v []byte) error, stop func())) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			db, err := openRaw(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			put, stop := setup(db, writers)
			defer stop()
			measureWrites(b, writers, perWriter(writers), put)
		})
	}
}

// measureWrites has writers concurrent writers each put each records of
// postWriteBytes per iteration, one after another, and reports
// records/s.
func measureWrites(b *testing.B, writers, each int, put func(k, v []byte) error) {
	val := rawValue(0, postWriteBytes)
	var next uint64
	var busy time.Duration
	for b.Loop() {
		start := time.Now()
		err := concurrently(writers, func(w int) error {
			for j := range each {
				if err := put(rawKey(next+uint64(w*each+j)), val); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			return nil
		})
		busy += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		next += uint64(writers * each)
	}
	b.ReportMetric(float64(next)/busy.Seconds(), "records/s")
}

// writesPerWriter is how many records each of writers writes in one
// iteration of a write benchmark in which writes share syncs: a second or
// two's worth, or a tenth of that with -short.
func writesPerWriter(writers int) int {
	total := map[int]int{1: 4000, 8: 12000, 64: 32000}[writers]
	if total == 0 {
		total = 1000 * writers
	}
	return total / writers / shortDiv()
}

// shortDiv is 10 with -short, which makes every scenario a tenth as big,
// and 1 without.
func shortDiv() int {
	if testing.Short() {
		return 10
	}
	return 1
}

// concurrently runs fn(0) … fn(n-1) in n goroutines and returns their
// errors joined.
func concurrently(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rawStore is a closed Badger directory holding rawRecords records of
// postKeepBytes, made once per test process for the read and footprint
// benchmarks and removed by TestMain.
var rawStore struct {
	once sync.Once
	dir  string
	err  error
}

// rawRecords is how many records rawStore holds: as many messages as
// node/bench stores.
func rawRecords() int {
	if testing.Short() {
		return 20_000
	}
	return 1_000_000
}

func rawFixture(b *testing.B) string {
	b.Helper()
	rawStore.once.Do(func() {
		start := time.Now()
		rawStore.dir, rawStore.err = os.MkdirTemp("", "horenso-raw-bench-")
		if rawStore.err == nil {
			rawStore.err = fillRaw(rawStore.dir, rawRecords())
		}
		b.Logf("raw fixture: %d records in %v", rawRecords(), time.Since(start).Round(time.Millisecond))
	})
	if rawStore.err != nil {
		b.Fatalf("raw fixture: %v", rawStore.err)
	}
	return rawStore.dir
}

// fillRaw writes n records into a new Badger store in dir, in write
// batches (their durability is not what is measured), and closes it.
func fillRaw(dir string, n int) error {
	db, err := openRaw(dir)
	if err != nil {
		return err
	}
	wb := db.NewWriteBatch()
	for i := range uint64(n) {
		if err := wb.Set(rawKey(i), rawValue(i, postKeepBytes)); err != nil {
			wb.Cancel()
			db.Close()
			return fmt.Errorf("write record %d: %w", i, err)
		}
	}
	err = wb.Flush()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// BenchmarkBadgerRangeRead measures, in microseconds, the median and 99th
// percentile time to read the newest 50 records, values included, of a
// store of 1,000,000 (20,000 with -short) records of postKeepBytes, with a
// reverse prefix iterator set up like the Store's scans. It is the limit
// of node/bench BenchmarkReadLast50, which reads a room's newest 50
// messages among as many.
func BenchmarkBadgerRangeRead(b *testing.B) {
	db, err := openRaw(rawFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	prefix := rawKey(0)[:25]
	end := append(slices.Clone(prefix), slices.Repeat([]byte{0xff}, 8)...)
	read := func() error {
		return db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
			defer it.Close()
			n := 0
			for it.Seek(end); it.ValidForPrefix(prefix) && n < 50; it.Next() {
				if _, err := it.Item().ValueCopy(nil); err != nil {
					return err
				}
				n++
			}
			if n != 50 {
				return fmt.Errorf("read %d records, want 50", n)
			}
			return nil
		})
	}
	for range 20 { // warm the block cache, as a node's would be
		if err := read(); err != nil {
			b.Fatal(err)
		}
	}
	var times []time.Duration
	for b.Loop() {
		for range readsPerIteration() {
			start := time.Now()
			if err := read(); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
	}
	reportLatency(b, times)
	b.ReportMetric(float64(rawRecords()), "records")
}

// readsPerIteration is how many reads one iteration of a read benchmark
// times.
func readsPerIteration() int {
	if testing.Short() {
		return 200
	}
	return 2000
}

// reportLatency reports the median and 99th percentile of times in
// microseconds.
func reportLatency(b *testing.B, times []time.Duration) {
	b.ReportMetric(measure.Us(measure.Quantile(times, 0.50)), "p50-us")
	b.ReportMetric(measure.Us(measure.Quantile(times, 0.99)), "p99-us")
}

// BenchmarkBadgerFootprint measures the disk bytes per record of a closed
// Badger store holding 1,000,000 (20,000 with -short) records of
// postKeepBytes, the bytes a post keeps: the limit of node/bench
// BenchmarkFootprint's bytes per message.
func BenchmarkBadgerFootprint(b *testing.B) {
	dir := rawFixture(b)
	var size int64
	for b.Loop() {
		var err error
		if size, err = measure.DirSize(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/float64(rawRecords()), "disk-B/record")
	b.ReportMetric(float64(rawRecords()), "records")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rawStore.dir != "" {
		os.RemoveAll(rawStore.dir)
	}
	os.Exit(code)
}
