package storage

import (
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Badger's memory, as a chat node uses it (docs/STORAGE.md, "Memory"):
//
//   - Each memtable is an arena of about 1.3 × MemTableBytes on the Go
//     heap, plus a write-ahead file of 2 × MemTableBytes mapped into
//     memory, of which the written part stays resident until the memtable
//     is flushed. MemTables of them: one taking writes, the rest waiting.
//   - The block cache (CacheBytes) holds decompressed blocks (of
//     tableBlockBytes). The index cache (IndexCacheBytes) serves only
//     encrypted tables, which the node's are not: Badger v4 reads an
//     unencrypted table's block index and Bloom filter in place, from its
//     mapping, on every point read (the store's page-outs keep them resident).
//   - Table files (.sst) are memory-mapped, and Badger writes every new
//     table (each flush and compaction) through its mapping: every page
//     it wrote stays resident, counted in the process's RSS, until the
//     table is deleted or the kernel reclaims it. On a machine with free
//     memory the kernel never does, so the resident set grows with the
//     store. MappedBytes bounds it (trimMapped).
//   - A memtable's flush builds one table of the whole memtable in an
//     arena that starts at 2 × TableBytes (1 MiB) and doubles (1 + 2 +
//     4 + 8 + 16 MiB for an 8 MiB memtable), holding every block raw and
//     compressed. Badger would pool the arenas at the size they grew to,
//     for compactions to reuse; the store releases them instead
//     (arenas.go). Before it did, smaller memtables saved memory (a
//     posting node's heap held 101 MB of arenas at 8 MiB, 66 MB at 6 MiB,
//     whose blocks fit in 15 MiB; its RSS over the second half of 10
//     minutes of posting averaged 220 MB against 205), but they flush,
//     and compact, more often: into a store of 1,000,000 messages a post cost 50% more
//     CPU at 6 MiB, and at 4 MiB the posts/s at 64 clients were 6% fewer,
//     the catch-up 15% slower and a fan-out's CPU per message received
//     12% higher (docs/PERFORMANCE.md, "Smaller memtables, measured and
//     not kept", and "6 MiB memtables").
//   - One transaction holds 15% of a memtable (1.26 MB at 8 MiB),
//     counting only the pointers of the values it sends to the value
//     log: values of ValueThreshold bytes or more, by default a quarter
//     of a transaction. The node's records are at most an event's 64
//     KiB, but a room's full control snapshot grows with its members
//     (745 KB for 5,000 with their names, added one at a time): at a
//     threshold of a whole transaction, one just under it, with the rest
//     of its member event's records, could be refused; at a quarter, no
//     update is too big for a value's sake (TestLargeValuesGoToValueLog).
//   - A compaction (and a memtable's flush) builds each table it writes
//     in memory, in an arena that grows by doubling: 2 × the table size
//     to start, then 2, 4, 8 … times more, 2 to 6 times the table's size
//     in all. Several are built at once (up to 5 ranges of a compaction
//     side by side, and up to 8 tables per compaction being written out),
//     and Badger would keep up to 8 of those arenas, at the size they grew
//     to, for the next tables (the store releases them: arenas.go). With
//     Badger's default table sizes (2 MiB at
//     the base level, twice as large at each level below) the arenas grow
//     as the store deepens: a posting node's heap held 138 MB of them
//     after 3 minutes (BenchmarkPostingRSS heap profile, docs/PERFORMANCE.md).
//     TableBytes at every level (TableSizeMultiplier 1, as RocksDB's
//     default) keeps them small and the same size however large the
//     store grows, at the cost of more, smaller table files. A table's
//     size counts its compressed blocks, and the arena holds them both
//     raw and compressed: with ZSTD about 5 times the table's size, so
//     1 MiB tables grow arenas of 6 or 14 MiB (2 + 4 + 8). While Badger
//     pooled them, the arenas of compactions and the pool were 50–100 MB
//     of a posting node's heap at 1,000 posts/s, and 512 KiB tables
//     halved that (docs/PERFORMANCE.md, issue 22, night). Since the store
//     releases them, 1 MiB tables cost a posting node no more memory, and
//     each table has fixed costs that 512 KiB paid twice as often: a
//     3 MiB index builder of Badger's (fbs.NewBuilder in buildIndex)
//     whatever the table's size, a file, a mapping for the page-outs to
//     find. At 1 MiB a partnered node used 7% less CPU for as many posts,
//     and a post into a store of a million messages 9–13% less
//     (docs/PERFORMANCE.md, "Tables of 1 MiB again").

// memoryDefaults fills in the zero memory options with their defaults.
func (opt *Options) memoryDefaults() {
	if opt.CacheBytes <= 0 {
		opt.CacheBytes = 16 << 20
	}
	if opt.MemTableBytes <= 0 {
		opt.MemTableBytes = 8 << 20
	}
	if opt.IndexCacheBytes == 0 {
		opt.IndexCacheBytes = 16 << 20
	}
	if opt.MemTables <= 0 {
		opt.MemTables = 2
	}
	if opt.Compactors <= 0 {
		opt.Compactors = 2
	}
	opt.Compactors = max(opt.Compactors, 2) // Badger refuses fewer
	if opt.ValueLogFileBytes <= 0 {
		opt.ValueLogFileBytes = 64 << 20
	}
	if opt.TableBytes <= 0 {
		opt.TableBytes = 1 << 20
	}
	if opt.TableSizeMultiplier <= 0 {
		opt.TableSizeMultiplier = 1
	}
	if opt.L0Tables <= 0 {
		opt.L0Tables = 5
	}
	if opt.LevelSizeMultiplier <= 0 {
		opt.LevelSizeMultiplier = 5
	}
	if opt.ValueThreshold <= 0 {
		opt.ValueThreshold = min(1<<20, opt.MemTableBytes*15/100/4)
	}
}

// badgerOptions are the Badger options of a store in dir; opt has its
// defaults filled in. Every commit is synced. Conflict detection is off:
// the store's single writer (or Open, before it starts) is the only one
// to write, so no two transactions can conflict, and Badger would
// otherwise keep the keys each commit read.
//
// Level 0 gathers opt.L0Tables flushed memtables before a compaction merges
// them into the level below, and writes stall at 10 more (Badger's 5 and
// 15 by default). A post's keys are spread over the whole key space (its
// event ID, its room's records), so that compaction rewrites nearly all of
// the level below however few tables it merges: at 10, half as often. Into
// a store of 1,000,000 messages a post then cost 5–18% less CPU, but a
// posting node's RSS was 24–61 MB higher at the end of 2 minutes
// (docs/PERFORMANCE.md, "Ten level 0 tables"), so the node asks for 10
// only under a memory limit with room for it (node.MemoryConfig).
//
// Each level below level 0 may grow to opt.LevelSizeMultiplier times the
// one above it (Badger's default is 10). Compacting a table down rewrites
// the tables of the next level its keys fall in, about the multiplier's
// worth of bytes for each byte moved. A store of a million messages (300
// MB) then has four levels below level 0 where it had three: at 5, Badger's
// compactions wrote 4,293 and 4,513 bytes per post into that store
// against 5,635 and 5,166 at 10, and a post cost 6–16% less CPU; into a
// store growing from empty to 280 MB they wrote as much or 16% more, and a
// post cost a few percent more (docs/PERFORMANCE.md, "Levels five times
// larger, not ten"). With Badger's 7 levels and 10 MiB base level, the
// tree holds about 30 GB (some 85 million messages) before its first
// level must grow past 10 MiB, and each compaction of level 0 with it; a
// larger multiplier suits a store beyond that.
func badgerOptions(dir string, opt Options) badger.Options {
	o := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{opt.Logger}).
		WithSyncWrites(true).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockSize(tableBlockBytes).
		WithBlockCacheSize(opt.CacheBytes).
		WithMemTableSize(opt.MemTableBytes).
		WithNumMemtables(opt.MemTables).
		WithNumCompactors(opt.Compactors).
		WithValueLogFileSize(opt.ValueLogFileBytes).
		WithBaseTableSize(opt.TableBytes).
		WithValueThreshold(opt.ValueThreshold).
		WithNumLevelZeroTables(opt.L0Tables).
		WithNumLevelZeroTablesStall(opt.L0Tables + 10).
		WithLevelSizeMultiplier(opt.LevelSizeMultiplier)
	o.TableSizeMultiplier = opt.TableSizeMultiplier // no With method
	if opt.IndexCacheBytes > 0 {
		o = o.WithIndexCacheSize(opt.IndexCacheBytes)
	}
	return o
}

// Tables are compressed with ZSTD (level 1) in blocks of tableBlockBytes
// (Badger's default: Snappy, 4 KiB). A chat store is mostly event IDs,
// signatures and text: larger blocks give the compressor more of the
// room's repeated IDs and authors to work with. Measured on 20,000 stored
// messages (docs/PERFORMANCE.md, "Disk bytes per message"), the table
// bytes per message were 670 with Snappy in 4 KiB blocks, 630 with ZSTD
// in 4 KiB, 606 with Snappy in 16 KiB, 573 with ZSTD in 8 KiB, 545 in
// 16 KiB, 531 in 32 KiB and 524 in 64 KiB; ZSTD levels 1, 3 and 7 made
// the same bytes. 16 KiB is where larger blocks stop paying: a point
// read decompresses a whole block the block cache does not hold, and
// the newest 50 messages of a room are about 13 KiB of timeline records.
// Badger records each table's compression in its manifest, so tables
// written with the former options are read as they are and rewritten
// with these by compaction: no migration.
const tableBlockBytes = 16 << 10

// trimEvery is how often the store checks its mapped pages against
// Options.MappedBytes. At 5 s, a posting node at ~1,000 posts/s had 47
// MB of tables resident between two checks; at 1 s, 28 MB
// (BenchmarkPostingRSS). At ~950 posts/s a compaction still wrote tables
// faster than a check a second paged them out: the mapped part reached 77
// MB (84 between the benchmark's samples) against 61 (75) with a check
// every 250 ms, which cost no CPU per post that BenchmarkPostGrownStore
// could tell into a million messages (docs/PERFORMANCE.md, issue 22,
// night). A check reads /proc/self/status; a page-out walks
// /proc/self/maps.
const trimEvery = 250 * time.Millisecond

// overWarnAfter is how long the mapped pages must stay above the share,
// page-outs notwithstanding, before trimMapped warns. A busy node's
// compactions write tables through their mappings faster than a page-out
// can drop them, for a few seconds at a time: at 1,267 posts/s one check
// found 68 MiB against a 60 MiB share with 5 MiB of table indexes
// (BenchmarkPostingRSS, 10 minutes), which no larger limit was needed
// for. What must stay resident (the table indexes, the memtables'
// write-ahead files, the part of the program's code in use) stays above
// it for good.
const overWarnAfter = 10 * time.Second

// programPageOutEvery is how often, at most, trimMapped pages out the
// mappings of the program's executable (Options.PageOutProgram). The
// kernel maps a program's code and read-only data from its file, and
// keeps what it mapped resident: the node's 63 MB binary (libp2p's
// transports, Bleve, the S3 client) had 33 MB of it resident after its
// start and 36 MB after two minutes of posting, most of it code that ran
// once (package initialization) or was mapped beside code that ran (a
// fault maps up to 64 KiB around the page it reads). Paged out, what the
// node keeps running comes back at its next fault, from the page cache:
// 9–25 MB resident under posting (docs/PERFORMANCE.md, "The program's
// code paged out"). Not at every check: each page-out makes the code in
// use fault back in, and a test process runs many nodes, each trimming
// the same executable.
const programPageOutEvery = 10 * time.Second

// mappedShares is the sum of Options.MappedBytes of the stores open in
// this process that watch their mapped pages. What trimMapped reads is
// the process's resident mapped pages, not one store's, so it compares
// them with this sum: a process of several nodes (the tests and
// benchmarks of node/nodetest and node/bench, which run up to ten)
// holds the tables of each, and each node's share alone would have every
// store page out its tables at every check, its reads faulting them back
// in, where each node in a process of its own would not (in a catch-up of
// two nodes, the page-outs and the reads of paged-out blocks took 0.9 s
// of 14 s of CPU: docs/PERFORMANCE.md, "Several stores in one process").
// A process of one node, as `horenso run`, is bounded by that node's
// share.
var mappedShares atomic.Int64

// trimMapped, until stop is closed, checks every trimEvery how much of the
// process's file mappings is resident, and above mappedShares (the store's
// Options.MappedBytes, in a process of one store) asks
// the kernel to page out the store's table files: their data blocks, and
// the files of Options.PageOutDirs (the search index's); and, with
// Options.PageOutProgram, at most every programPageOutEvery, the
// program's executable (pager).
// Pages read again afterwards come back from the page cache or the disk:
// the block cache keeps the blocks reads use most. The tables' indexes and
// Bloom filters stay resident: every point read uses them in place, and
// paged out they made each post into a store of 10,000,000 messages fault
// two of them back from the disk and cost two to three times the CPU
// (docs/PERFORMANCE.md, "A store of ten million messages"). It pages out
// at every check that finds the mapped pages above the share, even when
// the indexes alone keep it there: waiting for them to grow a quarter of
// the share above what the last page-out left cost more CPU per post in
// that store, not less (0.90 and 1.01 ms against 0.37–0.78). When they
// (with the program's code in use) need more than MappedBytes, the RSS
// goes above the limit by the difference; trimMapped says so in the log, with the
// figures, once overWarn checks in a row (overWarnAfter) found the pages
// above the share after paging out. Run by Open when MappedBytes > 0;
// Close stops it.
func (s *Store) trimMapped(dir string, others []string, program string, overWarn int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	pages := newPager(dir, others, program)
	var programAt time.Time // when the program's mappings were last paged out
	var warned int64        // the resident bytes last said to be over the limit
	over := 0               // checks in a row above the limit after a page-out
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		resident, err := residentMapped()
		if err != nil {
			s.log.Warn("read mapped memory; not trimming it", "err", err)
			return
		}
		s.stats.mappedChecks.Add(1)
		limit := mappedShares.Load()
		if resident <= limit {
			over = 0
			continue
		}
		withProgram := program != "" && time.Since(programAt) >= programPageOutEvery
		if withProgram {
			programAt = time.Now()
		}
		n, err := pages.pageOut(withProgram)
		if err != nil {
			s.log.Warn("page out table files", "err", err)
			continue
		}
		s.stats.trims.Add(1)
		s.log.Debug("paged out table files", "resident_bytes", resident, "limit_bytes", limit, "mappings", n)
		if resident, err = residentMapped(); err != nil || resident <= limit {
			over = 0
			continue
		}
		s.stats.overMapped.Add(1)
		if over++; over >= overWarn && resident > warned+warned/4 {
			warned = resident
			var index int64
			for _, t := range s.db.Tables() {
				index += int64(t.IndexSz)
			}
			s.log.Warn("mapped files stay resident above the memory limit's share, the store's tables paged out: raise the memory limit",
				"resident_mapped_mib", resident>>20, "share_mib", limit>>20, "table_indexes_mib", index>>20,
				"seconds", (time.Duration(over) * trimEvery).Seconds())
		}
	}
}
