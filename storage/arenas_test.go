package storage

import (
	"crypto/rand"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2/z"
)

// TestArenaPoolDrained: the arenas Badger built a store's flushed tables
// in are released, not kept in its pool, and the store reads what the
// tables hold. It fails if a Badger release renames the pool's fields.
func TestArenaPoolDrained(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MinFreeBytes: -1, MemTableBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.arenasDone == nil {
		t.Fatal("the store does not drain Badger's arena pool")
	}
	val := make([]byte, 4096)
	for u := range 80 { // 80 × 16 × 4 KiB = 5 MiB of incompressible values: several flushes
		update(t, s, func(tx *Tx) error {
			for i := range 16 {
				rand.Read(val)
				if err := tx.set(fmt.Appendf(nil, "\xfearena%05d", u*16+i), val); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Only the drain counts releases: without it the flushes' arenas stay
	// in Badger's pool (for 2 s or more) and the count stays 0.
	for deadline := time.Now().Add(30 * time.Second); s.stats.arenasReleased.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 MiB written into 1 MiB memtables (%d tables), no arena released", len(s.db.Tables()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(s.db.Tables()) == 0 {
		t.Fatal("an arena was released before any table was written")
	}
	if err := s.View(func(tx *Tx) error {
		_, err := tx.get([]byte("\xfearena00000"))
		return err
	}); err != nil {
		t.Fatalf("read the first value back: %v", err)
	}
}

// TestReleaseArenas: every arena sent on the channel is released and
// counted, and the goroutine ends when the channel is closed.
func TestReleaseArenas(t *testing.T) {
	const tag = "TestReleaseArenas"
	arenas := make(chan *z.Allocator, 8)
	var released atomic.Uint64
	done := make(chan struct{})
	go releaseArenas(arenas, &released, done)
	for range 3 {
		a := z.NewAllocator(1<<20, tag)
		a.Allocate(1 << 19)
		arenas <- a
	}
	close(arenas)
	<-done
	if n := released.Load(); n != 3 {
		t.Errorf("released %d arenas, want 3", n)
	}
	if live := z.Allocators(); strings.Contains(live, tag) {
		t.Errorf("an arena of the test is still live: %s", live)
	}
}

func TestUnexportedField(t *testing.T) {
	type inner struct {
		n int
		s string
	}
	v := reflect.ValueOf(&inner{n: 7, s: "x"}).Elem()
	if n, err := unexportedField[int](v, "n"); err != nil || n != 7 {
		t.Errorf("field n: %d, %v; want 7", n, err)
	}
	if _, err := unexportedField[int](v, "s"); err == nil {
		t.Error("field s read as an int")
	}
	if _, err := unexportedField[int](v, "missing"); err == nil {
		t.Error("a missing field read")
	}
}
