package p2p

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/horenso/horenso/protocol"
)

// TestSigChecksBatch: gossip events that wait for their signature check
// at the same time are checked in batches of at most maxSigBatch, and
// each gets what protocol.Decode says of it alone: a forged signature or
// a malformed event fails without failing the others.
func TestSigChecksBatch(t *testing.T) {
	a, b := keyOf("sig a"), keyOf("sig b")
	create := newRoom(t, a, 1, idOf(b))
	heads := []protocol.Order{create.Order()}
	events := append(posts(t, a, "alice", create.RoomID(), heads, 40), posts(t, b, "bob", create.RoomID(), heads, 30)...)
	wires := make([][]byte, len(events))
	for i, e := range events {
		wires[i] = e.Wire()
	}
	var items [][]byte // body, signature, payload
	if err := cbor.Unmarshal(wires[7], &items); err != nil || len(items) != 3 {
		t.Fatalf("wire form: %v, %d items", err, len(items))
	}
	wires[7][bytes.Index(wires[7], items[1])+10] ^= 1 // a byte of the signature
	wires[50] = []byte{0x82, 0x01}

	var h Host
	h.sigs.leading = true // as if a check were running: every call waits
	got := make([]*protocol.Signed, len(wires))
	errs := make([]error, len(wires))
	var calls sync.WaitGroup
	for i, w := range wires {
		calls.Go(func() { got[i], errs[i] = h.decode(w) })
	}
	waitFor(t, "every event waiting for its check", func() bool {
		h.sigs.mu.Lock()
		defer h.sigs.mu.Unlock()
		return len(h.sigs.pending) == len(wires)
	})
	h.sigs.mu.Lock()
	h.sigs.leading = false // the check ends
	h.sigs.promoteLocked()
	h.sigs.mu.Unlock()
	calls.Wait()

	for i, w := range wires {
		alone, err := protocol.Decode(w)
		switch {
		case err != nil && (errs[i] == nil || got[i] != nil || errs[i].Error() != err.Error()):
			t.Errorf("event %d: batch %v, alone %v", i, errs[i], err)
		case err == nil && (errs[i] != nil || got[i] == nil || got[i].ID != alone.ID):
			t.Errorf("event %d: batch %v, alone valid", i, errs[i])
		}
	}
	if !errors.Is(errs[7], protocol.ErrBadSignature) {
		t.Errorf("forged event: %v, want ErrBadSignature", errs[7])
	}
	if want := uint64((len(wires) + maxSigBatch - 1) / maxSigBatch); h.stats.sigBatches.Load() != want {
		t.Errorf("%d events checked in %d batches, want %d", len(wires), h.stats.sigBatches.Load(), want)
	}
	if h.sigs.leading || len(h.sigs.pending) != 0 {
		t.Errorf("after the checks: still leading %v, %d waiting", h.sigs.leading, len(h.sigs.pending))
	}
}
