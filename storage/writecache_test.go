package storage

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestWriteCacheExact: what an Update reads through the writer's cache is
// what is committed, across Updates that share a batch (each sees the
// earlier ones' uncommitted writes), Updates that fail (their writes
// never reach the cache), an Update too big to commit, a deletion, and
// a reopen of the store.
func TestWriteCacheExact(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	counter := []byte("\xfecounter")
	errFail := errors.New("fails on purpose")
	read := func(tx *Tx) (uint64, error) {
		b, err := tx.get(counter)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return be64(b), nil
	}
	// increment adds one to the counter; with fail, it writes and then
	// fails, and with big it writes and then writes more than a
	// transaction holds.
	increment := func(fail, big bool) func(*Tx) error {
		return func(tx *Tx) error {
			n, err := read(tx)
			if err != nil {
				return err
			}
			if err := tx.set(counter, u64(n+1)); err != nil {
				return err
			}
			if big {
				val := bytes.Repeat([]byte{'x'}, 1000)
				for i := range int(s.db.MaxBatchSize()/1000) + 10 {
					if err := tx.set(fmt.Appendf(nil, "\xfebig%d", i), val); err != nil {
						return err
					}
				}
			}
			if fail {
				return errFail
			}
			return nil
		}
	}
	committed := func(t *testing.T, want uint64) {
		t.Helper()
		var inUpdate, inView uint64
		if err := s.Update(t.Context(), func(tx *Tx) (err error) { inUpdate, err = read(tx); return err }); err != nil {
			t.Fatal(err)
		}
		if err := s.View(func(tx *Tx) (err error) { inView, err = read(tx); return err }); err != nil {
			t.Fatal(err)
		}
		if inUpdate != want || inView != want {
			t.Fatalf("counter: %d in an Update, %d in a View; want %d", inUpdate, inView, want)
		}
	}

	// Warm the cache with the counter's absence, then its value.
	committed(t, 0)
	if err := s.Update(t.Context(), increment(false, false)); err != nil {
		t.Fatal(err)
	}
	committed(t, 1)

	// Hold the writer so that the next Updates queue up and share a
	// batch: every other one fails, one is too big.
	release, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.Update(t.Context(), func(*Tx) error { close(held); <-release; return nil }) })
	<-held
	const updates = 21
	errs := make([]error, updates)
	for i := range updates {
		fn := increment(i%2 == 1, i == 10)
		wg.Go(func() { errs[i] = s.Update(t.Context(), fn) })
	}
	for len(s.writes) < updates {
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		default:
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
	ok := uint64(0)
	for i, err := range errs {
		switch {
		case i == 10:
			if !errors.Is(err, ErrTxnTooBig) {
				t.Errorf("update %d: %v, want ErrTxnTooBig", i, err)
			}
		case i%2 == 1:
			if !errors.Is(err, errFail) {
				t.Errorf("update %d: %v, want its own failure", i, err)
			}
		case err != nil:
			t.Errorf("update %d: %v", i, err)
		default:
			ok++
		}
	}
	if ok != 10 {
		t.Fatalf("%d updates succeeded, want 10", ok)
	}
	committed(t, 1+ok)

	// A deleted key reads as absent, then as its new value.
	if err := s.Update(t.Context(), func(tx *Tx) error { return tx.delete(counter) }); err != nil {
		t.Fatal(err)
	}
	committed(t, 0)
	for range 3 {
		if err := s.Update(t.Context(), increment(false, false)); err != nil {
			t.Fatal(err)
		}
	}
	committed(t, 3)
	if st := s.WriteCacheStats(); st.Hits == 0 {
		t.Errorf("write cache stats %+v: no hits, so this test did not test it", st)
	}

	// A key that joins the cache when written (readBack) joins it only
	// once committed.
	snapKey := key(pEvent, []byte("event")) // an event record, with its snapshot key (schema 11)
	readSnap := func() (string, error) {
		var v []byte
		err := s.Update(t.Context(), func(tx *Tx) (err error) { v, err = tx.get(snapKey); return err })
		return string(v), err
	}
	if err := s.Update(t.Context(), func(tx *Tx) error {
		if err := tx.set(snapKey, []byte("lost")); err != nil {
			return err
		}
		return errFail
	}); !errors.Is(err, errFail) {
		t.Fatalf("failing update: %v", err)
	}
	if v, err := readSnap(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key written by a failed update: %q, %v", v, err)
	}
	for _, want := range []string{"one", "two"} {
		if err := s.Update(t.Context(), func(tx *Tx) error { return tx.set(snapKey, []byte(want)) }); err != nil {
			t.Fatal(err)
		}
		if v, err := readSnap(); err != nil || v != want {
			t.Fatalf("key written: %q, %v; want %q", v, err, want)
		}
	}

	// A reopened store starts cold and reads what was committed.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{MinFreeBytes: -1}); err != nil {
		t.Fatal(err)
	}
	committed(t, 3)
	if err := s.Update(t.Context(), increment(true, false)); !errors.Is(err, errFail) {
		t.Fatalf("failing update: %v", err)
	}
	committed(t, 3)
	if err := s.Update(t.Context(), increment(false, false)); err != nil {
		t.Fatal(err)
	}
	committed(t, 4)
}

// TestWriteCacheBound: the cache keeps no more than its byte bound, and
// values evicted from it are read from Badger again.
func TestWriteCacheBound(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MinFreeBytes: -1, WriteCacheBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	k := func(i int) []byte { return fmt.Appendf(nil, "\xfebound%d", i) }
	const keys = 200 // about 30 KB of entries
	if err := s.Update(t.Context(), func(tx *Tx) error {
		for i := range keys {
			if err := tx.set(k(i), u64(uint64(i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err := s.Update(t.Context(), func(tx *Tx) error {
			for i := range keys {
				b, err := tx.get(k(i))
				if err != nil {
					return err
				}
				if be64(b) != uint64(i) {
					return fmt.Errorf("key %d holds %d", i, be64(b))
				}
			}
			if s.cache.bytes > s.cache.maxBytes || s.cache.lru.Len() == 0 {
				return fmt.Errorf("cache holds %d entries of %d bytes, bound %d", s.cache.lru.Len(), s.cache.bytes, s.cache.maxBytes)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
