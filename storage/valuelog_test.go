package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestLargeValuesGoToValueLog: a value of a quarter of a transaction or
// more goes to the value log, where the transaction counts only its
// pointer. So an Update with one value just under the transaction's limit
// and more records beside it commits (as a member event with its large
// room's full control snapshot must), and so does one with a value of
// several times the limit; both read back, after a reopen too.
func TestLargeValuesGoToValueLog(t *testing.T) {
	dir := t.TempDir()
	opt := Options{MinFreeBytes: -1, MemTableBytes: 4 << 20}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // the store open at the end
	limit := int(s.db.MaxBatchSize())
	want := map[string][]byte{"big": make([]byte, limit*97/100), "huge": make([]byte, 3*limit)}
	for _, v := range want {
		rand.Read(v)
	}
	update(t, s, func(tx *Tx) error {
		if err := tx.set([]byte("\xfebig"), want["big"]); err != nil {
			return err
		}
		for i := range 40 {
			if err := tx.set(fmt.Appendf(nil, "\xfesmall%d", i), make([]byte, 1000)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx *Tx) error { return tx.set([]byte("\xfehuge"), want["huge"]) })
	readBack := func(s *Store) {
		t.Helper()
		view(t, s, func(tx *Tx) error {
			for k, v := range want {
				got, err := tx.get([]byte("\xfe" + k))
				if err != nil {
					return err
				}
				if !bytes.Equal(got, v) {
					t.Errorf("%s: read back %d bytes, not the %d written", k, len(got), len(v))
				}
			}
			return nil
		})
	}
	readBack(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, opt); err != nil {
		t.Fatal(err)
	}
	readBack(s)
}

// TestOpenRefusesBadOptions: a value threshold above what one transaction
// holds, and levels no larger than the one above, are refused with
// ErrInvalidOptions, saying why, and a second Open
// of a directory in use with ErrLocked; the store open keeps its data.
func TestOpenRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, Options{MinFreeBytes: -1, MemTableBytes: 4 << 20, ValueThreshold: 1000 << 10})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "614 KiB") {
		t.Fatalf("threshold above a transaction: %v, want ErrInvalidOptions naming 614 KiB", err)
	}
	_, err = Open(dir, Options{MinFreeBytes: -1, LevelSizeMultiplier: 1})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "level size multiplier 1") {
		t.Fatalf("levels as large as the one above: %v, want ErrInvalidOptions naming the multiplier", err)
	}
	s, err := Open(dir, Options{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	update(t, s, func(tx *Tx) error { return tx.set([]byte("\xfekept"), []byte("v")) })
	if _, err := Open(dir, Options{MinFreeBytes: -1}); !errors.Is(err, ErrLocked) || errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	view(t, s, func(tx *Tx) error {
		if v, err := tx.get([]byte("\xfekept")); err != nil || string(v) != "v" {
			t.Errorf("after the refused opens: %q, %v", v, err)
		}
		return nil
	})
}
