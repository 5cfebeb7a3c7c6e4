package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fixedKey is a deterministic node key, so signed test events, and with
// them the fuzz seeds, are the same on every run.
var fixedKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// fixedNode is fixedKey's node ID.
var fixedNode = NodeIDFromKey(fixedKey.Public().(ed25519.PublicKey))

// decodeErrors are the error classes Decode promises; every error it
// returns wraps one of them.
var decodeErrors = []error{ErrTooLarge, ErrMalformed, ErrNotCanonical, ErrBadSignature, ErrUnknownVersion, ErrUnknownType}

// sampleEvents returns valid events of every type, all signed by fixedKey
// in one group room: the create first, then a post, then the others.
// sampleEvents returns one event of each type in a room of version 2,
// whose bodies embed their payloads: the layout TestDecodeRejects crafts.
func sampleEvents(t testing.TB) []*Signed {
	t.Helper()
	return sampleEventsOf(t, 2)
}

// allSampleEvents returns the sample events of every room version with
// its own wire layout: 2 (payload in the body) and 3 (payload hash in the
// body, payload beside it), and the redacted forms of version 3.
func allSampleEvents(t testing.TB) []*Signed {
	t.Helper()
	all := sampleEventsOf(t, 2)
	for _, e := range sampleEventsOf(t, versionRedaction) {
		all = append(all, e)
		if e.Redactable() {
			r, err := e.Redact()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
	}
	return all
}

// sampleEventsOf returns one event of each type in a room of version v.
func sampleEventsOf(t testing.TB, v uint16) []*Signed {
	t.Helper()
	alice, bob, carol := NewAccountID(fixedNode, "alice"), NewAccountID(fixedNode, "bob"), NewAccountID(fixedNode, "carol")
	sign := func(e Event, c Content) *Signed {
		t.Helper()
		s, err := Sign(fixedKey, e, c)
		if err != nil {
			t.Fatalf("sign %T: %v", c, err)
		}
		return s
	}
	create := sign(Event{Version: v, Author: "alice", Time: 1}, &RoomCreate{Kind: KindGroup, Name: "会議室", Description: "d", Icon: "i",
		Creator: MemberInfo{Account: alice, Role: RoleAdmin, Name: "Alice", Org: "Acme"},
		Members: []MemberInfo{{Account: bob, Role: RoleMember}}, Nonce: []byte{1, 2, 3}})
	next := func(prev ...*Signed) Event {
		var heads []Order
		for _, p := range prev {
			heads = append(heads, p.Order())
		}
		e := Successor(create.RoomID(), create.Version, heads)
		e.Author, e.Time, e.Seq = "alice", 2, e.Depth+1
		return e
	}
	post := sign(next(create), &MessagePost{Body: "[To:" + string(bob) + "] hello [info][title]t[/title]x[/info]"})
	task := sign(next(post), &TaskCreate{Body: "do", Assignees: []AccountID{bob}, Due: 1_800_000_000, Limit: LimitDate})
	name, body, status, limit, due := "renamed", "redo", TaskDone, LimitTime, int64(1_900_000_000)
	return []*Signed{create, post, task,
		sign(next(task), &TaskUpdate{Task: task.ID, Status: &status, Body: &body, Assignees: &[]AccountID{alice, bob},
			Due: &due, Limit: &limit}),
		sign(next(post), &MessageEdit{Message: post.ID, Body: "edited"}),
		sign(next(post), &MessageDelete{Message: post.ID}),
		sign(next(post), &RoomUpdate{Name: &name}),
		sign(next(post, task), &MemberAdd{Member: MemberInfo{Account: carol, Role: RoleReadonly, Name: "Carol"}}),
		sign(next(post, task), &MemberAdd{Member: MemberInfo{Account: carol, Role: RoleReadonly, Name: "Carol"},
			More: []MemberInfo{{Account: NewAccountID(fixedNode, "dave"), Role: RoleAdmin}, {Account: NewAccountID(fixedNode, "erin"), Role: RoleMember, Org: "Beta"}}}),
		sign(next(post), &MemberRole{Account: bob, Role: RoleReadonly}),
		sign(next(post), &MemberRemove{Account: bob}),
		sign(next(post), &MemberLeave{}),
		sign(next(post), &NodeAck{}),
		sign(next(post), &MessageReact{Message: post.ID, Reaction: ReactionCracker}),
		sign(next(post), &MessageReact{Message: post.ID, Reaction: ReactionYes, Remove: true}),
	}
}

// sampleOf returns the sample event of type typ.
func sampleOf(t testing.TB, typ EventType) *Signed {
	t.Helper()
	for _, e := range sampleEvents(t) {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no sample %s", typ)
	return nil
}

// FuzzDecode feeds arbitrary bytes to Decode; see checkDecode for what
// must hold.
func FuzzDecode(f *testing.F) {
	for _, e := range allSampleEvents(f) {
		f.Add(e.Wire())
	}
	post := sampleEvents(f)[1].Wire()
	f.Add([]byte{})
	f.Add([]byte{0x82, 0x40, 0x40})     // [h'', h'']
	f.Add([]byte{0xa1, 0x01, 0x02})     // {1: 2}
	f.Add(post[:len(post)/2])           // truncated
	f.Add(append(bytes.Clone(post), 0)) // trailing byte
	f.Fuzz(checkDecode)
}

// FuzzSignedBody signs arbitrary bodies with fixedKey before decoding them,
// so the fuzzer explores the body and payload checks behind the signature,
// which random bytes never pass.
func FuzzSignedBody(f *testing.F) {
	for _, e := range allSampleEvents(f) {
		f.Add(e.body, e.payload)
	}
	f.Fuzz(func(t *testing.T, body, payload []byte) {
		checkDecode(t, encodeWire(body, ed25519.Sign(fixedKey, body), payload))
	})
}

// checkDecode decodes b. Nothing may panic; every error must carry one of
// Decode's error classes; and whatever Decode accepts must be the one
// encoding of one event: it re-encodes to exactly the input, its ID is the
// SHA-256 of its body, its origin is spelled as NodeIDFromKey spells it,
// and decoding again, or through DecodeStored, yields an equal event.
func checkDecode(t *testing.T, b []byte) {
	links, linksErr := DecodeStoredLinks(b) // must not panic, whatever b is
	e, err := Decode(b)
	if err == nil {
		checkLinks(t, e, links, linksErr)
	}
	if err != nil {
		if e != nil {
			t.Fatal("Decode returned an event and an error")
		}
		if !isOneOf(decodeErrors, err) {
			t.Fatalf("Decode error %v wraps none of the documented classes", err)
		}
		return
	}
	if got := e.Wire(); !bytes.Equal(got, b) {
		t.Fatalf("Wire() = %x, want the input %x", got, b)
	}
	if e.ID != sha256.Sum256(e.body) {
		t.Fatal("ID is not the SHA-256 of the body")
	}
	pub, err := e.Origin.PublicKey()
	if err != nil {
		t.Fatalf("accepted origin %q: %v", e.Origin, err)
	}
	if NodeIDFromKey(pub) != e.Origin {
		t.Fatalf("origin %q is not the canonical spelling %q", e.Origin, NodeIDFromKey(pub))
	}
	if e.Type == TypeRoomCreate && e.RoomID() != RoomID(e.ID) || e.Type != TypeRoomCreate && e.RoomID() != e.Room {
		t.Fatalf("RoomID() = %s for a %s in room %s", e.RoomID(), e.Type, e.Room)
	}
	again, err := Decode(e.Wire())
	if err != nil {
		t.Fatalf("second decode: %v", err)
	}
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("second decode = %+v, want %+v", again, e)
	}
	stored, err := DecodeStored(b)
	if err != nil {
		t.Fatalf("DecodeStored of an accepted event: %v", err)
	}
	if !reflect.DeepEqual(stored, e) {
		t.Fatalf("DecodeStored = %+v %+v, want %+v %+v", stored.Event, stored.Content, e.Event, e.Content)
	}
}

func isOneOf(targets []error, err error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// TestFuzzCorpus checks the committed seed corpus still says what its file
// names claim: "valid-*" seeds decode, all others are refused. A format
// change that silently turned every seed into garbage would leave the
// fuzzer starting from nothing.
func TestFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("%d corpus files, want at least 8", len(files))
	}
	types := map[EventType]bool{}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			b := readCorpusFile(t, name)
			e, err := Decode(b)
			if strings.HasPrefix(filepath.Base(name), "valid-") {
				if err != nil {
					t.Fatalf("valid seed refused: %v", err)
				}
				types[e.Type] = true
				return
			}
			if err == nil {
				t.Fatal("malformed seed accepted")
			}
		})
	}
	if len(types) < 5 {
		t.Errorf("valid seeds cover %d event types, want at least 5", len(types))
	}
}

// readCorpusFile reads a one-value []byte file in the go test fuzz v1 format.
func readCorpusFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	header, rest, _ := strings.Cut(string(data), "\n")
	lit, ok := strings.CutPrefix(strings.TrimSpace(rest), "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	if header != "go test fuzz v1" || !ok || !ok2 {
		t.Fatalf("%s: not a go test fuzz v1 []byte file", name)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}
