package storage

import (
	"fmt"
	"slices"
	"testing"
)

// TestListSeesOwnWrites: list gives the keys of a prefix as the Update
// sees them: stored ones, its own new and rewritten ones in key order, not
// those it deleted or took back, nor its writes under other prefixes.
func TestListSeesOwnWrites(t *testing.T) {
	s := openTest(t, t.TempDir())
	k := func(p byte, name string) []byte { return append([]byte{p}, name...) }
	update(t, s, func(tx *Tx) error {
		for _, n := range []string{"a", "c", "e"} {
			if err := tx.set(k(pLink, n), []byte("stored "+n)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx *Tx) error {
		for _, w := range []struct {
			p    byte
			n, v string
		}{
			{pLink, "b", "new b"}, {pLink, "c", "new c"}, {pLinkCode, "a", "other prefix"}, {pLink, "f", "taken back"},
		} {
			if err := tx.set(k(w.p, w.n), []byte(w.v)); err != nil {
				return err
			}
		}
		if err := tx.delete(k(pLink, "e")); err != nil {
			return err
		}
		tx.unset(k(pLink, "f"), []byte("taken back"))
		entries, err := tx.list([]byte{pLink})
		if err != nil {
			return err
		}
		var got []string
		for _, e := range entries {
			got = append(got, fmt.Sprintf("%s=%s", e.k, e.v))
		}
		if want := []string{"a=stored a", "b=new b", "c=new c"}; !slices.Equal(got, want) {
			t.Errorf("list within the Update = %q, want %q", got, want)
		}
		return nil
	})
}
