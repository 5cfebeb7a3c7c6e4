package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// resign signs body with fixedKey and returns the wire form, so a test can
// hand-craft bodies that Sign would refuse to make.
func resign(t *testing.T, e Event) []byte {
	t.Helper()
	body, err := encMode.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	return encodeWire(body, ed25519.Sign(fixedKey, body))
}

func TestDecode(t *testing.T) {
	events := sampleEvents(t)
	for _, e := range events {
		t.Run("roundtrip/"+string(e.Type), func(t *testing.T) {
			got, err := Decode(e.Wire())
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != e.ID || !bytes.Equal(got.Wire(), e.Wire()) || got.Order() != e.Order() {
				t.Fatalf("decoded %+v, want %+v", got.Event, e.Event)
			}
		})
	}
	post := events[1]
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	var raw wire
	if err := decMode.Unmarshal(post.Wire(), &raw); err != nil {
		t.Fatal(err)
	}
	// A body with an unsorted map: decodes as CBOR but is not canonical.
	loose, _ := cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
	unsorted, _ := loose.Marshal(map[int]any{9: post.Payload, 1: post.Version, 2: post.Room, 3: post.Type, 4: post.Author,
		5: post.Origin, 6: post.Prev, 7: post.Depth, 8: post.Time})
	v0, v2, unknownType, unsortedPrev, createWithRoom := post.Event, post.Event, post.Event, post.Event, events[0].Event
	v0.Version, v2.Version = 0, Version+1
	unknownType.Type = "message.shout"
	unsortedPrev.Prev = []EventID{{2}, {1}}
	createWithRoom.Room = RoomID{1}
	manyPrev := post.Event
	for i := range MaxPrev + 1 {
		manyPrev.Prev = append(manyPrev.Prev, EventID{0, byte(i + 1)})
	}
	for _, c := range []struct {
		name string
		wire []byte
		want error
	}{
		{"oversized", make([]byte, MaxEventSize+1), ErrTooLarge},
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("hello, world"), ErrMalformed},
		{"truncated", post.Wire()[:len(post.Wire())-3], ErrMalformed},
		{"map instead of array", []byte{0xa1, 0x01, 0x02}, ErrMalformed},
		{"flipped signature bit", flip(post.Wire(), len(post.Wire())-1), ErrBadSignature},
		{"flipped body byte", encodeWire(flip(raw.Body, len(raw.Body)-2), raw.Sig), ErrBadSignature},
		{"short signature", encodeWire(raw.Body, raw.Sig[:10]), ErrBadSignature},
		{"non-canonical body", encodeWire(unsorted, ed25519.Sign(fixedKey, unsorted)), ErrNotCanonical},
		{"version 0", resign(t, v0), ErrUnknownVersion},
		{"future version", resign(t, v2), ErrUnknownVersion},
		{"unknown type", resign(t, unknownType), ErrUnknownType},
		{"unsorted prev", resign(t, unsortedPrev), ErrMalformed},
		{"too many prev", resign(t, manyPrev), ErrMalformed},
		{"create with a room", resign(t, createWithRoom), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Decode(c.wire)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode = %v, %v; want %v", e, err, c.want)
			}
		})
	}
}

func TestDecodeStored(t *testing.T) {
	for _, e := range sampleEvents(t) {
		got, err := DecodeStored(e.Wire())
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		if got.ID != e.ID || got.Depth != e.Depth || got.Type != e.Type || !bytes.Equal(got.Wire(), e.Wire()) {
			t.Fatalf("%s: DecodeStored = %+v, want %+v", e.Type, got.Event, e.Event)
		}
	}
}

func TestSignRefusesForeignOrigin(t *testing.T) {
	_, other, _ := ed25519.GenerateKey(nil)
	e := Event{Author: "alice", Origin: NodeIDFromKey(other.Public().(ed25519.PublicKey))}
	if _, err := Sign(fixedKey, e, &MessagePost{Body: "x"}); err == nil {
		t.Fatal("Sign signed an event claiming another node's origin")
	}
}

func TestIDs(t *testing.T) {
	id := sampleEvents(t)[0].ID
	if got, err := ParseEventID(id.String()); err != nil || got != id {
		t.Fatalf("ParseEventID(String()) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "xyz", id.String() + "a", id.String()[:51] + "1"} {
		if _, err := ParseEventID(bad); err == nil {
			t.Errorf("ParseEventID(%q) accepted", bad)
		}
	}
	node := NodeIDFromKey(fixedKey.Public().(ed25519.PublicKey))
	if pub, err := node.PublicKey(); err != nil || !pub.Equal(fixedKey.Public()) {
		t.Fatalf("NodeID.PublicKey = %v, %v", pub, err)
	}
	for _, c := range []struct {
		h  Handle
		ok bool
	}{{"alice", true}, {"a.b_c-9", true}, {"", false}, {"Alice", false}, {"-x", false}, {"a@b", false},
		{"abcdefghijklmnopqrstuvwxyz0123456", false}} {
		if err := c.h.Validate(); (err == nil) != c.ok {
			t.Errorf("Handle(%q).Validate() = %v", c.h, err)
		}
	}
	for _, c := range []struct {
		a  AccountID
		ok bool
	}{{NewAccountID(node, "alice"), true}, {"alice", false}, {"alice@notanode", false}, {AccountID("@" + string(node)), false}} {
		if err := c.a.Validate(); (err == nil) != c.ok {
			t.Errorf("AccountID(%q).Validate() = %v", c.a, err)
		}
	}
}
