package storage

import (
	"reflect"
	"testing"
)

// TestScopedTokenRecord: a token's scopes, rooms and expiry round-trip,
// and a token without them reads back with them empty (full access).
func TestScopedTokenRecord(t *testing.T) {
	s := openTest(t, t.TempDir())
	scoped, plain := HashToken("scoped"), HashToken("plain")
	want := Token{Handle: "alice", Name: "bot", Created: 1, Scopes: []string{"rooms.messages:read"}, Rooms: []uint64{4, 5}, Expires: 99}
	update(t, s, func(tx *Tx) error {
		if err := tx.PutToken(scoped, &want); err != nil {
			return err
		}
		return tx.PutToken(plain, &Token{Handle: "alice", Name: "old bot", Created: 2})
	})
	view(t, s, func(tx *Tx) error {
		got, err := tx.Token(scoped)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("scoped token = %+v, want %+v", *got, want)
		}
		p, err := tx.Token(plain)
		if err != nil {
			t.Fatal(err)
		}
		if p.Scopes != nil || p.Rooms != nil || p.Expires != 0 {
			t.Errorf("plain token = %+v, want no scopes, rooms or expiry", *p)
		}
		return nil
	})
}
