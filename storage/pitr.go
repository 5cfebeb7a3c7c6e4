package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// Continuous backups for point-in-time recovery.
//
// Badger gives every commit a version, one more than the last, and keeps
// the versions of a key until a compaction finds a newer one below every
// open read transaction's version (with NumVersionsToKeep 1, the store's
// setting). A Hold is such a read transaction, kept open by the backup
// job from one increment to the next: while it is open, nothing newer
// than its version is compacted away, deletion markers included. So the
// next increment, written from the next Hold, holds every version of
// every key committed between the two, and a restore can stop at any
// version in between, not only at increment boundaries: loading every
// version at most v of a chain (a full copy and the increments after it)
// gives the store exactly as it was after commit v.
//
// The cost: while a Hold is open the versions it protects stay on disk
// and in Badger's conflict tracking, so an increment should follow the
// last one within seconds or minutes, not hours. A Hold does not survive
// the process: after a restart the job starts a new chain with a full
// copy.
//
// Increments are written in Badger's backup format (a little-endian
// uint64 length, then a protobuf pb.KVList, repeated), so Badger's own
// tools and DB.Load read them too.

// badgerBitDelete is the meta bit of a deletion marker in Badger's
// backup format (bitDelete in badger's value.go, which it does not
// export; the format is on disk and stable).
const badgerBitDelete byte = 1 << 0

// A Hold pins the store at one version for a backup (see above). Its
// methods are not safe for concurrent use; Release it before the Store
// is closed.
type Hold struct {
	txn *badger.Txn
}

// Hold opens a read transaction at the store's current version.
func (s *Store) Hold() *Hold {
	return &Hold{txn: s.db.NewTransaction(false)}
}

// Version is the version of the last commit the Hold sees.
func (h *Hold) Version() uint64 { return h.txn.ReadTs() }

// Release ends the Hold; versions it protected may then be compacted.
func (h *Hold) Release() { h.txn.Discard() }

// Version returns the version of the store's last commit: what a Hold
// opened now would see.
func (s *Store) Version() uint64 {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return txn.ReadTs()
}

// WriteSince writes to w every version of every key committed after
// version since and up to h.Version(), deletion markers included. With
// since 0 it writes a full copy instead: the newest version of each live
// key. It returns how many versions it wrote. A Hold that was open at
// since, until h was opened, guarantees nothing in between is missing.
func (h *Hold) WriteSince(w io.Writer, since uint64) (int, error) {
	opt := badger.DefaultIteratorOptions
	opt.AllVersions = since > 0
	opt.SinceTs = since
	it := h.txn.NewIterator(opt)
	defer it.Close()
	bw := bufio.NewWriterSize(w, 1<<20)
	list := &pb.KVList{}
	size, count := 0, 0
	flush := func() error {
		if len(list.Kv) == 0 {
			return nil
		}
		if err := writeKVList(bw, list); err != nil {
			return err
		}
		list.Kv, size = list.Kv[:0], 0
		return nil
	}
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if item.Version() <= since {
			continue
		}
		kv := &pb.KV{Key: item.KeyCopy(nil), Version: item.Version(), ExpiresAt: item.ExpiresAt(),
			UserMeta: []byte{item.UserMeta()}}
		if item.IsDeletedOrExpired() {
			if since == 0 {
				continue // a full copy needs only what is live
			}
			kv.Meta = []byte{badgerBitDelete}
		} else {
			v, err := item.ValueCopy(nil)
			if err != nil {
				return count, fmt.Errorf("back up store since version %d: %w", since, err)
			}
			kv.Value = v
		}
		list.Kv = append(list.Kv, kv)
		count++
		if size += len(kv.Key) + len(kv.Value); size >= 4<<20 {
			if err := flush(); err != nil {
				return count, fmt.Errorf("back up store since version %d: %w", since, err)
			}
		}
	}
	if err := flush(); err != nil {
		return count, fmt.Errorf("back up store since version %d: %w", since, err)
	}
	if err := bw.Flush(); err != nil {
		return count, fmt.Errorf("back up store since version %d: %w", since, err)
	}
	return count, nil
}

func writeKVList(w io.Writer, list *pb.KVList) error {
	b, err := proto.Marshal(list)
	if err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(b))); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// maxKVList bounds one record of a backup file on reading: WriteSince
// writes records of about 4 MiB, plus one value.
const maxKVList = 1 << 30

// RestoreVersions creates a store in dir, which must not exist or be
// empty, from a chain of backup files written by Hold.WriteSince (a full
// copy, then increments in order), keeping only the versions at most
// upTo: the store as it was after that commit. Each element of files is
// opened once, in order, and closed.
func RestoreVersions(dir string, files []func() (io.ReadCloser, error), upTo uint64, opt Options) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore store to version %d: %s is not empty", upTo, dir)
	}
	opt = opt.withDefaults()
	db, err := badger.Open(badgerOptions(dir, opt))
	if err != nil {
		return fmt.Errorf("restore store to version %d: %w", upTo, err)
	}
	if arenasDone := drainArenaPoolOrWarn(db, new(atomic.Uint64), opt.Logger); arenasDone != nil {
		defer func() { <-arenasDone }() // every return below closes db first
	}
	ldr := db.NewKVLoader(16)
	loaded := 0
	for i, open := range files {
		n, err := loadUpTo(ldr, open, upTo)
		if err != nil {
			db.Close()
			return fmt.Errorf("restore store to version %d: file %d of %d: %w", upTo, i+1, len(files), err)
		}
		loaded += n
	}
	if err := ldr.Finish(); err != nil {
		db.Close()
		return fmt.Errorf("restore store to version %d: %w", upTo, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("restore store to version %d: %w", upTo, err)
	}
	opt.Logger.Info("restored store", "dir", dir, "version", upTo, "versions_loaded", loaded)
	// Open once: it runs the migrations a backup of an older schema needs,
	// and proves the result opens.
	s, err := Open(dir, opt)
	if err != nil {
		return fmt.Errorf("restore store to version %d: %w", upTo, err)
	}
	return s.Close()
}

func loadUpTo(ldr *badger.KVLoader, open func() (io.ReadCloser, error), upTo uint64) (int, error) {
	f, err := open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var buf []byte
	n := 0
	for {
		var size uint64
		if err := binary.Read(br, binary.LittleEndian, &size); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if size > maxKVList {
			return n, fmt.Errorf("a record of %d bytes: not a backup file", size)
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		if _, err := io.ReadFull(br, buf[:size]); err != nil {
			return n, fmt.Errorf("truncated backup file: %w", err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf[:size], &list); err != nil {
			return n, err
		}
		for _, kv := range list.Kv {
			if kv.Version > upTo {
				continue
			}
			if err := ldr.Set(kv); err != nil {
				return n, err
			}
			n++
		}
	}
}
