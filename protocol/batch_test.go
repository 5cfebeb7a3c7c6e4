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

// smallOrder are the encodings of the points of small order, canonical
// and not, that ZIP-215's test vectors take A and R from: with s = 0,
// every (A, R) pair of them is a valid signature of any message under
// ZIP-215's cofactored check.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

// TestBatchVerifier checks the batch check itself (DecodeBatch hides a
// failing batch behind its one-at-a-time retry): signatures of several
// keys, several per key, pass together, and so do ZIP-215's 196 small-order
// vectors, each alone and all in one batch with ordinary signatures;
// one bad signature, a non-canonical s or a key that is no point fails
// the batch; and each verdict is the one-at-a-time check's.
func TestBatchVerifier(t *testing.T) {
	type sig struct{ pub, msg, sig []byte }
	var good []sig
	for k := range 3 {
		pub, key, _ := ed25519.GenerateKey(nil)
		for i := range 5 + k {
			msg := fmt.Appendf(nil, "message %d of key %d", i, k)
			good = append(good, sig{pub, msg, ed25519.Sign(key, msg)})
		}
	}
	for _, a := range smallOrder {
		for _, r := range smallOrder {
			pub, _ := hex.DecodeString(a)
			s, _ := hex.DecodeString(r + "0000000000000000000000000000000000000000000000000000000000000000")
			good = append(good, sig{pub, []byte("Zcash"), s})
		}
	}
	check := func(sigs ...sig) bool {
		v := newBatchVerifier(len(sigs))
		for _, s := range sigs {
			v.add(s.pub, s.msg, s.sig)
		}
		return v.verify()
	}
	for i, s := range good {
		if !verifySignature(s.pub, s.msg, s.sig) {
			t.Fatalf("signature %d: invalid alone", i)
		}
		if !check(s) {
			t.Errorf("signature %d: valid alone, a batch of it fails", i)
		}
	}
	if !check(good...) {
		t.Fatal("a batch of valid signatures fails")
	}
	if !check() {
		t.Error("an empty batch fails")
	}

	forged := good[3]
	forged.sig = append([]byte(nil), forged.sig...)
	forged.sig[40] ^= 1
	nonCanonical := good[len(good)-1]
	nonCanonical.sig = append(nonCanonical.sig[:32:32], // s = ℓ, the group order
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10)
	notPoint := good[0]
	notPoint.pub = bytes32(0x02) // y = 2 is on no point of the curve
	otherMessage := good[5]
	otherMessage.msg = []byte("another message")
	for name, bad := range map[string]sig{"forged": forged, "s = ℓ": nonCanonical, "key not a point": notPoint, "another message": otherMessage} {
		if verifySignature(bad.pub, bad.msg, bad.sig) {
			t.Fatalf("%s: valid alone", name)
		}
		if check(bad) {
			t.Errorf("%s: a batch of it passes", name)
		}
		if check(append(append([]sig{}, good...), bad)...) {
			t.Errorf("%s: a batch of it and valid signatures passes", name)
		}
	}
}

func bytes32(first byte) []byte {
	b := make([]byte, 32)
	b[0] = first
	return b
}

// BenchmarkDecodeBatch decodes 256 events of two origins, as a sync frame
// of a partner's room brings them: in one batch, and one at a time.
func BenchmarkDecodeBatch(b *testing.B) {
	events := batchEvents(b, 256)
	wires := make([][]byte, len(events))
	for i, s := range events {
		wires[i] = s.Wire()
	}
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if _, errs := DecodeBatch(wires); errors.Join(errs...) != nil {
				b.Fatal(errors.Join(errs...))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(wires)), "µs/event")
	})
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			for _, w := range wires {
				if _, err := Decode(w); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(wires)), "µs/event")
	})
}

// BenchmarkDecodeBatchSizes decodes posts of nine origins, as a node's
// gossip validators get them from nine partners, in batches of 1 to 64
// and one at a time: what a batch of a given size costs per event
// (node/p2p/sigcheck.go checks gossip in batches of up to 32).
func BenchmarkDecodeBatchSizes(b *testing.B) {
	keys := make([]ed25519.PrivateKey, 9)
	for i := range keys {
		keys[i] = ed25519.NewKeyFromSeed(bytes32(byte(i + 1)))
	}
	create := batchEvents(b, 1)[0]
	wires := make([][]byte, 64)
	for i := range wires {
		e := Successor(create.RoomID(), create.Version, []Order{create.Order()})
		e.Author, e.Time, e.Seq = "alice", 1_700_000_000_000+int64(i), uint64(i+2)
		s, err := Sign(keys[i%len(keys)], e, &MessagePost{Body: fmt.Sprintf("post %d, about as long as a line of chat in a busy room", i)})
		if err != nil {
			b.Fatal(err)
		}
		wires[i] = s.Wire()
	}
	for _, n := range []int{1, 2, 4, 8, 16, 32, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, errs := DecodeBatch(wires[:n]); errors.Join(errs...) != nil {
					b.Fatal(errors.Join(errs...))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/event")
		})
	}
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(wires[0]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/event")
	})
}
