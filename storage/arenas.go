package storage

import (
	"fmt"
	"log/slog"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Badger v4 builds each table it writes (a memtable's flush, every table
// of a compaction) in an arena on the Go heap that grows by doubling, and
// when the table is written it puts the arena in a pool of up to 8, at the
// size it grew to, for the next table. The pool lets one go only after 2
// s in which no table was started, which on a node taking posts never
// comes, and no option sizes or disables it. So a flush's arena (31 MiB
// for an 8 MiB memtable) went on to serve compactions that need a tenth
// of it, and the pooled arenas were 80–140 MB of a posting node's live
// heap, above the Go runtime's memory limit: its RSS was over 200 MB and
// the collector ran back to back (docs/PERFORMANCE.md, "Badger's arena
// pool drained").
//
// drainArenaPool takes each arena as soon as Badger puts it in the pool
// and releases it, so a table's arena is garbage once the table is
// written and the heap holds only the arenas of the tables being built.
// It receives on the pool's channel, which ristretto's pool itself does
// (Get, and its idle sweep), so it needs no lock Badger does not take.
// The pool is not exported: its fields are found by name and type, and an
// error says if a Badger or ristretto release changed them
// (TestArenaPoolDrained). The goroutine ends, closing the returned channel,
// when the DB is closed: closing releases the pool, which closes its
// channel. released counts the arenas released.
func drainArenaPool(db *badger.DB, released *atomic.Uint64) (<-chan struct{}, error) {
	pool, err := unexportedField[*z.AllocatorPool](reflect.ValueOf(db).Elem(), "allocPool")
	if err != nil {
		return nil, fmt.Errorf("find Badger's table arena pool: %w", err)
	}
	if pool == nil {
		return nil, fmt.Errorf("find Badger's table arena pool: it is nil")
	}
	arenas, err := unexportedField[chan *z.Allocator](reflect.ValueOf(pool).Elem(), "allocCh")
	if err != nil {
		return nil, fmt.Errorf("find Badger's table arena pool: %w", err)
	}
	done := make(chan struct{})
	go releaseArenas(arenas, released, done)
	return done, nil
}

// drainArenaPoolOrWarn is drainArenaPool, which it logs a failure of: the
// store works without it, with more memory.
func drainArenaPoolOrWarn(db *badger.DB, released *atomic.Uint64, log *slog.Logger) <-chan struct{} {
	done, err := drainArenaPool(db, released)
	if err != nil {
		log.Warn("Badger keeps its table arenas pooled, which holds tens of MB more memory", "err", err)
	}
	return done
}

// releaseArenas releases every arena received from arenas, counting them
// in released, until arenas is closed; then it closes done.
func releaseArenas(arenas <-chan *z.Allocator, released *atomic.Uint64, done chan<- struct{}) {
	defer close(done)
	for a := range arenas {
		a.Release()
		released.Add(1)
	}
}

// unexportedField reads the field name of the struct v, which must be
// addressable and have that field with type T.
func unexportedField[T any](v reflect.Value, name string) (T, error) {
	var zero T
	f := v.FieldByName(name)
	if !f.IsValid() {
		return zero, fmt.Errorf("%s has no field %s", v.Type(), name)
	}
	if f.Type() != reflect.TypeFor[T]() {
		return zero, fmt.Errorf("%s.%s is a %s, not a %s", v.Type(), name, f.Type(), reflect.TypeFor[T]())
	}
	return *(*T)(unsafe.Pointer(f.UnsafeAddr())), nil
}
