package p2p

import (
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"

	"github.com/horenso/horenso/protocol"
)

// TestVerifyRoom compares a room between two hosts: the same events, then
// a difference each way; a room the partner does not share with the
// requester is refused, and a node that is not a partner is not asked.
func TestVerifyRoom(t *testing.T) {
	create, fa, fb := sharedRoom(t, 40)
	room := create.RoomID()
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	// A round that succeeded shows in b's health on a. One may fail
	// first: b refuses a until b has added a as a partner too.
	waitFor(t, "a's round with b", func() bool { h := a.Health(b.ID()); return h.SyncRounds > 0 && !h.LastSync.IsZero() })
	if h := a.Health(b.ID()); h.LastSeen.IsZero() || h.SyncFailed >= h.SyncRounds {
		t.Fatalf("b's health on a: %+v", h)
	}

	c, err := a.VerifyRoom(t.Context(), b.ID(), room)
	if err != nil || !c.Same {
		t.Fatalf("same room: %+v, %v", c, err)
	}

	// a gets a post b lacks. A sync round of a second connection may
	// still bring it to b meanwhile; then the next post is the one b
	// lacks.
	mine := posts(t, keyOf("a"), "alice", room, []protocol.Order{create.Order()}, 3)
	for i, e := range mine {
		fa.add(t, e)
		ca, erra := a.VerifyRoom(t.Context(), b.ID(), room)
		cb, errb := b.VerifyRoom(t.Context(), a.ID(), room)
		if fb.count(room) > 1+i && i < len(mine)-1 {
			continue // b pulled it
		}
		if erra != nil || ca.Same || len(ca.Lacking) != 1 || ca.Lacking[0] != e.ID || len(ca.Missing) != 0 {
			t.Fatalf("b lacks a's post: %+v, %v", ca, erra)
		}
		if errb != nil || cb.Same || len(cb.Missing) != 1 || cb.Missing[0] != e.ID || len(cb.Lacking) != 0 {
			t.Fatalf("b's view: %+v, %v", cb, errb)
		}
		break
	}

	// A room b does not share with a: refused.
	other := newRoom(t, keyOf("a"), 41, b.ID())
	fa.view(other.RoomID(), a.ID(), b.ID())
	fa.add(t, other)
	if _, err := a.VerifyRoom(t.Context(), b.ID(), other.RoomID()); !errors.Is(err, ErrRefused) {
		t.Fatalf("a room b does not share: %v, want ErrRefused", err)
	}
	if _, err := a.VerifyRoom(t.Context(), idOf(keyOf("z")), room); !errors.Is(err, ErrNotPartner) {
		t.Fatalf("not a partner: %v, want ErrNotPartner", err)
	}
}

// TestVerifyAgainstOthers: a partner without the verify protocol is
// named as such; one that answers garbage is counted as misbehaving.
func TestVerifyAgainstOthers(t *testing.T) {
	create, fa, _ := sharedRoom(t, 42)
	a := startHost(t, "a", fa)
	m := startRawHost(t, "m")
	if _, err := a.AddPartner(t.Context(), m.addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyRoom(t.Context(), idOf(keyOf("m")), create.RoomID()); !errors.Is(err, ErrNoVerify) {
		t.Fatalf("a partner without verify: %v, want ErrNoVerify", err)
	}
	m.SetStreamHandler(libp2pproto.ID(protocol.VerifyProtocolID), func(s network.Stream) {
		defer s.Close()
		var req protocol.VerifyRequest
		if err := protocol.ReadVerify(s, &req); err != nil {
			s.Reset()
			return
		}
		s.Write(prefixed([]byte{0xff, 0x00}))
	})
	before := a.Stats().SyncMisbehaved
	if _, err := a.VerifyRoom(t.Context(), idOf(keyOf("m")), create.RoomID()); !errors.Is(err, ErrMisbehaved) {
		t.Fatalf("a garbage answer: %v, want ErrMisbehaved", err)
	}
	if a.Stats().SyncMisbehaved != before+1 {
		t.Fatalf("misbehaved count %d, want %d", a.Stats().SyncMisbehaved, before+1)
	}
}
