package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// residentMapped returns how many bytes of the process's file mappings
// are resident (RssFile and RssShmem of /proc/self/status): the store's
// tables and memtable files, the search index's, and the program's own
// code.
func residentMapped() (int64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read resident mappings: %w", err)
	}
	var kB int64
	found := false
	for line := range bytes.Lines(raw) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok || (k != "RssFile" && k != "RssShmem") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read resident mappings: %s: %w", k, err)
		}
		kB += n
		found = true
	}
	if !found {
		return 0, errors.New("read resident mappings: no RssFile in /proc/self/status")
	}
	return kB << 10, nil
}

// pageOutTables asks the kernel to page out the mappings of the table
// files (.sst) and value log files (.vlog: large values, which Badger
// writes through their mappings too) of the store in dir, and of every
// file of others, or below a directory of others (madvise MADV_PAGEOUT,
// Linux 5.4):
// their pages leave the process's resident set, and are read again from
// the page cache or the disk when used. It spares each table's index and
// Bloom filter, the end of the file (tableIndexStart): Badger reads them
// in place, through the mapping, on every point read (its index cache is
// only for encrypted tables), so paging them out makes each read fault
// them back in, every level of the tree over (BenchmarkPostGrownStore,
// docs/PERFORMANCE.md). indexStart remembers where each table's index
// starts, by path (tables never change once written); pageOutTables
// drops the paths it no longer finds.
//
// It returns how many mappings it advised. MADV_PAGEOUT is only advice,
// safe on any mapping: should Badger unmap a table, and something else be
// mapped at its address, between the read of /proc/self/maps and the
// call, the worst outcome is pages paged out that will be read again.
func pageOutTables(dir string, others []string, indexStart map[string]int64) (int, error) {
	dir, err := realPath(dir)
	if err != nil {
		return 0, fmt.Errorf("page out tables: %w", err)
	}
	var named []string // others, as /proc/self/maps names them
	for _, o := range others {
		if o, err := realPath(o); err == nil { // one not made yet has nothing mapped
			named = append(named, o)
		}
	}
	isOther := func(path string) bool {
		return slices.ContainsFunc(named, func(o string) bool {
			return path == o || strings.HasPrefix(path, o+string(filepath.Separator))
		})
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("page out tables: %w", err)
	}
	defer f.Close()
	n := 0
	seen := map[string]bool{}
	page := uint64(os.Getpagesize())
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		path := fields[5]
		inDir := filepath.Dir(path) == dir
		table := inDir && strings.HasSuffix(path, ".sst")
		vlog := inDir && strings.HasSuffix(path, ".vlog")
		if !table && !vlog && !isOther(path) {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(fields[2], 16, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || end <= start {
			continue
		}
		if table {
			seen[path] = true
			at, ok := indexStart[path]
			if !ok {
				if at, err = tableIndexStart(path); err != nil {
					continue // being written, or deleted since: next time
				}
				indexStart[path] = at
			}
			// The mapping covers the file from off; keep [at, end of file).
			if keep := uint64(at) / page * page; keep <= off {
				continue
			} else if start+keep-off < end {
				end = start + keep - off
			}
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_PAGEOUT)
		switch errno {
		case 0:
			n++
		case unix.ENOMEM: // unmapped since: the file was deleted
		default:
			return n, fmt.Errorf("page out tables: madvise %s: %w", path, errno)
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("page out tables: read /proc/self/maps: %w", err)
	}
	for path := range indexStart {
		if !seen[path] {
			delete(indexStart, path)
		}
	}
	return n, nil
}

// realPath returns path (a directory or a file) as /proc/self/maps names it
// and the files in it: absolute, symbolic links resolved.
func realPath(path string) (string, error) {
	path, err := filepath.Abs(path)
	if err == nil {
		path, err = filepath.EvalSymlinks(path)
	}
	return path, err
}

// tableIndexStart returns where the index (block offsets and Bloom
// filter) of the Badger table file at path starts. A table ends with its
// index, the index's length (4 bytes), a checksum of the index, and the
// checksum's length (4 bytes), both lengths big-endian (badger/v4
// table.(*Table).initIndex).
func tableIndexStart(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read table footer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read table footer: %w", err)
	}
	var b [4]byte
	pos := st.Size() - 4
	if _, err := f.ReadAt(b[:], pos); err != nil {
		return 0, fmt.Errorf("read table footer %s: %w", path, err)
	}
	pos -= int64(binary.BigEndian.Uint32(b[:])) + 4
	if pos < 0 {
		return 0, fmt.Errorf("read table footer %s: checksum length past the start", path)
	}
	if _, err := f.ReadAt(b[:], pos); err != nil {
		return 0, fmt.Errorf("read table footer %s: %w", path, err)
	}
	pos -= int64(binary.BigEndian.Uint32(b[:]))
	if pos < 0 {
		return 0, fmt.Errorf("read table footer %s: index length past the start", path)
	}
	return pos, nil
}
