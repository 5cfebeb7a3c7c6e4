package storage

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestTooBigUpdateFailsAlone: an Update whose writes no transaction can
// hold fails with ErrTxnTooBig, and the Updates batched with it, before
// and after, commit. A key rewritten many times in one Update counts
// once.
func TestTooBigUpdateFailsAlone(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	limit := s.db.MaxBatchSize()
	val := bytes.Repeat([]byte{'x'}, 1000)
	writeKeys := func(prefix string, n int) func(*Tx) error {
		return func(tx *Tx) error {
			for i := range n {
				if err := tx.set(fmt.Appendf(nil, "\xfe%s%d", prefix, i), val); err != nil {
					return err
				}
			}
			return nil
		}
	}

	// Hold the writer so that the next Updates queue up and share a batch.
	release := make(chan struct{})
	held := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Update(t.Context(), func(*Tx) error { close(held); <-release; return nil })
	}()
	<-held
	fits := int(limit / 1100 / 3) // three of these fit in one transaction
	errs := make([]error, 4)
	fns := []func(*Tx) error{
		writeKeys("a", fits),
		writeKeys("big", int(limit/1000)+10),
		writeKeys("b", fits),
		writeKeys("c", fits),
	}
	for i, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Update(t.Context(), fn) }()
	}
	for len(s.writes) < len(fns) { // wait until all are queued behind the held one
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		default:
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if want := i == 1; errors.Is(err, ErrTxnTooBig) != want || (!want && err != nil) {
			t.Errorf("update %d: %v", i, err)
		}
	}
	view(t, s, func(tx *Tx) error {
		for _, k := range []string{"a0", fmt.Sprint("b", fits-1), "c0"} {
			if ok, err := tx.has([]byte("\xfe" + k)); err != nil || !ok {
				t.Errorf("key %s: stored %v, %v", k, ok, err)
			}
		}
		if ok, _ := tx.has([]byte("\xfebig0")); ok {
			t.Error("part of the refused update was stored")
		}
		return nil
	})
	if st := s.Stats(); st.TooBig != 1 {
		t.Errorf("stats %+v, want one too big", st)
	}

	// One key rewritten far past the limit is one write.
	before := s.Stats().WrittenBytes
	update(t, s, func(tx *Tx) error {
		for range 2 * limit / 1000 {
			if err := tx.set([]byte("\xferewritten"), val); err != nil {
				return err
			}
		}
		return nil
	})
	if got := s.Stats().WrittenBytes - before; got > 2000 {
		t.Errorf("a rewritten key wrote %d bytes", got)
	}
}
