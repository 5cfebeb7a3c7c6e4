package storage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// pageOutTables asks the kernel to page out every mapping of a table file
// (.sst) of the store in dir (madvise MADV_PAGEOUT, Linux 5.4): their
// pages leave the process's resident set, and are read again from the
// page cache or the disk when used. It returns how many mappings it
// advised. MADV_PAGEOUT is only advice, safe on any mapping: should
// Badger unmap a table, and something else be mapped at its address,
// between the read of /proc/self/maps and the call, the worst outcome is
// pages paged out that will be read again.
func pageOutTables(dir string) (int, error) {
	dir, err := filepath.Abs(dir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return 0, fmt.Errorf("page out tables: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("page out tables: %w", err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || filepath.Dir(fields[5]) != dir || !strings.HasSuffix(fields[5], ".sst") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_PAGEOUT)
		switch errno {
		case 0:
			n++
		case unix.ENOMEM: // unmapped since: the table was deleted
		default:
			return n, fmt.Errorf("page out tables: madvise %s: %w", fields[5], errno)
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("page out tables: read /proc/self/maps: %w", err)
	}
	return n, nil
}
