package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"

	"github.com/horenso/horenso/node"
)

// memoryFlags are the flags of `horenso run` that bound the node's memory
// and size the store's caches (node.MemoryConfig, docs/OPERATIONS.md,
// "Memory").
type memoryFlags struct {
	limitMiB, blockCacheMiB, indexCacheMiB, memtableMiB, vlogMiB, valueThresholdKiB int64
	tableKiB                                                                        int64
	memtables, compactors, tableMultiplier, l0Tables, levelMultiplier               int
}

func (f *memoryFlags) add(fs *pflag.FlagSet) {
	fs.Int64Var(&f.limitMiB, "memory-limit-mib", node.DefaultMemoryLimit>>20,
		"MiB of memory (resident set) the node stays under: sets the Go runtime's memory limit and sizes the store's caches (0 or negative: no limit)")
	fs.Int64Var(&f.blockCacheMiB, "store-block-cache-mib", 0, "MiB of the store's block cache (default: --memory-limit-mib/12)")
	fs.Int64Var(&f.indexCacheMiB, "store-index-cache-mib", 0,
		"MiB of the store's index and Bloom filter cache, used only for encrypted tables (default: --memory-limit-mib/12; negative: none)")
	fs.Int64Var(&f.memtableMiB, "store-memtable-mib", 0, "MiB of one store memtable (default: 8, or --memory-limit-mib/25 if more)")
	fs.IntVar(&f.memtables, "store-memtables", 0, "store memtables, one taking writes (default: 2)")
	fs.IntVar(&f.compactors, "store-compactors", 0, "goroutines compacting the store (default: 2, the least)")
	fs.Int64Var(&f.vlogMiB, "store-vlog-file-mib", 0, "MiB of one store value log file (default: 64)")
	fs.Int64Var(&f.tableKiB, "store-table-kib", 0, "KiB of one store table file; compactions hold 2-6 times it in memory per table (default: 1024)")
	fs.IntVar(&f.tableMultiplier, "store-table-multiplier", 0,
		"each store level's tables this many times the size of the level above's (default: 1; Badger's own is 2)")
	fs.IntVar(&f.l0Tables, "store-l0-tables", 0,
		"flushed memtables the store gathers before compacting them into the level below; more cost less CPU and more memory (default: 10 at --memory-limit-mib 400 or more, else 5)")
	fs.IntVar(&f.levelMultiplier, "store-level-multiplier", 0,
		"each store level may grow this many times larger than the level above; fewer cost less CPU per write into a large store and add levels (default: 5; Badger's own is 10)")
	fs.Int64Var(&f.valueThresholdKiB, "store-value-threshold-kib", 0,
		"records of this many KiB or more go to the store's value log (default: a quarter of what one store update may write, 15% of a memtable)")
}

// apply sets cfg from the flags and the Go runtime's memory limit from
// its budget. A GOMEMLIMIT in the environment wins over the budget's.
func (f *memoryFlags) apply(cfg *node.MemoryConfig, log *slog.Logger) error {
	*cfg = node.MemoryConfig{Limit: f.limitMiB << 20, BlockCache: f.blockCacheMiB << 20, IndexCache: f.indexCacheMiB << 20,
		MemTable: f.memtableMiB << 20, MemTables: f.memtables, Compactors: f.compactors, ValueLogFile: f.vlogMiB << 20,
		ValueThreshold: f.valueThresholdKiB << 10, Table: f.tableKiB << 10, TableSizeMultiplier: f.tableMultiplier,
		L0Tables: f.l0Tables, LevelSizeMultiplier: f.levelMultiplier}
	if f.limitMiB == 0 {
		cfg.Limit = -1 // 0 MiB: no limit, as with --min-free-disk
	}
	b, err := cfg.Budget()
	if err != nil {
		return err
	}
	switch {
	case b.Go == 0:
	case os.Getenv("GOMEMLIMIT") != "":
		log.Info("GOMEMLIMIT set: it, not --memory-limit-mib, is the Go runtime's memory limit", "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
	default:
		debug.SetMemoryLimit(b.Go)
	}
	log.Debug("memory budget", "limit", b.Limit, "go", b.Go, "mapped", b.Mapped, "block_cache", b.BlockCache,
		"index_cache", b.IndexCache, "memtable", b.MemTable)
	return nil
}
