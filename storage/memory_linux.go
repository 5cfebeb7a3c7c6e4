package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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

// pager pages out, for trimMapped, the mappings of the table files (.sst)
// and value log files (.vlog: large values, which Badger writes through
// their mappings too) of the store in a directory, of every file of
// others or below a directory of others (the search index's), and of the
// program's executable (madvise MADV_PAGEOUT, Linux 5.4): their pages
// leave the process's resident set, and are read again from the page
// cache or the disk when used. It spares each table's index and Bloom
// filter, the end of the file (tableIndexStart): Badger reads them in
// place, through the mapping, on every point read (its index cache is
// only for encrypted tables), so paging them out makes each read fault
// them back in, every level of the tree over (BenchmarkPostGrownStore,
// docs/PERFORMANCE.md).
//
// Reading /proc/self/maps, which lists every table, is what grows with
// the number of table files (about 350 per million messages at 1 MiB):
// the pager remembers the mappings it found, and reads the maps again only
// when the store's directory changed (a table or log file made or
// deleted) or mapsReadEvery page-outs after its last read (for the
// others' files, and a change the directory's time did not show); and it
// parses the numbers only of the lines of files it pages out, into a
// buffer it keeps. A page-out cost 3.5 ms at
// 2,000 tables with the directory unchanged, against 8.5 ms reading the
// maps each time, and 11 against 33 ms at 8,000; with a table made and
// one deleted since, as a compaction does, 7–8 ms at 2,000 as before,
// and 24–27 against 33–36 ms at 8,000 (BenchmarkPageOutCheck). A table
// whose footer it could not read (Badger was still writing it) it tries
// again at the next page-out.
//
// MADV_PAGEOUT is only advice, safe on any mapping: should a file be
// unmapped, and something else be mapped at its address, before the pager
// advises it, the worst outcome is pages paged out that will be read
// again. Badger deletes a table's file as it unmaps it, which changes the
// directory, so the pager reads the maps again at its next page-out; the
// others' files it finds again within mapsReadEvery page-outs.
type pager struct {
	dir     string   // the store's directory
	others  []string // Options.PageOutDirs
	program string   // the program's executable, or ""

	dirTime  time.Time    // the store directory's modification time at the last read
	pageOuts uint64       // page-outs so far
	lastRead uint64       // the page-out that last read /proc/self/maps
	mappings []mapping    // what it found, in address order
	buf      bytes.Buffer // the text of /proc/self/maps, kept for the next read
}

// mapsReadEvery is how many page-outs the pager makes, at most, with what
// it read of /proc/self/maps before: 2 s at trimEvery.
const mapsReadEvery = 8

// mapping is one file mapping the pager pages out.
type mapping struct {
	start, end uintptr // the addresses mapped
	offset     uint64  // in the file, of start
	inode      uint64
	kind       mappedKind
	indexAt    int64 // a table's: where its index starts in the file; -1 until read
	path       string
}

type mappedKind uint8

const (
	mappedTable   mappedKind = iota // its data paged out, its index kept
	mappedWhole                     // a value log's, or a file of others
	mappedProgram                   // the program's executable
)

// newPager returns a pager of the store in dir, others and program (""
// for none).
func newPager(dir string, others []string, program string) *pager {
	return &pager{dir: dir, others: others, program: program}
}

// pageOut advises the kernel to page out every mapping it knows of, the
// program's executable only if withProgram, and returns how many mappings
// it advised.
func (p *pager) pageOut(withProgram bool) (int, error) {
	p.pageOuts++
	read := p.pageOuts == 1 || p.pageOuts-p.lastRead >= mapsReadEvery
	if st, err := os.Stat(p.dir); err != nil {
		return 0, fmt.Errorf("page out tables: %w", err)
	} else if !st.ModTime().Equal(p.dirTime) {
		read, p.dirTime = true, st.ModTime()
	}
	if read {
		if err := p.readMaps(); err != nil {
			return 0, fmt.Errorf("page out tables: %w", err)
		}
		p.lastRead = p.pageOuts
	}
	page := uint64(os.Getpagesize())
	n := 0
	for i := range p.mappings {
		m := &p.mappings[i]
		if m.kind == mappedProgram && !withProgram {
			continue
		}
		if m.kind == mappedTable && m.indexAt < 0 {
			at, err := tableIndexStart(m.path)
			if err != nil {
				continue // being written, or deleted since: next time
			}
			m.indexAt = at
		}
		end := m.end
		if m.kind == mappedTable { // keep [indexAt, end of file)
			keep := uint64(m.indexAt) / page * page
			if keep <= m.offset {
				continue
			}
			end = min(end, m.start+uintptr(keep-m.offset))
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, end-m.start, unix.MADV_PAGEOUT)
		switch errno {
		case 0:
			n++
		case unix.ENOMEM: // unmapped since: the file was deleted
		default:
			return n, fmt.Errorf("page out tables: madvise %s: %w", m.path, errno)
		}
	}
	return n, nil
}

// readMaps reads /proc/self/maps into p.mappings, keeping what it knew of
// each mapping it already had.
func (p *pager) readMaps() error {
	dir, err := realPath(p.dir)
	if err != nil {
		return err
	}
	var others []string // as /proc/self/maps names them
	for _, o := range p.others {
		if o, err := realPath(o); err == nil { // one not made yet has nothing mapped
			others = append(others, o)
		}
	}
	program := ""
	if p.program != "" {
		program, _ = realPath(p.program)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	p.buf.Reset()
	if _, err := p.buf.ReadFrom(f); err != nil {
		return fmt.Errorf("read /proc/self/maps: %w", err)
	}
	old := p.mappings
	p.mappings = nil
	for line := range bytes.Lines(p.buf.Bytes()) {
		fields, path, ok := splitMapsLine(line)
		if !ok {
			continue
		}
		var kind mappedKind
		switch {
		case bytes.HasSuffix(path, []byte(".sst")) && inDir(path, dir):
			kind = mappedTable
		case bytes.HasSuffix(path, []byte(".vlog")) && inDir(path, dir):
			kind = mappedWhole
		case program != "" && string(path) == program:
			kind = mappedProgram
		case slices.ContainsFunc(others, func(o string) bool { return below(path, o) }):
			kind = mappedWhole
		default:
			continue
		}
		m, ok := parseMapping(fields)
		if !ok {
			continue
		}
		// What was known of it: old is in address order too.
		for len(old) > 0 && old[0].start < m.start {
			old = old[1:]
		}
		if len(old) > 0 && old[0].start == m.start && old[0].end == m.end && old[0].offset == m.offset && old[0].inode == m.inode {
			p.mappings = append(p.mappings, old[0])
			continue
		}
		p.mappings = append(p.mappings, mapping{start: m.start, end: m.end, offset: m.offset, inode: m.inode,
			kind: kind, indexAt: -1, path: string(path)})
	}
	return nil
}

// parsedMapping is the numbers of a line of /proc/self/maps.
type parsedMapping struct {
	start, end uintptr
	offset     uint64
	inode      uint64
}

// splitMapsLine splits a line of /proc/self/maps ("address perms offset
// dev inode path") into its first five fields and the path; ok is false
// for a mapping of no file.
func splitMapsLine(line []byte) (field [5][]byte, path []byte, ok bool) {
	rest := bytes.TrimRight(line, "\n")
	for i := range field {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			return field, nil, false
		}
		field[i], rest = rest[:end], rest[end:]
	}
	path = bytes.TrimLeft(rest, " ")
	return field, path, len(path) > 0 && path[0] == '/'
}

// parseMapping parses the address range, offset and inode of a line of
// /proc/self/maps, as splitMapsLine split it.
func parseMapping(field [5][]byte) (m parsedMapping, ok bool) {
	lo, hi, found := bytes.Cut(field[0], []byte("-"))
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	offset, err3 := strconv.ParseUint(string(field[2]), 16, 64)
	inode, err4 := strconv.ParseUint(string(field[4]), 10, 64)
	if !found || err1 != nil || err2 != nil || err3 != nil || err4 != nil || end <= start {
		return m, false
	}
	m.start, m.end, m.offset, m.inode = uintptr(start), uintptr(end), offset, inode
	return m, true
}

// inDir says whether path names a file directly in dir.
func inDir(path []byte, dir string) bool {
	return len(path) > len(dir)+1 && string(path[:len(dir)]) == dir && path[len(dir)] == filepath.Separator &&
		bytes.IndexByte(path[len(dir)+1:], filepath.Separator) < 0
}

// below says whether path is o or a file below the directory o.
func below(path []byte, o string) bool {
	return string(path) == o || len(path) > len(o) && string(path[:len(o)]) == o && path[len(o)] == filepath.Separator
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
// table.(*Table).initIndex). Badger sizes a new table's file, then copies
// the table into its mapping: a table it is still writing ends in zeros,
// and a length of zero is an error, for the caller to try again later.
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
	sumLen := int64(binary.BigEndian.Uint32(b[:]))
	if pos -= sumLen + 4; pos < 0 || sumLen == 0 {
		return 0, fmt.Errorf("read table footer %s: checksum length %d: not written yet, or past the start", path, sumLen)
	}
	if _, err := f.ReadAt(b[:], pos); err != nil {
		return 0, fmt.Errorf("read table footer %s: %w", path, err)
	}
	indexLen := int64(binary.BigEndian.Uint32(b[:]))
	if pos -= indexLen; pos < 0 || indexLen == 0 {
		return 0, fmt.Errorf("read table footer %s: index length %d: not written yet, or past the start", path, indexLen)
	}
	return pos, nil
}
