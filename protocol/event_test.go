package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// otherKey is a second deterministic node key.
var otherKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

// signed returns the wire form of body signed by fixedKey, so tests can
// hand-craft bodies that Sign would refuse to make.
func signed(body []byte) []byte { return encodeWire(body, ed25519.Sign(fixedKey, body), nil) }

// resign encodes the envelope e canonically and signs it with fixedKey.
func resign(t *testing.T, e Event) []byte {
	t.Helper()
	body, err := encMode.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	return signed(body)
}

// pair is one map entry: an integer key and its value's raw encoding.
type pair struct {
	k uint64
	v []byte
}

// pairs splits a canonical CBOR map with integer keys into its entries,
// in encoded order.
func pairs(t *testing.T, m []byte) []pair {
	t.Helper()
	var mm map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(m, &mm); err != nil {
		t.Fatal(err)
	}
	var ps []pair
	for k, v := range mm {
		ps = append(ps, pair{k, v})
	}
	slices.SortFunc(ps, func(a, b pair) int { return int(a.k) - int(b.k) })
	return ps
}

// rawMap encodes entries as a definite-length map in the order given,
// which need not be canonical.
func rawMap(ps []pair) []byte {
	b := []byte{0xa0 | byte(len(ps))} // fewer than 24 entries
	for _, p := range ps {
		k, _ := encMode.Marshal(p.k)
		b = append(append(b, k...), p.v...)
	}
	return b
}

// withEntry returns ps with key k set to v (appended if absent).
func withEntry(ps []pair, k uint64, v []byte) []pair {
	ps = slices.Clone(ps)
	for i := range ps {
		if ps[i].k == k {
			ps[i].v = v
			return ps
		}
	}
	return append(ps, pair{k, v})
}

func enc(t *testing.T, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRoundTrip(t *testing.T) {
	events := allSampleEvents(t)
	types := map[EventType]bool{}
	for _, e := range events {
		types[e.Type] = true
		t.Run(string(e.Type), func(t *testing.T) {
			w := e.Wire()
			got, err := Decode(w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Wire(), w) {
				t.Fatalf("Wire() after Decode = %x, want %x", got.Wire(), w)
			}
			if got.ID != sha256.Sum256(e.body) || got.ID != e.ID {
				t.Fatalf("ID = %s, want SHA-256 of the body %s", got.ID, e.ID)
			}
			if !reflect.DeepEqual(got.Event, e.Event) || !reflect.DeepEqual(got.Content, e.Content) {
				t.Fatalf("decoded %+v %+v, want %+v %+v", got.Event, got.Content, e.Event, e.Content)
			}
			if got.Version != e.Version || got.Redacted() != e.Redacted() || got.Origin != fixedNode || got.AuthorID() != NewAccountID(fixedNode, "alice") {
				t.Fatalf("version %d, origin %s, author %s", got.Version, got.Origin, got.AuthorID())
			}
		})
	}
	for _, typ := range []EventType{TypeRoomCreate, TypeRoomUpdate, TypeMemberAdd, TypeMemberRole, TypeMemberRemove, TypeMemberLeave,
		TypeMessagePost, TypeMessageEdit, TypeMessageDelete, TypeTaskCreate, TypeTaskUpdate} {
		if !types[typ] {
			t.Errorf("no sample event of type %s", typ)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	create, post := sampleEvents(t)[0], sampleEvents(t)[1]
	edit := sampleOf(t, TypeMessageEdit)
	w := post.Wire()
	body, sig := post.body, post.sig
	env := pairs(t, body)
	// The envelope's body byte string starts after the array header and
	// the 3-byte string head (0x59 plus a 2-byte length).
	if w[0] != 0x82 || w[1] != 0x59 {
		t.Fatalf("unexpected wire head %x", w[:2])
	}

	// reEnvelope signs post's envelope with fields changed by f.
	reEnvelope := func(f func(e *Event)) []byte {
		e := post.Event
		e.Prev = slices.Clone(e.Prev)
		f(&e)
		return resign(t, e)
	}
	// rePayload signs post's envelope around the payload bytes p.
	rePayload := func(typ EventType, p []byte) []byte {
		return reEnvelope(func(e *Event) { e.Type, e.Payload = typ, p })
	}
	oversized := reEnvelope(func(e *Event) {
		e.Payload = enc(t, &MessagePost{Body: strings.Repeat("x", MaxEventSize)})
	})
	manyPrev := func(n int) []byte {
		return reEnvelope(func(e *Event) {
			e.Prev = nil
			for i := range n {
				e.Prev = append(e.Prev, EventID{0, byte(i + 1)})
			}
		})
	}
	editPayload := pairs(t, edit.Payload)
	otherSig := ed25519.Sign(otherKey, body)
	addOwner := enc(t, &MemberAdd{Member: MemberInfo{Account: NewAccountID(fixedNode, "bob"), Role: "owner"}})
	// addMany returns a member.add payload of first and n more accounts.
	addMany := func(n int, first MemberInfo) []byte {
		a := &MemberAdd{Member: first}
		for i := range n {
			a.More = append(a.More, MemberInfo{Account: NewAccountID(fixedNode, Handle(fmt.Sprintf("m%d", i))), Role: RoleMember})
		}
		return enc(t, a)
	}
	bob := MemberInfo{Account: NewAccountID(fixedNode, "bob"), Role: RoleAdmin}

	for _, c := range []struct {
		name string
		wire []byte
		want error // nil: must decode
	}{
		// Size.
		{"oversized zeros", make([]byte, MaxEventSize+1), ErrTooLarge},
		{"oversized signed event", oversized, ErrTooLarge},
		{"garbage of exactly the limit", make([]byte, MaxEventSize), ErrMalformed},

		// The [body, signature] envelope.
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("hello, world"), ErrMalformed},
		{"truncated", w[:len(w)-3], ErrMalformed},
		{"trailing byte", append(bytes.Clone(w), 0x00), ErrMalformed},
		{"map instead of array", []byte{0xa1, 0x01, 0x02}, ErrMalformed},
		{"array of one", enc(t, []any{body}), ErrMalformed},
		{"array of three", enc(t, []any{body, sig, sig}), ErrMalformed},
		{"text instead of bytes", enc(t, []any{string(body), string(sig)}), ErrMalformed},
		{"indefinite-length array", append(append([]byte{0x9f}, w[1:]...), 0xff), ErrMalformed},
		{"indefinite-length body", append(append(append([]byte{0x82, 0x5f}, enc(t, body)...), 0xff), enc(t, sig)...), ErrMalformed},
		{"tagged", append([]byte{0xc1}, w...), ErrMalformed},
		{"body length not shortest", append([]byte{0x82, 0x5a, 0, 0}, w[2:]...), ErrNotCanonical},
		{"signature length not shortest", append(bytes.Clone(w[:len(w)-2-len(sig)]), append([]byte{0x59, 0x00, 0x40}, sig...)...), ErrNotCanonical},

		// The signed body.
		{"body not a map", signed(enc(t, 7)), ErrMalformed},
		{"body keys out of order", signed(rawMap(append([]pair{env[1], env[0]}, env[2:]...))), ErrNotCanonical},
		{"body integer not shortest", signed(rawMap(withEntry(env, 7, []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, byte(post.Depth)}))), ErrNotCanonical},
		{"body room omitted", signed(rawMap(slices.Delete(slices.Clone(env), 1, 2))), ErrNotCanonical},
		{"body indefinite-length map", signed(append(append([]byte{0xbf}, rawMap(env)[1:]...), 0xff)), ErrMalformed},
		{"body duplicate key", signed(rawMap(append(slices.Clone(env), env[7]))), ErrMalformed},
		{"body unknown key", signed(rawMap(withEntry(env, 11, enc(t, "new")))), ErrMalformed},
		{"body seq as text", signed(rawMap(withEntry(env, 10, enc(t, "1")))), ErrMalformed},
		{"version 2 without seq", reEnvelope(func(e *Event) { e.Seq = 0 }), ErrMalformed},
		{"version 1 with seq", reEnvelope(func(e *Event) { e.Version, e.Seq = 1, 2 }), ErrMalformed},
		{"node.ack in a version 1 room", reEnvelope(func(e *Event) {
			e.Version, e.Seq, e.Type, e.Payload = 1, 0, TypeNodeAck, []byte{0xa0}
		}), ErrMalformed},
		{"node.ack with a payload", reEnvelope(func(e *Event) { e.Type, e.Payload = TypeNodeAck, enc(t, map[int]int{1: 1}) }), ErrMalformed},
		{"body version as text", signed(rawMap(withEntry(env, 1, enc(t, "1")))), ErrMalformed},
		{"body invalid UTF-8", signed(rawMap(withEntry(env, 3, []byte{0x62, 0xff, 0xfe}))), ErrMalformed},
		{"version 0", reEnvelope(func(e *Event) { e.Version = 0 }), ErrUnknownVersion},
		{"next version", reEnvelope(func(e *Event) { e.Version = Version + 1 }), ErrUnknownVersion},
		{"next version with a new field", signed(rawMap(withEntry(withEntry(env, 1, enc(t, Version+1)), 11, enc(t, "new")))), ErrUnknownVersion},
		{"next version with a new type", reEnvelope(func(e *Event) { e.Version, e.Type = Version+1, "message.react" }), ErrUnknownVersion},
		{"unknown type", reEnvelope(func(e *Event) { e.Type = "message.shout" }), ErrUnknownType},
		{"origin not a peer ID", reEnvelope(func(e *Event) { e.Origin = "12D3KooWnotapeer" }), ErrMalformed},
		{"author not a handle", reEnvelope(func(e *Event) { e.Author = "Alice" }), ErrMalformed},

		// The signature.
		{"flipped signature bit", append(bytes.Clone(w[:len(w)-1]), w[len(w)-1]^0x01), ErrBadSignature},
		{"body changed after signing", encodeWire(bytes.Replace(body, []byte("hello"), []byte("HELLO"), 1), sig, nil), ErrBadSignature},
		{"signature by another node", encodeWire(body, otherSig, nil), ErrBadSignature},
		{"origin of another node", reEnvelope(func(e *Event) { e.Origin = NodeIDFromKey(otherKey.Public().(ed25519.PublicKey)) }), ErrBadSignature},
		{"short signature", encodeWire(body, sig[:63], nil), ErrBadSignature},
		{"long signature", encodeWire(body, append(bytes.Clone(sig), 0), nil), ErrBadSignature},
		{"no signature", encodeWire(body, nil, nil), ErrBadSignature},

		// The payload.
		{"payload keys out of order", reEnvelope(func(e *Event) {
			e.Type, e.Payload = TypeMessageEdit, rawMap([]pair{editPayload[1], editPayload[0]})
		}), ErrNotCanonical},
		{"payload integer not shortest", rePayload(TypeTaskCreate, rawMap(withEntry(pairs(t, sampleOf(t, TypeTaskCreate).Payload), 3,
			[]byte{0x1b, 0, 0, 0, 0, 0x6b, 0x49, 0xd2, 0x00}))), ErrNotCanonical},
		{"payload unknown field", rePayload(TypeMessagePost, rawMap([]pair{{1, enc(t, "hi")}, {2, enc(t, "extra")}})), ErrMalformed},
		{"payload of another type", rePayload(TypeMessagePost, sampleOf(t, TypeTaskCreate).Payload), ErrMalformed},
		{"payload not a map", rePayload(TypeMessagePost, enc(t, "hi")), ErrMalformed},
		{"payload empty body", rePayload(TypeMessagePost, enc(t, &MessagePost{})), ErrMalformed},
		{"payload body too long", rePayload(TypeMessagePost, enc(t, &MessagePost{Body: strings.Repeat("x", MaxTextSize+1)})), ErrMalformed},
		{"payload body at the limit", rePayload(TypeMessagePost, enc(t, &MessagePost{Body: strings.Repeat("x", MaxTextSize)})), nil},
		{"payload unknown role", rePayload(TypeMemberAdd, addOwner), ErrMalformed},
		{"payload member.add of many", rePayload(TypeMemberAdd, addMany(MaxListSize-1, bob)), nil},
		{"payload member.add over the bound", rePayload(TypeMemberAdd, addMany(MaxListSize, bob)), ErrMalformed},
		{"payload member.add lists one twice", rePayload(TypeMemberAdd, addMany(3, MemberInfo{Account: NewAccountID(fixedNode, "m1"), Role: RoleMember})), ErrMalformed},
		{"payload member.add with an unknown role in the list", rePayload(TypeMemberAdd, enc(t, &MemberAdd{Member: bob,
			More: []MemberInfo{{Account: NewAccountID(fixedNode, "carol"), Role: "owner"}}})), ErrMalformed},
		{"payload member.add with an empty list", rePayload(TypeMemberAdd, rawMap([]pair{{1, enc(t, bob)}, {2, enc(t, []any{})}})), ErrNotCanonical},
		{"payload create by a non-admin", func() []byte {
			e := create.Event
			rc := *create.Content.(*RoomCreate)
			rc.Creator.Role = RoleMember
			e.Payload = enc(t, &rc)
			return resign(t, e)
		}(), ErrMalformed},
		{"payload due without limit", rePayload(TypeTaskCreate, enc(t, &TaskCreate{Body: "x", Assignees: []AccountID{NewAccountID(fixedNode, "bob")},
			Due: 5, Limit: LimitNone})), ErrMalformed},

		// Envelope shape.
		{"prev unsorted", reEnvelope(func(e *Event) { e.Prev = []EventID{{2}, {1}} }), ErrMalformed},
		{"prev repeated", reEnvelope(func(e *Event) { e.Prev = []EventID{{1}, {1}} }), ErrMalformed},
		{"prev at the limit", manyPrev(MaxPrev), nil},
		{"prev over the limit", manyPrev(MaxPrev + 1), ErrMalformed},
		{"prev empty", reEnvelope(func(e *Event) { e.Prev = nil }), ErrMalformed},
		{"depth 0", reEnvelope(func(e *Event) { e.Depth = 0 }), ErrMalformed},
		{"no room", reEnvelope(func(e *Event) { e.Room = RoomID{} }), ErrMalformed},
		{"create with a room", func() []byte { e := create.Event; e.Room = RoomID{1}; return resign(t, e) }(), ErrMalformed},
		{"create with a parent", func() []byte { e := create.Event; e.Prev = []EventID{{1}}; return resign(t, e) }(), ErrMalformed},
		{"create with a depth", func() []byte { e := create.Event; e.Depth = 1; return resign(t, e) }(), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Decode(c.wire)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if e != nil || !errors.Is(err, c.want) {
				t.Fatalf("Decode = %v, %v; want %v", e, err, c.want)
			}
			// Exactly one class, so callers can branch on it.
			n := 0
			for _, class := range decodeErrors {
				if errors.Is(err, class) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%v wraps %d error classes, want 1", err, n)
			}
		})
	}
}

// TestDecodeRefusesDamage cuts and flips every byte of every sample event:
// no damaged copy may decode, and every refusal carries an error class.
func TestDecodeRefusesDamage(t *testing.T) {
	for _, e := range allSampleEvents(t) {
		t.Run(fmt.Sprintf("%s/v%d/redacted=%t", e.Type, e.Version, e.Redacted()), func(t *testing.T) {
			w := e.Wire()
			for i := range w {
				if d, err := Decode(w[:i]); err == nil || !isOneOf(decodeErrors, err) {
					t.Fatalf("prefix of %d/%d bytes: %v, %v", i, len(w), d, err)
				}
				flipped := bytes.Clone(w)
				flipped[i] ^= 1 << (i % 8)
				if d, err := Decode(flipped); err == nil || !isOneOf(decodeErrors, err) {
					t.Fatalf("bit %d of byte %d flipped: %v, %v", i%8, i, d, err)
				}
			}
		})
	}
}

func TestDecodeStored(t *testing.T) {
	for _, e := range allSampleEvents(t) {
		t.Run(fmt.Sprintf("%s/v%d/redacted=%t", e.Type, e.Version, e.Redacted()), func(t *testing.T) {
			got, err := DecodeStored(e.Wire())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("DecodeStored = %+v %+v, want %+v %+v", got.Event, got.Content, e.Event, e.Content)
			}
			if !bytes.Equal(got.Wire(), e.Wire()) {
				t.Fatal("Wire() after DecodeStored differs")
			}
		})
	}
	t.Run("garbage", func(t *testing.T) {
		if _, err := DecodeStored([]byte("hello")); !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeStored(garbage) = %v, want ErrMalformed", err)
		}
	})
	t.Run("unknown type", func(t *testing.T) {
		e := sampleEvents(t)[1].Event
		e.Type = "message.shout"
		if _, err := DecodeStored(resign(t, e)); !errors.Is(err, ErrUnknownType) {
			t.Fatalf("DecodeStored(unknown type) = %v, want ErrUnknownType", err)
		}
	})
}

func TestPeekID(t *testing.T) {
	for _, e := range allSampleEvents(t) {
		if id, err := PeekID(e.Wire()); err != nil || id != e.ID {
			t.Errorf("PeekID(%s) = %s, %v; want %s", e.Type, id, err, e.ID)
		}
	}
	if _, err := PeekID([]byte("hello")); !errors.Is(err, ErrMalformed) {
		t.Errorf("PeekID(garbage) = %v, want ErrMalformed", err)
	}
	if _, err := PeekID(make([]byte, MaxEventSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("PeekID(too large) = %v, want ErrTooLarge", err)
	}
}

func TestSign(t *testing.T) {
	post := sampleEvents(t)[1]
	env := post.Event
	env.Origin, env.Version, env.Type, env.Payload = "", 0, "", nil
	for _, c := range []struct {
		name    string
		key     ed25519.PrivateKey
		edit    func(e *Event)
		content Content
		want    error // nil: signs
	}{
		{"fills origin and version", fixedKey, func(*Event) {}, &MessagePost{Body: "x"}, nil},
		{"type comes from the content", fixedKey, func(e *Event) { e.Type = TypeTaskCreate }, &MessagePost{Body: "x"}, nil},
		{"no content", fixedKey, func(*Event) {}, nil, ErrMalformed},
		{"invalid content", fixedKey, func(*Event) {}, &MessagePost{}, ErrMalformed},
		{"invalid shape", fixedKey, func(e *Event) { e.Prev = nil }, &MessagePost{Body: "x"}, ErrMalformed},
		{"future version", fixedKey, func(e *Event) { e.Version = Version + 1 }, &MessagePost{Body: "x"}, ErrUnknownVersion},
		{"another node's origin", otherKey, func(e *Event) { e.Origin = fixedNode }, &MessagePost{Body: "x"}, errAny},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := env
			c.edit(&e)
			s, err := Sign(c.key, e, c.content)
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("Sign: %v", err)
			case c.want == nil:
				if s.Origin != NodeIDFromKey(c.key.Public().(ed25519.PublicKey)) || s.Version != Version || s.Type != TypeMessagePost {
					t.Fatalf("Sign made origin %s, version %d, type %s", s.Origin, s.Version, s.Type)
				}
				// Sign skips verifying its own signature; a peer does not.
				if _, err := Decode(s.Wire()); err != nil {
					t.Fatalf("Decode of a signed event: %v", err)
				}
			case c.want == errAny && err == nil, c.want != errAny && !errors.Is(err, c.want):
				t.Fatalf("Sign = %v, want %v", err, c.want)
			}
		})
	}
}

// errAny in a test case means any error will do.
var errAny = errors.New("any error")

func TestOrderCompare(t *testing.T) {
	a, b := EventID{1}, EventID{2}
	for _, c := range []struct {
		o, p Order
		want int
	}{
		{Order{1, b}, Order{2, a}, -1}, // depth first
		{Order{2, a}, Order{1, b}, 1},
		{Order{3, a}, Order{3, b}, -1}, // then ID bytes
		{Order{3, b}, Order{3, a}, 1},
		{Order{3, a}, Order{3, a}, 0},
		{Order{0, EventID{31: 1}}, Order{0, EventID{30: 1}}, -1},
	} {
		if got := c.o.Compare(c.p); got != c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.o, c.p, got, c.want)
		}
	}
}

// TestWireVector pins the exact bytes of two events, the test vector in
// docs/PROTOCOL.md: node key seed 32 bytes of 0x07, a group room create
// and a post in it. Ed25519 signatures are deterministic, so any change to
// these bytes is a change of the wire format.
func TestWireVector(t *testing.T) {
	create, err := Sign(fixedKey, Event{Version: 1, Author: "alice", Time: 1_700_000_000_000}, &RoomCreate{Kind: KindGroup, Name: "general",
		Creator: MemberInfo{Account: NewAccountID(fixedNode, "alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	e := Successor(create.RoomID(), create.Version, []Order{create.Order()})
	e.Author, e.Time = "alice", 1_700_000_001_000
	post, err := Sign(fixedKey, e, &MessagePost{Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if fixedNode != "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7" {
		t.Fatalf("node ID %s", fixedNode)
	}
	for _, c := range []struct {
		e        *Signed
		id, wire string
	}{
		{create, "veh3v23pwawojvmqfpxhbvdugosqdeco65ddnlpgos7r466lrvuq",
			"8258d5a801010258200000000000000000000000000000000000000000000000000000000000000000036b726f6f6d2e637265617465" +
				"0465616c696365057834313244334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e796472" +
				"336541746f34417a370700081b0000018bcfe5680009a3016567726f7570026767656e6572616c06a201783a616c69636540313244" +
				"334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e796472336541746f34417a3702656164" +
				"6d696e5840758db8f095ed7872b6838280c1f2112acb58443fb44c2aef56732a74ba212073ea7353cf2a0f43f1a4c3007984a11274" +
				"dbea1a47b39ccfb190757ee5082c500f"},
		{post, "eptgyqqnn3folcd7mtel4fvsjdpjw6tjx7wlhuhkxdxdrveqclia",
			"8258aba90101025820a90fbaeb6fb02ce4d5902bee70d47433a501904ef74636ade674bf1e7bcb8d69036c6d6573736167652e706f" +
				"73740465616c696365057834313244334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e79" +
				"6472336541746f34417a3706815820a90fbaeb6fb02ce4d5902bee70d47433a501904ef74636ade674bf1e7bcb8d690701081b0000" +
				"018bcfe56be809a1016568656c6c6f5840dd94c42d3d6c3d0641e316221e719271811109d760c4bfc87ec18eb34914ba34248caf75" +
				"d4b23e7c78a68855e519eaa34f1530418fa4d30951df25d9bdebb605"},
	} {
		if got := hex.EncodeToString(c.e.Wire()); got != c.wire {
			t.Errorf("%s wire form\n got %s\nwant %s", c.e.Type, got, c.wire)
		}
		if c.e.ID.String() != c.id {
			t.Errorf("%s ID = %s, want %s", c.e.Type, c.e.ID, c.id)
		}
		want, _ := hex.DecodeString(c.wire)
		if d, err := Decode(want); err != nil || d.ID != c.e.ID {
			t.Errorf("Decode(vector) = %v, %v", d, err)
		}
	}
}

// TestWireVectorVersion2 pins the events of TestWireVector in a room of
// version 2, the second test vector in docs/PROTOCOL.md: their bodies
// carry key 10, the origin's chain position (1 for the create, 2 for the
// post, whose parents include the create, its origin's event of seq 1).
func TestWireVectorVersion2(t *testing.T) {
	create, err := Sign(fixedKey, Event{Version: 2, Author: "alice", Time: 1_700_000_000_000}, &RoomCreate{Kind: KindGroup, Name: "general",
		Creator: MemberInfo{Account: NewAccountID(fixedNode, "alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	e := ChainSuccessor(create.RoomID(), create.Version, []Order{create.Order()}, create.Order(), create.Seq)
	e.Author, e.Time = "alice", 1_700_000_001_000
	post, err := Sign(fixedKey, e, &MessagePost{Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if create.Seq != 1 || post.Seq != 2 {
		t.Fatalf("seqs %d, %d, want 1, 2", create.Seq, post.Seq)
	}
	for _, c := range []struct {
		e        *Signed
		id, wire string
	}{
		{create, "jwzruj6cy7ev4eed7ubkmmlrbuc57igahcwnc74v3jk5qqdnahiq",
			"8258d7a901020258200000000000000000000000000000000000000000000000000000000000000000036b726f6f6d2e6372656174" +
				"650465616c696365057834313244334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e7964" +
				"72336541746f34417a370700081b0000018bcfe5680009a3016567726f7570026767656e6572616c06a201783a616c696365403132" +
				"44334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e796472336541746f34417a37026561" +
				"646d696e0a015840156016992278a167c63feae23695d2e9713677039cae199c2555dfb13c86d575e2747e3767a0c6144efb2f0ab9" +
				"ef1ae71f2beeb2d6db1af32c5656a5a7d4ba0a"},
		{post, "r7pvifdze4cx7wkvmol6cf5qu4n6g7ta4dyyx4vdl5tuqlwlhzcq",
			"8258adaa01020258204db31a27c2c7c95e1083fd02a631710d05dfa0c038acd17f95da55d8406d01d1036c6d6573736167652e706f" +
				"73740465616c696365057834313244334b6f6f5752617750627850745031655a614a70756d476e7957583244635579643352516e79" +
				"6472336541746f34417a37068158204db31a27c2c7c95e1083fd02a631710d05dfa0c038acd17f95da55d8406d01d10701081b0000" +
				"018bcfe56be809a1016568656c6c6f0a025840566abf5f4bdab86052ff3ef90b6bd5c0f6e205559c2cdf2922c0a9e1c4510061c721" +
				"d130598053af6084ab9bf1934aaaf593e4bf2e49ded762bc3d17dc3cd109"},
	} {
		if got := hex.EncodeToString(c.e.Wire()); got != c.wire {
			t.Errorf("%s wire form\n got %s\nwant %s", c.e.Type, got, c.wire)
		}
		if c.e.ID.String() != c.id {
			t.Errorf("%s ID = %s, want %s", c.e.Type, c.e.ID, c.id)
		}
		want, _ := hex.DecodeString(c.wire)
		if d, err := Decode(want); err != nil || d.ID != c.e.ID {
			t.Errorf("Decode(vector) = %v, %v", d, err)
		}
		r := NewReplica(create.RoomID())
		for _, e := range []*Signed{create, post} {
			if err := r.Add(e); err != nil {
				t.Fatalf("add %s: %v", e.Type, err)
			}
		}
	}
}
