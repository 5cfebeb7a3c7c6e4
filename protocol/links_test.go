package protocol

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestDecodeStoredLinks checks that the links read from a stored event
// are the event's own: a create (zero Room, its own ID as its room), a
// post of room version 3 with a parent and a chain position, and an
// event whose body is longer than a one-byte CBOR length can say.
func TestDecodeStoredLinks(t *testing.T) {
	create, err := Sign(fixedKey, Event{Version: 3, Author: "alice", Time: 1_700_000_000_000, Seq: 1}, &RoomCreate{Kind: KindGroup, Name: "general",
		Creator: MemberInfo{Account: NewAccountID(fixedNode, "alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	e := Successor(create.RoomID(), create.Version, []Order{create.Order()})
	e.Author, e.Time, e.Seq = "alice", 1_700_000_001_000, 2
	post, err := Sign(fixedKey, e, &MessagePost{Body: strings.Repeat("長い", 5_000)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Signed{create, post} {
		l, err := DecodeStoredLinks(s.Wire())
		checkLinks(t, s, l, err)
	}
	for _, s := range allSampleEvents(t) {
		l, err := DecodeStoredLinks(s.Wire())
		checkLinks(t, s, l, err)
	}
	for _, bad := range [][]byte{nil, {0x82}, {0x82, 0x01}, {0x82, 0x59, 0xff}, {0x82, 0x58, 0x10, 0x00}, {0x82, 0x5f}} {
		if _, err := DecodeStoredLinks(bad); err == nil {
			t.Errorf("links of %x: no error", bad)
		}
	}
}

// TestPeekLinks checks that a peer's wire form gives its event's ID and
// links, that a body whose links cannot be read still gives the ID, and
// that a malformed envelope is an error.
func TestPeekLinks(t *testing.T) {
	for _, s := range allSampleEvents(t) {
		id, l, ok, err := PeekLinks(s.Wire())
		if id != s.ID || !ok {
			t.Fatalf("%s %s: PeekLinks gave %s, ok %v, error %v", s.Type, s.ID, id, ok, err)
		}
		checkLinks(t, s, l, err)
	}
	body := []byte{0x61, 'x'} // a text, not a map
	wire := append([]byte{0x82, 0x42}, body...)
	wire = append(wire, 0x41, 0x00)
	id, _, ok, err := PeekLinks(wire)
	if err != nil || ok || id != sha256.Sum256(body) {
		t.Errorf("a body that is not a map: ID %s (want %x), ok %v, error %v", id, sha256.Sum256(body), ok, err)
	}
	if _, _, _, err := PeekLinks([]byte{0x82, 0x01}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a malformed envelope: %v, want ErrMalformed", err)
	}
}

// checkLinks fails t unless l, read by DecodeStoredLinks with error err,
// holds e's links.
func checkLinks(t *testing.T, e *Signed, l Links, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s %s: DecodeStoredLinks: %v", e.Type, e.ID, err)
	}
	if l.RoomID(e.ID) != e.RoomID() || l.Type != e.Type || l.Origin != e.Origin || l.Depth != e.Depth ||
		l.Seq != e.Seq || !slices.Equal(l.Prev, e.Prev) {
		t.Fatalf("%s %s: links %+v, event %+v", e.Type, e.ID, l, e.Event)
	}
}

// BenchmarkDecodeStoredLinks compares reading an event's links with
// decoding the whole stored event, as sync's walk did before.
func BenchmarkDecodeStoredLinks(b *testing.B) {
	w := batchEvents(b, 3)[2].Wire()
	b.Run("links", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeStoredLinks(w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeStored(w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
