package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
)

// ErrDiskFull is returned (wrapped) by Update while the store's
// filesystem has less free space than Options.MinFreeBytes. Nothing of the
// refused write is applied; reads go on, and writes succeed again once
// space is freed.
var ErrDiskFull = errors.New("disk full: free space is below the node's floor")

// Badger writes through memory-mapped files, and a write to a mapped page
// that the filesystem has no block for kills the process (SIGBUS) instead
// of returning an error. So the store stops writing while free space is
// below a floor that leaves room for what Badger writes on its own: the
// memtables it has (see Options.MemTableBytes), flushing them to tables,
// and its manifest.

// DefaultMinFreeBytes is Options.MinFreeBytes's default: room for three
// 16 MiB memtables, their flush and some compaction.
const DefaultMinFreeBytes = 128 << 20

// space watches the free space of the filesystem a store is on. Its
// methods are safe for concurrent use.
type space struct {
	dir   string
	floor int64 // bytes; 0: not watched
	log   *slog.Logger
	free  atomic.Int64 // bytes available to the process at the last check
	full  atomic.Bool  // free was below floor at the last check
}

// ok checks the free space now and reports whether writes may go on. It
// logs when the store runs out of space and when it has room again.
func (s *space) ok() bool {
	if s.floor <= 0 {
		return true
	}
	free, err := freeBytes(s.dir)
	if err != nil {
		// A filesystem that cannot say is not taken for full.
		s.log.Warn("check free disk space", "dir", s.dir, "err", err)
		return !s.full.Load()
	}
	s.free.Store(free)
	full := free < s.floor
	if was := s.full.Swap(full); was != full {
		if full {
			s.log.Error("disk almost full: refusing writes until space is freed; reads go on",
				"dir", s.dir, "free_bytes", free, "floor_bytes", s.floor)
		} else {
			s.log.Warn("disk space is back: writes resume", "dir", s.dir, "free_bytes", free)
		}
	}
	return !full
}

// freeBytes returns the bytes of dir's filesystem that an unprivileged
// process may still use.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Space checks the free bytes of the store's filesystem, and reports them
// and whether they are below the floor, so that writes are refused.
func (s *Store) Space() (free int64, full bool) {
	s.space.ok()
	return s.space.free.Load(), s.space.full.Load()
}
