package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

func TestEventIDText(t *testing.T) {
	ids := map[string]EventID{
		"zero":   {},
		"ones":   EventID(bytes.Repeat([]byte{0xff}, 32)),
		"hash":   sha256.Sum256([]byte("horenso")),
		"sample": sampleEvents(t)[0].ID,
	}
	for name, id := range ids {
		t.Run(name, func(t *testing.T) {
			s := id.String()
			if len(s) != 52 || s != strings.ToLower(s) {
				t.Fatalf("String() = %q, want 52 lowercase characters", s)
			}
			if got, err := ParseEventID(s); err != nil || got != id {
				t.Fatalf("ParseEventID(%q) = %v, %v; want %v", s, got, err, id)
			}
			// Parsing is case-insensitive, and yields the same ID.
			if got, err := ParseEventID(strings.ToUpper(s)); err != nil || got != id {
				t.Fatalf("ParseEventID(upper) = %v, %v; want %v", got, err, id)
			}
			if got, err := ParseRoomID(s); err != nil || got != RoomID(id) || got.String() != s {
				t.Fatalf("ParseRoomID(%q) = %v, %v", s, got, err)
			}
			if id.IsZero() != (name == "zero") || RoomID(id).IsZero() != (name == "zero") {
				t.Fatalf("IsZero() = %v", id.IsZero())
			}
			// Both types are text in JSON, as the HTTP API writes them.
			b, err := json.Marshal(map[string]any{"e": id, "r": RoomID(id)})
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				E EventID `json:"e"`
				R RoomID  `json:"r"`
			}
			if err := json.Unmarshal(b, &back); err != nil || back.E != id || back.R != RoomID(id) {
				t.Fatalf("JSON round trip of %s: %s -> %+v, %v", s, b, back, err)
			}
		})
	}
}

// TestEventIDOneSpelling checks every ID has exactly one text form. 52
// characters carry 260 bits, so the last character holds one bit of the ID
// and 4 bits of padding that must be zero: of its 32 possible values, two
// parse (one per value of the bit), each to an ID that prints as itself.
func TestEventIDOneSpelling(t *testing.T) {
	for _, id := range []EventID{{}, sampleEvents(t)[1].ID, sha256.Sum256(nil)} {
		s := id.String()
		parsed := map[EventID]string{}
		for _, c := range "abcdefghijklmnopqrstuvwxyz234567" {
			alt := s[:51] + string(c)
			got, err := ParseEventID(alt)
			if err != nil {
				continue
			}
			if got.String() != alt || alt == s && got != id {
				t.Errorf("ParseEventID(%q) = %v, which does not print as its input", alt, got)
			}
			if prev, ok := parsed[got]; ok {
				t.Errorf("%q and %q both parse to %v", prev, alt, got)
			}
			parsed[got] = alt
		}
		if len(parsed) != 2 {
			t.Errorf("%d spellings with the prefix of %s parse, want 2", len(parsed), s)
		}
	}
}

func TestParseEventIDRejects(t *testing.T) {
	good := sampleEvents(t)[0].ID.String()
	for _, c := range []struct{ name, s string }{
		{"empty", ""},
		{"short", good[:51]},
		{"long", good + "a"},
		{"padded", good[:48] + "===="},
		{"digit one", good[:51] + "1"},
		{"digit zero", "0" + good[1:]},
		{"digit eight", good[:10] + "8" + good[11:]},
		{"base64", strings.Repeat("/", 52)},
		{"nonzero padding bits", good[:51] + "7"},
		{"hex", hex.EncodeToString(make([]byte, 26))},
		{"non-ASCII", good[:50] + "é"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if id, err := ParseEventID(c.s); err == nil {
				t.Fatalf("ParseEventID(%q) = %v, want an error", c.s, id)
			}
			if id, err := ParseRoomID(c.s); err == nil {
				t.Fatalf("ParseRoomID(%q) = %v, want an error", c.s, id)
			}
			var id EventID
			if err := id.UnmarshalText([]byte(c.s)); err == nil {
				t.Fatalf("UnmarshalText(%q) succeeded", c.s)
			}
			var r RoomID
			if err := json.Unmarshal([]byte(`"`+c.s+`"`), &r); err == nil {
				t.Fatalf("json.Unmarshal(%q) into a RoomID succeeded", c.s)
			}
		})
	}
}

func TestNodeID(t *testing.T) {
	// The libp2p peer-ID spec's Ed25519 test key: its peer ID is what
	// go-libp2p prints for it, so a Horenso node ID is a libp2p peer ID.
	seed, _ := hex.DecodeString("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d")
	specKey := ed25519.NewKeyFromSeed(seed)
	if got := hex.EncodeToString(specKey.Public().(ed25519.PublicKey)); got != "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e" {
		t.Fatalf("spec key's public key = %s", got)
	}
	if got, want := NodeIDFromKey(specKey.Public().(ed25519.PublicKey)), NodeID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"); got != want {
		t.Fatalf("NodeIDFromKey(spec key) = %s, want %s", got, want)
	}
	for i := range 16 {
		pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i)}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
		n := NodeIDFromKey(pub)
		if !strings.HasPrefix(string(n), "12D3KooW") {
			t.Errorf("NodeIDFromKey = %s, want the 12D3KooW prefix of Ed25519 peer IDs", n)
		}
		got, err := n.PublicKey()
		if err != nil || !got.Equal(pub) {
			t.Fatalf("%s.PublicKey() = %x, %v; want %x", n, got, err, pub)
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("%s.Validate() = %v", n, err)
		}
	}
}

func TestNodeIDRejects(t *testing.T) {
	good := string(fixedNode)
	raw, err := base58.Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(f func(b []byte) []byte) NodeID { return NodeID(base58.Encode(f(bytes.Clone(raw)))) }
	secp, _ := hex.DecodeString("002508021221" + "037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")
	for _, c := range []struct {
		name string
		n    NodeID
	}{
		{"empty", ""},
		{"not base58", NodeID(good[:10] + "0" + good[11:])},
		{"truncated", NodeID(good[:len(good)-1])},
		{"extra leading zero byte", NodeID("1" + good)},
		{"short key", reencode(func(b []byte) []byte { return b[:len(b)-1] })},
		{"long key", reencode(func(b []byte) []byte { return append(b, 0) })},
		{"wrong multihash", reencode(func(b []byte) []byte { b[0] = 0x12; return b })},
		{"wrong key type", reencode(func(b []byte) []byte { b[3] = 0x02; return b })},
		{"secp256k1 peer ID", NodeID(base58.Encode(secp))},
		{"RSA peer ID", "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if pub, err := c.n.PublicKey(); !errors.Is(err, ErrBadNodeID) {
				t.Fatalf("PublicKey() = %x, %v; want ErrBadNodeID", pub, err)
			}
			if err := c.n.Validate(); !errors.Is(err, ErrBadNodeID) {
				t.Fatalf("Validate() = %v, want ErrBadNodeID", err)
			}
		})
	}
}

func TestHandle(t *testing.T) {
	for _, c := range []struct {
		h  Handle
		ok bool
	}{
		{"alice", true},
		{"a", true},
		{"7", true},
		{"a.b_c-9", true},
		{Handle(strings.Repeat("x", 32)), true},
		{"", false},
		{Handle(strings.Repeat("x", 33)), false},
		{"Alice", false},
		{".alice", false},
		{"_alice", false},
		{"-alice", false},
		{"a b", false},
		{"a@b", false},
		{"a/b", false},
		{"ａｌｉｃｅ", false}, // fullwidth letters
		{"café", false},
	} {
		t.Run(string(c.h), func(t *testing.T) {
			err := c.h.Validate()
			if c.ok && err != nil || !c.ok && !errors.Is(err, ErrBadHandle) {
				t.Fatalf("Handle(%q).Validate() = %v, want ok=%v", c.h, err, c.ok)
			}
		})
	}
}

func TestAccountID(t *testing.T) {
	a := NewAccountID(fixedNode, "alice")
	if string(a) != "alice@"+string(fixedNode) || a.Node() != fixedNode || a.Handle() != "alice" {
		t.Fatalf("NewAccountID = %q: node %q, handle %q", a, a.Node(), a.Handle())
	}
	for _, c := range []struct {
		name string
		a    AccountID
		want error // nil: valid
	}{
		{"valid", a, nil},
		{"no at", "alice", ErrBadAccountID},
		{"empty", "", ErrBadAccountID},
		{"empty handle", AccountID("@" + string(fixedNode)), ErrBadHandle},
		{"bad handle", AccountID("Alice@" + string(fixedNode)), ErrBadHandle},
		{"empty node", "alice@", ErrBadNodeID},
		{"bad node", "alice@notanode", ErrBadNodeID},
		{"two ats", AccountID("alice@" + string(fixedNode) + "@x"), ErrBadNodeID},
		{"reversed", AccountID(string(fixedNode) + "@alice"), ErrBadHandle},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.a.Validate()
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("AccountID(%q).Validate() = %v, want %v", c.a, err, c.want)
			}
		})
	}
}
