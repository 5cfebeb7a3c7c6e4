package storage

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPageOutTables: tables Badger wrote through their mappings are
// resident in the process until pageOutTables pages out their data,
// keeping their indexes; the store still reads them afterwards.
func TestPageOutTables(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MinFreeBytes: -1, MemTableBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	val := make([]byte, 4096)
	for u := range 160 { // 160 × 16 × 4 KiB = 10 MiB of incompressible values: several flushes
		if err := s.Update(t.Context(), func(tx *Tx) error {
			for i := range 16 {
				rand.Read(val)
				if err := tx.set(fmt.Appendf(nil, "\xfepage%05d", u*16+i), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for tablesResident(t, dir) < 1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 MiB written, %d bytes of tables resident, want 1 MiB or more", tablesResident(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The indexes' pages, which pageOutTables spares, are where the
	// footers say.
	var indexBytes int64
	for _, tbl := range s.db.Tables() {
		path := filepath.Join(dir, fmt.Sprintf("%06d.sst", tbl.ID))
		at, err := tableIndexStart(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if footer := st.Size() - at - int64(tbl.IndexSz); at <= 0 || footer < 8 || footer > 8+64 {
			t.Fatalf("table %d of %d bytes: index of %d bytes found at %d, leaving %d bytes of footer", tbl.ID, st.Size(), tbl.IndexSz, at, footer)
		}
		indexBytes += int64(tbl.IndexSz)
	}
	before := tablesResident(t, dir)
	pages := newPager(dir, nil, "")
	// Compactions may still be writing tables (through their mappings)
	// as the test measures; the store's check pages out again every
	// trimEvery, and so does the test, a few times.
	var n int
	var after int64
	for range 5 {
		if n, err = pages.pageOut(false); err != nil {
			t.Fatal(err)
		}
		if after = tablesResident(t, dir); after <= before/2 {
			break
		}
		time.Sleep(trimEvery)
	}
	t.Logf("paged out %d mappings: %d KiB of tables resident before, %d after, sparing the indexes (%d KiB)", n, before>>10, after>>10, indexBytes>>10)
	if n == 0 || after > before/2 {
		t.Fatalf("paged out %d mappings: %d bytes of tables resident before, %d after; want half or less", n, before, after)
	}
	if after < indexBytes {
		t.Fatalf("paging out all but the indexes (%d bytes) left %d bytes of %d resident", indexBytes, after, before)
	}
	if err := s.View(func(tx *Tx) error {
		v, err := tx.get(fmt.Appendf(nil, "\xfepage%05d", 7))
		if err == nil && len(v) != len(val) {
			err = fmt.Errorf("read back %d bytes, want %d", len(v), len(val))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if m, err := residentMapped(); err != nil || m <= 0 {
		t.Fatalf("residentMapped() = %d, %v; want some bytes (the test binary's code at least)", m, err)
	}
}

// tablesResident returns the resident bytes of the process's mappings of
// the table files in dir, from /proc/self/smaps.
func tablesResident(t *testing.T, dir string) int64 {
	t.Helper()
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	table := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			table = len(fields) >= 6 && filepath.Dir(fields[5]) == dir && strings.HasSuffix(fields[5], ".sst")
		case table && len(fields) == 3 && fields[0] == "Rss:":
			kB, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kB << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestPageOutOthers: the mapped files below a directory of
// Options.PageOutDirs (the search index's segments) and a file named as
// trimMapped names the program's executable are paged out whole with the
// tables; a file beside the directory, whose name only begins like it, is
// not.
func TestPageOutOthers(t *testing.T) {
	other := filepath.Join(t.TempDir(), "search")
	segment := mapFile(t, 4<<20, filepath.Join(other, "store", "000000000001.zap"))
	named := mapFile(t, 4<<20, filepath.Join(t.TempDir(), "program"))
	beside := mapFile(t, 4<<20, other+"-old", "segment.zap")
	before := []int64{residentOf(t, segment), residentOf(t, named), residentOf(t, beside)}
	n, err := newPager(t.TempDir(), []string{other, filepath.Join(t.TempDir(), "not made")}, named).pageOut(true)
	if err != nil {
		t.Fatal(err)
	}
	after := []int64{residentOf(t, segment), residentOf(t, named), residentOf(t, beside)}
	t.Logf("paged out %d mappings: resident before %v, after %v", n, before, after)
	if n != 2 || slices.ContainsFunc(before, func(b int64) bool { return b < 2<<20 }) ||
		after[0] > before[0]/4 || after[1] > before[1]/4 || after[2] < before[2]*3/4 {
		t.Fatalf("paged out %d mappings: resident before %v, after %v; want 2 mappings, the first two a quarter or less, the third kept", n, before, after)
	}
}

// TestPageOutProgram: with Options.PageOutProgram, a store over its
// mapped share pages the program's executable (here, the test binary)
// out with its tables; without it, the executable stays resident.
func TestPageOutProgram(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, program := range []bool{false, true} {
		t.Run(fmt.Sprintf("PageOutProgram=%v", program), func(t *testing.T) {
			before := residentOf(t, exe)
			s, err := Open(t.TempDir(), Options{MinFreeBytes: -1, MappedBytes: 1 << 20, PageOutProgram: program})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			deadline := time.Now().Add(10 * time.Second)
			for s.Stats().PageOuts < 1 {
				if time.Now().After(deadline) {
					t.Fatal("no page-out within 10 s over the share")
				}
				time.Sleep(trimEvery)
			}
			after := residentOf(t, exe)
			t.Logf("the test binary: %d KiB resident before, %d after", before>>10, after>>10)
			if before < 1<<20 || program && after > before/2 || !program && after < before*3/4 {
				t.Fatalf("the test binary: %d bytes resident before, %d after; want half or less paging it out, three quarters or more not", before, after)
			}
		})
	}
}

// TestPagerRemembers: the pager pages out every table at each page-out;
// it reads /proc/self/maps again only when the store's directory changed
// (a table made) or mapsReadEvery page-outs after its last read, and
// pages out a table Badger was still writing (its footer zeros) once the
// footer is there.
func TestPagerRemembers(t *testing.T) {
	const tables, size = 16, 256 << 10
	dir := t.TempDir()
	page := os.Getpagesize()
	var maps [][]byte
	var paths []string
	add := func(written bool) {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprintf("%06d.sst", len(paths)))
		m := mapFakeTable(t, path, size)
		if !written { // as Badger sizes it, before it copies the table in
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { unix.Munmap(m) })
		for i := 0; i < size-page; i += page {
			pageSink += m[i]
		}
		maps, paths = append(maps, m), append(paths, path)
	}
	for range tables {
		add(true)
	}
	// The pages mapped of table i's data: what /proc/self/smaps says
	// resident of its file, less the index and footer, which stay.
	dataResident := func(i int) int64 {
		t.Helper()
		return max(0, residentOf(t, paths[i])-int64(2*page))
	}
	p := newPager(dir, nil, "")
	pageOut := func() int {
		t.Helper()
		n, err := p.pageOut(false)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pageOut(); n != tables {
		t.Fatalf("first page-out advised %d mappings, want all %d", n, tables)
	}
	for i := range paths {
		if r := dataResident(i); r > 0 {
			t.Fatalf("table %d: %d bytes of data resident after the first page-out", i, r)
		}
	}

	// Nothing changed: the same mappings, without reading the maps, and a
	// page read back into a table paged out again.
	read := p.lastRead
	pageSink += maps[3][page]
	if dataResident(3) == 0 {
		t.Fatal("a page read back is not resident")
	}
	if n := pageOut(); n != tables || p.lastRead != read {
		t.Fatalf("second page-out, the directory unchanged, advised %d of %d mappings and read the maps at page-out %d (last before: %d)", n, tables, p.lastRead, read)
	}
	if r := dataResident(3); r > 0 {
		t.Fatalf("a page read back into a table: %d bytes of data resident after the next page-out", r)
	}

	// A new table, and one still being written, in the directory.
	fresh, writing := len(paths), len(paths)+1
	add(true)
	add(false)
	pageOut()
	if p.lastRead != p.pageOuts {
		t.Fatal("the page-out after tables were made did not read /proc/self/maps")
	}
	if r := dataResident(fresh); r > 0 {
		t.Fatalf("a table made since the last page-out has %d bytes of data resident after the next", r)
	}
	if r := dataResident(writing); r < size/2 {
		t.Fatalf("a table still being written (footer zeros) was paged out: %d bytes resident", r)
	}
	fw, err := os.OpenFile(paths[writing], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	footer := make([]byte, 12)
	binary.BigEndian.PutUint32(footer[0:], uint32(page))
	binary.BigEndian.PutUint32(footer[8:], 4)
	if _, err := fw.WriteAt(footer, size-12); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	// Badger writes the footer through the mapping, which does not change
	// the directory: the pager reads the footer again at each page-out.
	read = p.lastRead
	pageOut()
	if r := dataResident(writing); r > 0 {
		t.Fatalf("a table whose footer was written since has %d bytes of data resident after the next page-out", r)
	}
	for p.pageOuts-read < mapsReadEvery {
		if p.lastRead != read {
			t.Fatalf("page-out %d read the maps, the directory unchanged since page-out %d", p.lastRead, read)
		}
		pageOut()
	}
	if p.lastRead == read {
		t.Fatalf("no read of the maps in %d page-outs", mapsReadEvery)
	}
}

// mapFile writes 4 MiB of random bytes to the file of path's elements,
// maps it until the test ends, reads every page in, and returns its path.
func mapFile(t *testing.T, size int, elem ...string) string {
	t.Helper()
	path := filepath.Join(elem...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	for i := 0; i < len(m); i += os.Getpagesize() { // read every page in
		pageSink += m[i]
	}
	return path
}

// pageSink keeps mapFile's reads from being optimized away.
var pageSink byte

// TestPageOutValueLog: the value log, which Badger writes large values
// into through its mapping, is paged out with the tables; its values read
// back.
func TestPageOutValueLog(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MinFreeBytes: -1, MemTableBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	val := make([]byte, 4<<20)
	rand.Read(val)
	update(t, s, func(tx *Tx) error { return tx.set([]byte("\xfelarge"), val) })
	vlogs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil || len(vlogs) == 0 {
		t.Fatalf("value log files %v, %v", vlogs, err)
	}
	resident := func() (n int64) {
		for _, p := range vlogs {
			n += residentOf(t, p)
		}
		return n
	}
	before := resident()
	n, err := newPager(dir, nil, "").pageOut(false)
	if err != nil {
		t.Fatal(err)
	}
	after := resident()
	t.Logf("paged out %d mappings: %d KiB of the value log resident before, %d after", n, before>>10, after>>10)
	if before < int64(len(val)) || after > before/4 {
		t.Fatalf("%d bytes of the value log resident before the page-out, %d after; want %d or more, then a quarter or less", before, after, len(val))
	}
	view(t, s, func(tx *Tx) error {
		got, err := tx.get([]byte("\xfelarge"))
		if err == nil && !bytes.Equal(got, val) {
			t.Errorf("read back %d bytes, not the %d written", len(got), len(val))
		}
		return err
	})
}

// residentOf returns the resident bytes of the process's mappings of the
// file at path, from /proc/self/smaps.
func residentOf(t *testing.T, path string) int64 {
	t.Helper()
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path
		case in && len(fields) == 3 && fields[0] == "Rss:":
			kB, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kB << 10
		}
	}
	return total
}

// TestTrimMappedKeepsIndexes: a store whose mapped share is smaller than
// what must stay resident (here, the test binary's code alone) pages out
// its tables' data, counts each check that could not get under the share
// (Stats.OverMapped), and, once that lasted overWarnChecks checks in a
// row, says so in the log, once, with the figures, rather than page out
// the indexes every read needs. Fewer checks over the share than that (a
// compaction writing tables faster than they are paged out) are counted,
// not logged.
func TestTrimMappedKeepsIndexes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		overWarn   int
		wantWarned int
	}{
		{"over for longer than overWarnChecks", 2, 1},
		{"not yet over for overWarnChecks", 1 << 30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			var mu sync.Mutex
			log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return logged.Write(p)
			}), &slog.HandlerOptions{Level: slog.LevelWarn}))
			s, err := Open(t.TempDir(), Options{MinFreeBytes: -1, MappedBytes: 1 << 20, Logger: log, overWarnChecks: tc.overWarn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Update(t.Context(), func(tx *Tx) error { return tx.set([]byte("\xfekey"), []byte("value")) }); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for st := s.Stats(); st.PageOuts < 3 || st.OverMapped < 3; st = s.Stats() {
				if time.Now().After(deadline) {
					t.Fatalf("stats %+v after 10 s over the share; want 3 page-outs and 3 checks over it", st)
				}
				time.Sleep(trimEvery)
			}
			mu.Lock()
			defer mu.Unlock()
			n := strings.Count(logged.String(), "raise the memory limit")
			if n != tc.wantWarned || n > 0 && !strings.Contains(logged.String(), "table_indexes_mib=") {
				t.Fatalf("logged %d warnings, want %d with the figures:\n%s", n, tc.wantWarned, logged.String())
			}
		})
	}
}

// writerFunc is an io.Writer of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestMappedSharesAddUp: stores open in one process share the sum of
// their MappedBytes, since the resident mapped pages each one checks are
// the process's. The test maps a file of 128 MiB, which no store pages
// out, so the process has at least that much resident whatever else it
// maps. Four stores with shares of 64 MiB, each below it and together
// well above it, page nothing out; once three are closed, the last one's
// share alone is exceeded, and it pages out. (The margin is what the rest
// of the process maps: under 128 MiB for the first half, any amount for
// the second.) Stores that open one after another page out until the
// last has opened (the sum is smaller until then), so the test counts
// page-outs from a little after that.
func TestMappedSharesAddUp(t *testing.T) {
	const held, share = 128 << 20, 64 << 20
	mapFile(t, held, t.TempDir(), "held")
	var stores []*Store
	for range 4 {
		s, err := Open(t.TempDir(), Options{MinFreeBytes: -1, MappedBytes: share})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	// A store checks from the moment it opens, and until the last one
	// has opened the shares summed are less than what is resident: the
	// first stores may page out then. So what counts is from two checks
	// after the last one opened (a check under way as it opened may have
	// read the smaller sum) on: three more checks of each store.
	deadline := time.Now().Add(10 * time.Second)
	waitChecks := func(n uint64) {
		t.Helper()
		for _, s := range stores {
			for target := s.stats.mappedChecks.Load() + n; s.stats.mappedChecks.Load() < target; {
				if time.Now().After(deadline) {
					t.Fatalf("fewer than %d checks of the mapped pages in 10 s", n)
				}
				time.Sleep(trimEvery)
			}
		}
	}
	waitChecks(2)
	before := make([]uint64, len(stores))
	for i, s := range stores {
		before[i] = s.Stats().PageOuts
	}
	waitChecks(3)
	resident, err := residentMapped()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if n := s.Stats().PageOuts - before[i]; n != 0 {
			t.Fatalf("store %d paged out %d times with 4 shares of %d KiB open and %d KiB resident; want none", i, n, share>>10, resident>>10)
		}
	}
	for _, s := range stores[1:] {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for stores[0].Stats().PageOuts <= before[0] {
		if time.Now().After(deadline) {
			t.Fatalf("no page-out within 10 s with one share of %d KiB left and %d KiB held resident", share>>10, held>>10)
		}
		time.Sleep(trimEvery)
	}
}

// BenchmarkPageOutCheck: what one of trimMapped's page-outs costs as a
// store's table files grow in number (about 350 per million messages at
// 1 MiB, 600 at 512 KiB), with a few of their pages read in before each, as point
// reads do (ns/op is one page-out). "compacting" also writes a new table
// and deletes an old one before each, as compactions under posting do.
func BenchmarkPageOutCheck(b *testing.B) {
	for _, tables := range []int{500, 2000, 8000} {
		for _, compacting := range []bool{false, true} {
			b.Run(fmt.Sprintf("tables=%d/compacting=%v", tables, compacting), func(b *testing.B) {
				benchmarkPageOutCheck(b, tables, compacting)
			})
		}
	}
}

func benchmarkPageOutCheck(b *testing.B, tables int, compacting bool) {
	const tableSize = 512 << 10
	dir := b.TempDir()
	page := os.Getpagesize()
	var maps [][]byte
	next := 0
	addTable := func() {
		m := mapFakeTable(b, filepath.Join(dir, fmt.Sprintf("%06d.sst", next)), tableSize)
		next++
		for i := 0; i < len(m); i += page { // written through the mapping
			pageSink += m[i]
		}
		maps = append(maps, m)
	}
	for range tables {
		addTable()
	}
	p := newPager(dir, nil, "")
	if _, err := p.pageOut(false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if compacting {
			unix.Munmap(maps[0])
			os.Remove(filepath.Join(dir, fmt.Sprintf("%06d.sst", next-tables)))
			maps = maps[1:]
			addTable()
		}
		for j := range 64 { // point reads' pages
			m := maps[(i*64+j)*7919%len(maps)]
			pageSink += m[(j*page*3)%(len(m)-page)]
		}
		b.StartTimer()
		if _, err := p.pageOut(false); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for _, m := range maps {
		unix.Munmap(m)
	}
}

// mapFakeTable writes a sparse file of size bytes at path that ends as a
// Badger table does (an index of a page, its length, a checksum and its
// length: tableIndexStart's footer), and maps it read-only.
func mapFakeTable(tb testing.TB, path string, size int) []byte {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	index := os.Getpagesize()
	footer := make([]byte, 4+4+4)
	binary.BigEndian.PutUint32(footer[0:], uint32(index)) // index length
	binary.BigEndian.PutUint32(footer[8:], 4)             // checksum length, after its 4 bytes
	if _, err := f.WriteAt(footer, int64(size-len(footer))); err != nil {
		tb.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
