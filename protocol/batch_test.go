package protocol

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// batchEvents returns n posts in a room, signed alternately by fixedKey
// and otherKey.
func batchEvents(t testing.TB, n int) []*Signed {
	t.Helper()
	create, err := Sign(fixedKey, Event{Author: "alice", Time: 1_700_000_000_000, Seq: 1}, &RoomCreate{Kind: KindGroup, Name: "general",
		Creator: MemberInfo{Account: NewAccountID(fixedNode, "alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	out := []*Signed{create}
	for i := 1; i < n; i++ {
		key := fixedKey
		if i%2 == 1 {
			key = otherKey
		}
		e := Successor(create.RoomID(), create.Version, []Order{out[i-1].Order()})
		e.Author, e.Time, e.Seq = "alice", 1_700_000_000_000+int64(i), uint64(i/2+2)
		s, err := Sign(key, e, &MessagePost{Body: fmt.Sprintf("post %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestDecodeBatch checks that DecodeBatch answers as Decode does for
// each event of a batch: valid events of two origins, a forged
// signature, a signature of another body, and a malformed wire form.
func TestDecodeBatch(t *testing.T) {
	events := batchEvents(t, 40)
	wires := make([][]byte, len(events))
	for i, s := range events {
		wires[i] = s.Wire()
	}
	got, errs := DecodeBatch(wires)
	for i := range wires {
		if errs[i] != nil || got[i] == nil || got[i].ID != events[i].ID {
			t.Fatalf("valid batch: event %d: %v", i, errs[i])
		}
	}

	forged := events[7].Wire()
	forged[len(forged)-len(events[7].payload)-5] ^= 1 // a byte of the signature
	swapped := encodeWire(events[8].body, events[9].sig, events[8].payload)
	wires[7], wires[8], wires[20] = forged, swapped, []byte{0x82, 0x01}
	got, errs = DecodeBatch(wires)
	for i, w := range wires {
		_, want := Decode(w)
		switch {
		case want == nil && (errs[i] != nil || got[i] == nil):
			t.Errorf("event %d: batch %v, alone valid", i, errs[i])
		case want != nil && (errs[i] == nil || got[i] != nil):
			t.Errorf("event %d: batch valid, alone %v", i, want)
		}
	}
	for _, i := range []int{7, 8} {
		if !errors.Is(errs[i], ErrBadSignature) {
			t.Errorf("event %d: %v, want ErrBadSignature", i, errs[i])
		}
	}
	if !errors.Is(errs[20], ErrMalformed) {
		t.Errorf("event 20: %v, want ErrMalformed", errs[20])
	}
}

// TestSignatureRuleZIP215 pins the signature rule (docs/PROTOCOL.md,
// "Signatures"): a signature that only the cofactored check of ZIP-215
// accepts — an origin key of order 8, R the identity, s zero — is valid,
// alone and in a batch alike. RFC 8032's cofactorless check, which
// crypto/ed25519 makes, refuses it for most bodies: a node checking that
// way alone and another in batches would decide differently.
func TestSignatureRuleZIP215(t *testing.T) {
	small, err := hex.DecodeString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	if err != nil {
		t.Fatal(err)
	}
	origin := NodeIDFromKey(ed25519.PublicKey(small))
	sig := make([]byte, ed25519.SignatureSize)
	sig[0] = 1 // R: the identity point; s: 0
	template := batchEvents(t, 2)[1]
	var wires [][]byte
	cofactorless := 0
	for i := range 16 {
		e := template.Event
		e.Origin, e.Time = origin, e.Time+int64(i)
		body, err := encMode.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if ed25519.Verify(ed25519.PublicKey(small), body, sig) {
			cofactorless++
		}
		w := encodeWire(body, sig, template.payload)
		if _, err := Decode(w); err != nil {
			t.Errorf("body %d: Decode: %v", i, err)
		}
		wires = append(wires, w)
	}
	if cofactorless == len(wires) {
		t.Fatal("crypto/ed25519 accepts every body: the vector does not tell the rules apart")
	}
	if _, errs := DecodeBatch(wires); errors.Join(errs...) != nil {
		t.Errorf("DecodeBatch: %v", errors.Join(errs...))
	}
}
