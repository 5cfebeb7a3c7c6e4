package storage

import (
	"errors"
	"testing"
)

// TestUnset checks that a write taken back by unset is not written, that
// the writes after it in the same Update still are, and that the key may
// be written again in that Update and is then stored.
func TestUnset(t *testing.T) {
	s := openTest(t, t.TempDir())
	k := func(n byte) []byte { return []byte{0xEF, n} }
	update(t, s, func(tx *Tx) error {
		for n := range byte(5) {
			if err := tx.set(k(n), []byte{n}); err != nil {
				return err
			}
		}
		tx.unset(k(1), []byte{1})
		tx.unset(k(3), []byte{9}) // not its value: stays
		tx.unset(k(4), []byte{4})
		if _, err := tx.get(k(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("unset key read in its Update: %v", err)
		}
		return tx.set(k(4), []byte{44})
	})
	view(t, s, func(tx *Tx) error {
		for n, want := range map[byte][]byte{0: {0}, 1: nil, 2: {2}, 3: {3}, 4: {44}} {
			got, err := tx.get(k(n))
			switch {
			case want == nil && !errors.Is(err, ErrNotFound):
				t.Errorf("key %d: %v, %v; want none", n, got, err)
			case want != nil && (err != nil || string(got) != string(want)):
				t.Errorf("key %d: %v, %v; want %v", n, got, err, want)
			}
		}
		return nil
	})
}
