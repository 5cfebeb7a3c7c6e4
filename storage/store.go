// Package storage keeps a node's rooms, events, messages, tasks, accounts
// and tokens in Badger (github.com/dgraph-io/badger/v4). It is the only
// package that imports Badger. The key layout is the const block in
// keys.go; the schema version and its migrations are in migrate.go.
//
// Reads run in [Store.View] transactions, concurrently. Writes run in
// [Store.Update]: one writer goroutine applies them in the order they
// arrive and commits many of them with a single fsync (group commit), so
// an Update that returns nil is on disk, and concurrent writers share the
// cost of syncing.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrNotFound is returned (wrapped) by reads of a record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by Update and View after Close.
var ErrClosed = errors.New("store closed")

// ErrLocked is returned (wrapped) by Open when another process (or Store)
// has the directory open.
var ErrLocked = errors.New("store in use by another process")

// ErrInvalidOptions is returned (wrapped) by Open for options Badger
// cannot work with; the message says which and why.
var ErrInvalidOptions = errors.New("invalid store options")

// ErrTxnTooBig is returned (wrapped) by an Update whose writes alone are
// more than one Badger transaction can hold (about 15% of
// Options.MemTableBytes). Nothing of it is applied; the Updates committed
// with it are not affected. A caller that can split its work should
// retry it in parts.
var ErrTxnTooBig = errors.New("update too big for one transaction")

// Options tunes a Store. The zero value is the default.
type Options struct {
	// Logger receives Badger's warnings and errors. Default: slog.Default().
	Logger *slog.Logger
	// MaxBatch is how many Update calls share one commit at most. Default: 512.
	MaxBatch int
	// CacheBytes is Badger's block cache size. Default: 16 MiB.
	CacheBytes int64
	// MemTableBytes is the size of one Badger memtable; one Update may
	// write about 15% of it. Default: 8 MiB.
	MemTableBytes int64
	// MinFreeBytes is the free space the store's filesystem must keep:
	// below it, Update fails with ErrDiskFull and reads go on (see
	// space.go). Default: DefaultMinFreeBytes (128 MiB). Negative: not
	// watched.
	MinFreeBytes int64
	// Replica opens the store of a standby (replica.go): Update fails
	// with ErrReplica, and only ApplyIncrement and ApplyFull change it.
	// Default: false.
	Replica bool
	// IndexCacheBytes is Badger's cache of table indexes and Bloom
	// filters, which Badger v4 uses only for encrypted tables (the
	// store's are not: their indexes are read in place from the mapped
	// files; memory.go). Default: 16 MiB. Negative: no cache.
	IndexCacheBytes int64
	// MemTables is how many memtables Badger keeps: one taking writes,
	// the others full and waiting to be written out. Default: 2.
	MemTables int
	// Compactors is how many goroutines compact Badger's levels.
	// Default: 2 (Badger's least).
	Compactors int
	// ValueLogFileBytes is the size of one value log file. Default: 64 MiB.
	ValueLogFileBytes int64
	// TableBytes is the size of the table files Badger's compactions
	// write, at every level (memory.go: a compaction builds each table in
	// memory, 2 to 6 times its size). Default: 1 MiB.
	TableBytes int64
	// TableSizeMultiplier makes each level's tables this many times the
	// size of the level above's, Badger's way (its default is 2): then
	// the deepest level's tables, and what a compaction holds in memory,
	// grow with the store. Default: 1, every level's tables TableBytes.
	TableSizeMultiplier int
	// L0Tables is how many tables Badger's level 0 (its memtables,
	// flushed) gathers before a compaction merges them into the level
	// below, which rewrites the parts of that level their keys fall in:
	// with keys spread over the whole key space, nearly all of it. Writes
	// stall at 10 more. Default: 5, Badger's (memory.go).
	L0Tables int
	// LevelSizeMultiplier is how many times larger each level of Badger's
	// tree may grow than the one above it. A compaction from one level
	// into the next rewrites about this many bytes of the next for each
	// byte it moves down, so fewer times larger costs less a write into a
	// large store, at the price of more levels (and more levels for a
	// read to look in). Default: 5 (Badger's own is 10; memory.go).
	// Less than 2 is refused with ErrInvalidOptions.
	LevelSizeMultiplier int
	// ValueThreshold: values of this many bytes or more go to the value
	// log, smaller ones stay in the LSM tree beside their keys. A
	// transaction counts only the pointers of the values it sends to the
	// log against its limit (15% of MemTableBytes), so no value's size
	// can make an Update too big unless it is just under the threshold;
	// it may not be more than that limit. Default: a quarter of the
	// limit, at most 1 MiB (Badger's most): 307 KiB at the default 8 MiB
	// memtable (memory.go).
	ValueThreshold int64
	// MappedBytes bounds the memory-mapped pages of the store's table
	// files (and every other file the process maps) that stay resident:
	// above it, the store asks the kernel to page its tables out
	// (memory.go). The resident pages are the process's: several stores
	// open in one process share the sum of their MappedBytes
	// (mappedShares). Default: 0, not watched.
	MappedBytes int64
	// PageOutDirs are more directories whose memory-mapped files the
	// store pages out, whole, along with its tables' data blocks when
	// above MappedBytes: the search index's, whose segment files grow
	// with the store (memory.go). Any directory below one counts too.
	// Default: none.
	PageOutDirs []string
	// PageOutProgram makes the store page out the mappings of the
	// program's own executable (its code and read-only data, most of
	// which serve only its start) with its tables too, at most every
	// programPageOutEvery (memory.go). Default: false.
	PageOutProgram bool
	// WriteCacheBytes bounds the writer's cache of the values it reads
	// (writecache.go). Default: 8 MiB. Negative: no cache.
	WriteCacheBytes int64
	// OnCommit, if set, is called by the store's single writer after each
	// Badger commit (successful or not) with how long the commit took, its
	// fsync included, and how many Updates it carried. It must not block:
	// every Update waits for it. Default: nil.
	OnCommit func(took time.Duration, updates int)

	// overWarnChecks is how many checks in a row must find the mapped
	// pages above MappedBytes after a page-out before the store warns
	// (memory.go). Default: overWarnAfter's worth. Set by tests only.
	overWarnChecks int
}

// Store is an open node store. Its methods are safe for concurrent use.
type Store struct {
	db       *badger.DB
	log      *slog.Logger
	maxBatch int
	dirty    bool // the bad-shutdown marker was found on open
	replica  bool // Options.Replica
	space    space

	// markerPending is set when Open found the disk full and so did not
	// set the bad-shutdown marker; the writer sets it with the first
	// write it lets through. Only the writer touches it after Open.
	markerPending bool

	writes   chan *write
	done     chan struct{} // closed when the writer has exited
	stats    stats
	authGen  atomic.Uint64            // see AuthGeneration
	accGen   atomic.Uint64            // see AccountGeneration
	cache    *writeCache              // the writer's (writecache.go); nil if Options.WriteCacheBytes < 0
	onCommit func(time.Duration, int) // Options.OnCommit, or nil
	// trimStop ends trimMapped, which closes trimDone; both nil if
	// Options.MappedBytes is not set. mappedShare is what the store
	// added to mappedShares.
	trimStop, trimDone chan struct{}
	mappedShare        int64
	// arenasDone is closed when the goroutine that releases Badger's
	// pooled table arenas has ended (arenas.go); nil if none runs.
	arenasDone <-chan struct{}

	closeOnce sync.Once
	closeErr  error
	mu        sync.RWMutex // guards closed against Update and View racing Close
	closed    bool
	readers   sync.WaitGroup // Views in progress, which Close waits for
}

type write struct {
	fn    func(*Tx) error
	alone func() error // instead of fn: run on the writer between two commits (see exclusively)
	err   chan error
	tx    *Tx      // the writes fn made, once it has run
	hooks []func() // the Tx's AfterCommit functions
}

// Open opens (creating if needed) the store in dir, runs pending
// migrations, and sets the bad-shutdown marker; [Store.Dirty] reports
// whether the previous process left it set. Badger locks dir: a second Open
// of the same directory fails until the first Store is closed.
//
// On a disk with less free space than opt.MinFreeBytes, Open still opens
// the store for reading, and Update fails with ErrDiskFull until space is
// freed; it fails only if a migration must write.
func Open(dir string, opt Options) (*Store, error) {
	opt = opt.withDefaults()
	if most := min(1<<20, opt.MemTableBytes*15/100); opt.ValueThreshold > most {
		return nil, fmt.Errorf("open store %s: %w: value threshold %d KiB is more than %d KiB (1 MiB, and 15%% of a %d KiB memtable, what one transaction holds)",
			dir, ErrInvalidOptions, opt.ValueThreshold>>10, most>>10, opt.MemTableBytes>>10)
	}
	if opt.LevelSizeMultiplier < 2 {
		// Levels no larger than the one above would never get smaller
		// going up: Badger would find no base level to compact into.
		return nil, fmt.Errorf("open store %s: %w: level size multiplier %d, want 2 or more", dir, ErrInvalidOptions, opt.LevelSizeMultiplier)
	}
	db, err := badger.Open(badgerOptions(dir, opt))
	// Badger v4 wraps its flock error of dir into text only (y.Wrapf),
	// so its message is what tells a directory in use.
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		err = errors.Join(ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, log: opt.Logger, maxBatch: opt.MaxBatch, onCommit: opt.OnCommit,
		writes: make(chan *write, opt.MaxBatch), done: make(chan struct{}),
		space: space{dir: dir, floor: max(opt.MinFreeBytes, 0), log: opt.Logger}, replica: opt.Replica}
	s.arenasDone = drainArenaPoolOrWarn(db, &s.stats.arenasReleased, opt.Logger)
	if opt.WriteCacheBytes > 0 {
		s.cache = newWriteCache(opt.WriteCacheBytes)
	}
	if err := s.start(); err != nil {
		db.Close()
		if s.arenasDone != nil {
			<-s.arenasDone
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	go s.writer()
	if opt.MappedBytes > 0 {
		s.trimStop, s.trimDone = make(chan struct{}), make(chan struct{})
		var program string
		if opt.PageOutProgram {
			exe, err := os.Executable()
			if err != nil {
				s.log.Warn("find the program's executable; not paging it out", "err", err)
			} else {
				program = exe
			}
		}
		s.mappedShare = opt.MappedBytes
		mappedShares.Add(s.mappedShare)
		go s.trimMapped(dir, opt.PageOutDirs, program, opt.overWarnChecks, s.trimStop, s.trimDone)
	}
	return s, nil
}

func (opt Options) withDefaults() Options {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 512
	}
	opt.memoryDefaults()
	if opt.overWarnChecks <= 0 {
		opt.overWarnChecks = int(overWarnAfter / trimEvery)
	}
	if opt.WriteCacheBytes == 0 {
		opt.WriteCacheBytes = 8 << 20
	}
	if opt.MinFreeBytes == 0 {
		opt.MinFreeBytes = DefaultMinFreeBytes
	}
	return opt
}

func (s *Store) start() error {
	if !s.space.ok() {
		// Nothing may be written: read the marker, and set it later.
		return s.db.View(func(txn *badger.Txn) error {
			if v, err := schemaVersion(txn); err != nil || v != SchemaVersion {
				return errors.Join(err, fmt.Errorf("%w: the store needs a migration, which writes", ErrDiskFull))
			}
			_, err := txn.Get([]byte{pDirty})
			switch {
			case err == nil:
				s.dirty = true
			case !errors.Is(err, badger.ErrKeyNotFound):
				return fmt.Errorf("read shutdown marker: %w", err)
			}
			s.markerPending = true
			return nil
		})
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte{pDirty})
		switch {
		case err == nil:
			s.dirty = true
		case !errors.Is(err, badger.ErrKeyNotFound):
			return fmt.Errorf("read shutdown marker: %w", err)
		}
		if err := migrate(txn); err != nil {
			return err
		}
		return txn.Set([]byte{pDirty}, nil)
	})
	if err != nil {
		return err
	}
	if err := cleanupAliases(s.db, s.log); err != nil {
		return err
	}
	if err := slimEvents(s.db, s.log); err != nil {
		return err
	}
	if err := moveEventBodies(s.db, s.log); err != nil {
		return err
	}
	return moveRemovals(s.db, s.log)
}

// Dirty reports whether the store was not closed cleanly by the process
// that had it open before: the node should check its derived state.
func (s *Store) Dirty() bool { return s.dirty }

// Close waits for pending writes and for the Views in progress, clears the
// bad-shutdown marker and closes Badger. Updates and Views after Close
// fail with ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.writes)
		s.mu.Unlock()
		<-s.done
		if s.trimStop != nil {
			close(s.trimStop)
			<-s.trimDone
			mappedShares.Add(-s.mappedShare)
		}
		s.readers.Wait() // Badger's reads on a closed DB crash the process
		var err error
		if !s.markerPending && s.space.ok() { // on a full disk, the next Open checks the store
			err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte{pDirty}) })
		}
		if cerr := s.db.Close(); err == nil {
			err = cerr
		}
		if s.arenasDone != nil {
			<-s.arenasDone
		}
		if err != nil {
			s.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return s.closeErr
}

// View runs fn in a read-only transaction that sees a consistent snapshot
// of the store. After Close it fails with ErrClosed; Close waits for the
// Views in progress, so fn must not wait for Close.
func (s *Store) View(fn func(*Tx) error) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.readers.Add(1)
	s.mu.RUnlock()
	defer s.readers.Done()
	return s.db.View(func(txn *badger.Txn) error { return fn(&Tx{txn: txn}) })
}

// Update runs fn in a read-write transaction and returns once its writes
// are durable (fsynced) or have failed. Updates run one at a time, in the
// order they were submitted, so fn sees every earlier Update's writes; if
// fn returns an error none of its writes are applied and Update returns
// that error. fn must not call Update or block on another Update. If ctx
// ends before fn has run, Update returns ctx.Err() and fn never runs;
// once fn has run, Update waits for the commit.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if s.replica {
		return ErrReplica
	}
	return s.submit(ctx, fn)
}

// submit is Update without the replica check: the replica's own writes
// (replica.go) go through it.
func (s *Store) submit(ctx context.Context, fn func(*Tx) error) error {
	return s.queue(ctx, &write{fn: fn, err: make(chan error, 1)})
}

// exclusively runs fn on the store's writer, with no commit under way,
// and returns its error: for Badger operations that refuse writes while
// they run (DropPrefix), so that Updates wait for them instead of
// failing with badger.ErrBlockedWrites.
func (s *Store) exclusively(ctx context.Context, fn func() error) error {
	return s.queue(ctx, &write{alone: fn, err: make(chan error, 1)})
}

func (s *Store) queue(ctx context.Context, w *write) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.writes <- w:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	return <-w.err
}

// writer applies queued writes in batches: it runs each write's function
// against a shared Badger transaction, keeping only the writes of those
// that succeed, and commits the batch with one fsync.
func (s *Store) writer() {
	defer close(s.done)
	for w := range s.writes {
		if w.alone != nil {
			w.err <- w.alone()
			continue
		}
		batch := []*write{w}
		var alone *write // queued after the batch: run once it is committed
	fill:
		for len(batch) < s.maxBatch {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break fill
				}
				if w.alone != nil {
					alone = w
					break fill
				}
				batch = append(batch, w)
			default:
				break fill
			}
		}
		start := time.Now()
		s.commit(batch)
		s.stats.busy.Add(int64(time.Since(start)))
		if alone != nil {
			alone.err <- alone.alone()
		}
	}
}

func (s *Store) commit(batch []*write) {
	if !s.space.ok() {
		for _, w := range batch {
			w.err <- ErrDiskFull
		}
		return
	}
	if s.markerPending {
		// The first batch after a full-disk Open sets the bad-shutdown
		// marker first, in a commit of its own: in the batch's, it would
		// be lost with a batch that commits nothing.
		err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte{pDirty}, nil) })
		if err != nil {
			for _, w := range batch {
				w.err <- fmt.Errorf("set shutdown marker: %w", err)
			}
			return
		}
		s.markerPending = false
		s.cache.stage([]op{{key: []byte{pDirty}}})
		s.cache.committed(nil)
	}
	maxSize, maxCount := s.db.MaxBatchSize()*8/10, s.db.MaxBatchCount()*8/10
	txn := s.db.NewTransaction(true)
	var inTxn []*write // writes whose changes are in txn
	var size, count int64
	finish := func() {
		var err error
		if len(inTxn) > 0 {
			start := time.Now()
			err = txn.Commit()
			s.cache.committed(err)
			if s.onCommit != nil {
				s.onCommit(time.Since(start), len(inTxn))
			}
			if err != nil {
				err = fmt.Errorf("commit: %w", tooBig(err))
			} else {
				s.stats.commits.Add(1)
				s.stats.written.Add(size)
				if slices.ContainsFunc(inTxn, func(w *write) bool { return w.tx.auth }) {
					s.authGen.Add(1) // now that the writes are visible
				}
				if slices.ContainsFunc(inTxn, func(w *write) bool { return w.tx.accounts }) {
					s.accGen.Add(1)
				}
			}
		} else {
			txn.Discard()
			s.cache.discarded()
		}
		for _, w := range inTxn {
			if err == nil {
				for _, h := range w.hooks {
					h()
				}
			}
			w.err <- err
		}
		inTxn, size, count = inTxn[:0], 0, 0
		txn = s.db.NewTransaction(true)
	}
	for _, w := range batch {
		tx := &Tx{txn: txn, writable: true, cache: s.cache}
		if err := w.fn(tx); err != nil {
			w.err <- err
			continue
		}
		if err := tx.encodeRecords(); err != nil {
			w.err <- err
			continue
		}
		w.hooks, w.tx = tx.hooks, tx
		if len(tx.ops) == 0 {
			for _, h := range w.hooks {
				h()
			}
			w.err <- nil
			continue
		}
		if size+tx.size > maxSize || count+int64(len(tx.ops)) > maxCount {
			// Commit the batch so far first. fn's reads stay valid: the
			// data they saw is exactly what was just committed.
			finish()
		}
		if err := tx.flush(txn); err != nil {
			// Badger counts entries a little differently from tx.size, so
			// this write may not fit beside the earlier ones after all.
			// They are not at fault: write them again into a new
			// transaction, commit them, then try this one alone.
			txn.Discard()
			txn = s.db.NewTransaction(true)
			var again error
			for _, prev := range inTxn {
				if again = prev.tx.flush(txn); again != nil {
					break
				}
			}
			if again != nil {
				txn.Discard()
				txn = s.db.NewTransaction(true)
				s.cache.discarded()
				for _, prev := range inTxn {
					prev.err <- fmt.Errorf("commit: %w", tooBig(again))
				}
				inTxn, size, count = inTxn[:0], 0, 0
			} else {
				finish()
			}
			if err = tx.flush(txn); err != nil {
				// Too big for any transaction: only this write fails.
				txn.Discard()
				txn = s.db.NewTransaction(true)
				s.stats.tooBig.Add(1)
				w.err <- fmt.Errorf("apply write of %d bytes: %w", tx.size, tooBig(err))
				continue
			}
		}
		size += tx.size
		count += int64(len(tx.ops))
		inTxn = append(inTxn, w)
		s.cache.stage(tx.ops)
	}
	finish()
	txn.Discard()
}

// AuthGeneration counts the commits that wrote an account or a token
// record. A cache of what authenticating a token read is valid while the
// generation is the one read before that read's View: the count is raised
// only once such a commit's writes are visible, so a View that missed
// them began before the count changed.
func (s *Store) AuthGeneration() uint64 { return s.authGen.Load() }

// AccountGeneration counts the commits that wrote an account record, as
// AuthGeneration does for accounts and tokens: a cache of what account
// records held is valid while it is the generation read before the View
// that read them. Sessions and tokens, written at every login, do not
// count.
func (s *Store) AccountGeneration() uint64 { return s.accGen.Load() }

// tooBig turns Badger's ErrTxnTooBig into ErrTxnTooBig, keeping it in
// the chain.
func tooBig(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return errors.Join(ErrTxnTooBig, err)
	}
	return err
}

// badgerLogger sends Badger's messages to slog; its chatty info and debug
// output goes to debug, and is not formatted unless debug is on (a
// compaction's lines were 2.8% of a busy node's CPU at the info level).
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug, f, a) }

func (b badgerLogger) log(level slog.Level, f string, a []any) {
	if b.l.Enabled(context.Background(), level) {
		b.l.Log(context.Background(), level, "badger: "+fmt.Sprintf(f, a...))
	}
}

// Stats counts what the store has written since Open.
type Stats struct {
	// Commits counts Badger transactions committed, WrittenBytes the
	// keys and values they wrote (each rewrite of a key in one Update
	// counts once).
	Commits      uint64 `json:"commits"`
	WrittenBytes uint64 `json:"written_bytes"`
	// TooBig counts Updates refused with ErrTxnTooBig.
	TooBig uint64 `json:"too_big"`
	// WriterBusy is the time the store's single writer spent on batches
	// of Updates: running their functions, committing and syncing them.
	// Its rate is the writer's load: near 1 s per second, Updates queue
	// for it, whatever the cores have to spare.
	WriterBusy time.Duration `json:"writer_busy_ns"`
	// PageOuts counts the times the store paged its table files out to
	// keep under Options.MappedBytes.
	PageOuts uint64 `json:"page_outs"`
	// OverMapped counts the checks after which the mapped pages stayed
	// above Options.MappedBytes with the tables' data paged out: for a
	// few seconds while compactions write tables, or for good when what
	// stays resident (the tables' indexes and Bloom filters, the part of
	// the program's code in use) needs more (memory.go, trimMapped).
	OverMapped uint64 `json:"over_mapped"`
	// BlockCacheHits and BlockCacheMisses count the reads of table blocks
	// the block cache (Options.CacheBytes) served, and those it did not:
	// each miss read and decompressed a block from a table file.
	BlockCacheHits   uint64 `json:"block_cache_hits"`
	BlockCacheMisses uint64 `json:"block_cache_misses"`
}

type stats struct {
	commits, tooBig atomic.Uint64
	mappedChecks    atomic.Uint64 // trimMapped's checks of the resident mapped pages
	trims           atomic.Uint64 // trimMapped's page-outs
	overMapped      atomic.Uint64 // checks still above MappedBytes after the page-out
	written         atomic.Int64
	busy            atomic.Int64  // nanoseconds the writer spent on batches
	arenasReleased  atomic.Uint64 // Badger's table arenas released, not pooled (arenas.go)
}

// Stats returns what the store has written since Open. It is safe to
// call at any time.
func (s *Store) Stats() Stats {
	st := Stats{Commits: s.stats.commits.Load(), WrittenBytes: uint64(s.stats.written.Load()), TooBig: s.stats.tooBig.Load(),
		WriterBusy: time.Duration(s.stats.busy.Load()), PageOuts: s.stats.trims.Load(), OverMapped: s.stats.overMapped.Load()}
	if m := s.db.BlockCacheMetrics(); m != nil {
		st.BlockCacheHits, st.BlockCacheMisses = m.Hits(), m.Misses()
	}
	return st
}
