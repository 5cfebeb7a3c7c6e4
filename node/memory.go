package node

import (
	"fmt"

	"github.com/horenso/horenso/storage"
)

// DefaultMemoryLimit is MemoryConfig.Limit's default: 200 MiB.
const DefaultMemoryLimit = 200 << 20

// minMemoryLimit is the least MemoryConfig.Limit New accepts: below it
// the shares of the budget are too small for Badger to work with.
const minMemoryLimit = 64 << 20

// wideL0Limit is the least MemoryConfig.Limit at which the store gathers 10
// flushed memtables before compacting them, not 5: 5–18% less CPU a post
// into a store of a million messages, and 24–61 MB more RSS for a node
// taking posts flat out, which the default 200 MiB had no room for
// (docs/PERFORMANCE.md, "Ten level 0 tables"). Measured again once the
// store released Badger's arenas, 10 at the default limit cost no more
// memory, but each post more CPU, in every pair (docs/PERFORMANCE.md,
// "Ten million messages measured again").
const wideL0Limit = 400 << 20

// MemoryConfig bounds the node's memory and sizes the store's (Badger's)
// caches and memtables. Every size left zero is derived from Limit (see
// Budget); docs/STORAGE.md, "Memory", says what each costs.
type MemoryConfig struct {
	// Limit is the resident set size the node process should stay
	// under. It is split by Budget: a share for the Go runtime (which
	// `horenso run` passes to runtime/debug.SetMemoryLimit, so that the
	// garbage collector works harder as the heap nears it), a share for
	// the store's memory-mapped files, which the store pages out above
	// it, and Badger's caches and memtables within the Go share. Default:
	// DefaultMemoryLimit (200 MiB). Negative: no bound; Badger's sizes
	// are then storage's defaults, and the mapped files are not watched.
	Limit int64
	// BlockCache is Badger's cache of decompressed table blocks, which
	// reads use. Default: Limit/12 (16 MiB at 200 MiB).
	BlockCache int64
	// IndexCache is Badger's cache of table indexes and Bloom filters,
	// which Badger v4 uses only for encrypted tables (the store's are
	// not; docs/STORAGE.md, "Memory"). Default: Limit/12. Negative: no
	// cache.
	IndexCache int64
	// MemTable is the size of one Badger memtable; one store update may
	// write about 15% of it. Default: 8 MiB, or Limit/25 if more.
	MemTable int64
	// MemTables is how many memtables Badger keeps, one taking writes.
	// Default: 2.
	MemTables int
	// Compactors is how many goroutines compact the store's levels.
	// Default: 2, the least Badger takes.
	Compactors int
	// ValueLogFile is the size of one Badger value log file. Default:
	// 64 MiB.
	ValueLogFile int64
	// ValueThreshold: records of this many bytes or more go to the value
	// log, where a store update counts only their pointers against its
	// limit (15% of a memtable). Default: a quarter of that limit, at
	// most 1 MiB: every record but a large room's full control snapshot
	// stays in the LSM tree.
	ValueThreshold int64
	// Table is the size of the store's table files; a compaction holds 2
	// to 6 times it in memory per table it builds. Default: 1 MiB.
	Table int64
	// TableSizeMultiplier makes each level's tables this many times
	// larger than the level above's (Badger's default is 2; then what a
	// compaction holds grows with the store). Default: 1.
	TableSizeMultiplier int
	// L0Tables is how many flushed memtables the store gathers before it
	// compacts them into the level below; writes stall at 10 more. More
	// cost less CPU per write into a large store and more memory
	// (docs/STORAGE.md, "Memory"). Default: 10 under a Limit of
	// wideL0Limit or more, else 5 (Badger's).
	L0Tables int
	// LevelSizeMultiplier is how many times larger each level of the
	// store's tree may grow than the one above it: fewer times cost less
	// CPU per write into a large store, and add levels for reads to look
	// in (docs/STORAGE.md, "Memory"). Default: 5 (Badger's is 10).
	LevelSizeMultiplier int
}

// Budget is how MemoryConfig.Limit is split.
type Budget struct {
	// Limit is MemoryConfig.Limit; 0 if there is none.
	Limit int64
	// Go is the Go runtime's memory limit (runtime/debug.SetMemoryLimit):
	// 55% of Limit; 0 if there is no limit. The limit is soft: a busy
	// node's live heap passes it for moments (Badger's compactions build
	// tables in memory), and the rest of the time the garbage collector
	// keeps the heap near it; at 60% a posting node's RSS averaged 10 MB
	// more for the same posts/s (docs/PERFORMANCE.md, issue 22, night).
	Go int64
	// Mapped bounds the resident pages of the process's file mappings,
	// the store's table files and write-ahead logs above all: 20% of
	// Limit; 0 if there is no limit. The store pages the program's own
	// code out with its tables, which keeps 9–25 MB of it resident where
	// 36 MB stayed, so the share could shrink from 30% by what that
	// saved (docs/PERFORMANCE.md, "The program's code paged out"). The
	// rest, 25%, is slack for the moments the heap passes its limit and
	// for what the runtime has freed but not yet returned.
	Mapped int64
	// The store's sizes, each MemoryConfig's or derived from Limit.
	BlockCache, IndexCache, MemTable int64
	MemTables, Compactors            int
	ValueLogFile, ValueThreshold     int64
	Table                            int64
	TableSizeMultiplier, L0Tables    int
	LevelSizeMultiplier              int
}

// Budget returns how c splits the node's memory, its defaults filled in.
// It fails with ErrInvalid for a limit too small to split.
func (c MemoryConfig) Budget() (Budget, error) {
	b := Budget{BlockCache: c.BlockCache, IndexCache: c.IndexCache, MemTable: c.MemTable, MemTables: c.MemTables,
		Compactors: c.Compactors, ValueLogFile: c.ValueLogFile, ValueThreshold: c.ValueThreshold,
		Table: c.Table, TableSizeMultiplier: c.TableSizeMultiplier, L0Tables: c.L0Tables,
		LevelSizeMultiplier: c.LevelSizeMultiplier}
	limit := c.Limit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	if limit < 0 {
		return b, nil // storage's defaults
	}
	if limit < minMemoryLimit {
		return Budget{}, fmt.Errorf("memory limit %d MiB: %w: the least is %d MiB", limit>>20, ErrInvalid, minMemoryLimit>>20)
	}
	b.Limit, b.Go, b.Mapped = limit, limit*55/100, limit/5
	if b.BlockCache == 0 {
		b.BlockCache = limit / 12
	}
	if b.IndexCache == 0 {
		b.IndexCache = limit / 12
	}
	if b.MemTable == 0 {
		b.MemTable = max(8<<20, limit/25)
	}
	if b.L0Tables == 0 && limit >= wideL0Limit {
		b.L0Tables = 10
	}
	return b, nil
}

// storeOptions are the storage options of b's sizes.
func (b Budget) storeOptions() storage.Options {
	return storage.Options{CacheBytes: b.BlockCache, IndexCacheBytes: b.IndexCache, MemTableBytes: b.MemTable,
		MemTables: b.MemTables, Compactors: b.Compactors, ValueLogFileBytes: b.ValueLogFile,
		ValueThreshold: b.ValueThreshold, MappedBytes: b.Mapped, TableBytes: b.Table, TableSizeMultiplier: b.TableSizeMultiplier,
		L0Tables: b.L0Tables, LevelSizeMultiplier: b.LevelSizeMultiplier}
}
