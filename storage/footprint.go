package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// PrefixFootprint is what the live keys of one key prefix hold.
type PrefixFootprint struct {
	Prefix byte
	// Keys counts the live keys of the prefix; KeyBytes and ValueBytes
	// sum their keys (prefix byte included) and values as the store
	// writes them, before Badger's own per-entry bytes and compression.
	Keys, KeyBytes, ValueBytes int64
	// DiskBytes is the size of the table files the prefix's keys and
	// values alone make, written to a scratch Badger with the store's
	// options (0 if Footprint was given no scratch directory).
	DiskBytes int64
}

// Footprint is where the bytes of a store go: the live keys by prefix,
// and Badger's tables.
type Footprint struct {
	Prefixes []PrefixFootprint // by prefix, those with keys only
	// Tables counts the LSM tree's table files; TableBytes is their size
	// on disk, UncompressedBytes their blocks before compression,
	// IndexBytes and BloomBytes the block indexes and Bloom filters
	// among TableBytes.
	Tables                                                int
	TableBytes, UncompressedBytes, IndexBytes, BloomBytes int64
}

// Footprint walks every live key of the store (not the values) and sums
// them by prefix, and adds up Badger's table statistics. With a scratch
// directory, it also copies each prefix's keys and values into a Badger
// of its own there, with the store's options, and measures its table
// files (PrefixFootprint.DiskBytes): what the prefix costs on disk,
// Badger's per-entry bytes and compression included. It reads the whole
// store: for benchmarks and tools, not for a serving path. Memtables not
// yet flushed are counted among the keys but not the tables.
func (s *Store) Footprint(scratch string) (Footprint, error) {
	var f Footprint
	var by [256]PrefixFootprint
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) == 0 {
				continue
			}
			p := &by[k[0]]
			p.Keys++
			p.KeyBytes += int64(len(k))
			p.ValueBytes += item.ValueSize()
		}
		return nil
	})
	if err != nil {
		return Footprint{}, fmt.Errorf("footprint: %w", err)
	}
	for i := range by {
		if by[i].Keys > 0 {
			by[i].Prefix = byte(i)
			if scratch != "" {
				if by[i].DiskBytes, err = s.prefixDisk(scratch, byte(i)); err != nil {
					return Footprint{}, fmt.Errorf("footprint of prefix 0x%02x: %w", i, err)
				}
			}
			f.Prefixes = append(f.Prefixes, by[i])
		}
	}
	for _, t := range s.db.Tables() {
		f.Tables++
		f.TableBytes += int64(t.OnDiskSize)
		f.UncompressedBytes += int64(t.UncompressedSize)
		f.IndexBytes += int64(t.IndexSz)
		f.BloomBytes += int64(t.BloomFilterSize)
	}
	return f, nil
}

// prefixDisk copies the keys of prefix p into a new Badger under
// scratch, closes it (which writes its memtable out as tables) and
// returns the size of its table files.
func (s *Store) prefixDisk(scratch string, p byte) (int64, error) {
	dir, err := os.MkdirTemp(scratch, "prefix-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	o := s.db.Opts()
	o.Dir, o.ValueDir, o.SyncWrites = dir, dir, false
	o.Logger = nil
	db, err := badger.Open(o)
	if err != nil {
		return 0, err
	}
	wb := db.NewWriteBatch()
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := wb.Set(it.Item().KeyCopy(nil), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	} else {
		wb.Cancel()
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	var size int64
	ents, err := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".sst" {
			continue
		}
		info, ierr := e.Info()
		if ierr != nil {
			return 0, ierr
		}
		size += info.Size()
	}
	return size, err
}

// String formats f as a Markdown table, per item of n (messages, say):
// one row per prefix, then the tables' totals.
func (f Footprint) String(n int64) string {
	if n <= 0 {
		n = 1
	}
	var b strings.Builder
	per := func(v int64) float64 { return float64(v) / float64(n) }
	fmt.Fprintf(&b, "| prefix | keys | key B | value B | key+value B per item | disk B per item |\n|---|---|---|---|---|---|\n")
	var keys, kb, vb, db int64
	for _, p := range f.Prefixes {
		keys, kb, vb, db = keys+p.Keys, kb+p.KeyBytes, vb+p.ValueBytes, db+p.DiskBytes
		fmt.Fprintf(&b, "| `0x%02X` | %d | %d | %d | %.1f | %.1f |\n", p.Prefix, p.Keys, p.KeyBytes, p.ValueBytes,
			per(p.KeyBytes+p.ValueBytes), per(p.DiskBytes))
	}
	fmt.Fprintf(&b, "| all | %d | %d | %d | %.1f | %.1f |\n", keys, kb, vb, per(kb+vb), per(db))
	fmt.Fprintf(&b, "\n%d tables: %.1f B per item on disk (their blocks uncompressed: %.1f; their indexes %.1f, Bloom filters %.1f)\n",
		f.Tables, per(f.TableBytes), per(f.UncompressedBytes), per(f.IndexBytes), per(f.BloomBytes))
	return b.String()
}
