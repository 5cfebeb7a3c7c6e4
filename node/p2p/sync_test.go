package p2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
)

// TestCatchUpAfterRestart stops b, lets a take in 2,000 events, and
// restarts b: b catches up in one sync round trip, in bulk.
func TestCatchUpAfterRestart(t *testing.T) {
	create, fa, fb := sharedRoom(t, 4)
	room := create.RoomID()
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")

	b.stop()
	waitFor(t, "a to see b gone", func() bool { return !connected(a, b.ID()) })
	const n = 2000
	fa.add(t, posts(t, a.key, "alice", room, []protocol.Order{create.Order()}, n)...)

	// b comes back on another port; it knows a from its (persisted)
	// partner list, a still has b's old address.
	b = startHost(t, "b", fb, func(c *Config) { c.Partners = []string{a.addr(t, "tcp")} })
	// Checking 2,000 signatures under the race detector on a busy
	// machine takes a while.
	waitWithin(t, time.Minute, "b to catch up", func() bool { return fb.count(room) == n+1 && b.Stats().SyncEvents >= n })
	st := b.Stats()
	t.Logf("b's sync stats: rounds %d, requests %d, frames %d, events %d", st.SyncRounds, st.SyncRequests, st.SyncFrames, st.SyncEvents)
	// In bulk: frames of up to serveBatchBytes, as full as they can be
	// (2,000 posts of room version 3 are some 600 KiB), and one more
	// that ends the answer.
	if maxFrames := int(fb.bytes(room)/serveBatchBytes) + 2; st.SyncRequests > 2 || st.SyncFrames > uint64(maxFrames) {
		t.Errorf("catching up on %d events took %d round trips and %d frames, want at most %d", n, st.SyncRequests, st.SyncFrames, maxFrames)
	}
	if st.SyncEvents != n || st.SyncHeld != 0 || st.SyncMisbehaved != 0 { // b lacked every event
		t.Errorf("b's stats: %+v", st)
	}
	if calls := fb.acceptCalls(); calls > 4 {
		t.Errorf("b's node was called %d times to accept %d events", calls, n)
	}
	// a's node was told who asked: what it serves may depend on it (the
	// room's history visibility).
	if fa.missingCalls(b.ID()) == 0 || fa.missingCalls(a.ID()) != 0 {
		t.Errorf("a's node served b %d times and itself %d times", fa.missingCalls(b.ID()), fa.missingCalls(a.ID()))
	}
}

// TestInvitePullsRoom: a's account adds a member on c, which holds
// nothing of the room yet. a names the room in its sync request; c, which
// does not hold it, pulls it back.
func TestInvitePullsRoom(t *testing.T) {
	ka, kc := keyOf("a"), keyOf("c")
	ida, idc := idOf(ka), idOf(kc)
	create := newRoom(t, ka, 5, idc)
	room := create.RoomID()
	fa, fc := newFakeNode(ida), newFakeNode(idc)
	fa.view(room, ida, idc)
	fa.add(t, create)
	fa.add(t, posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 10)...)
	a, c := startHost(t, "a", fa), startHost(t, "c", fc)
	pair(t, a, c, "tcp")
	waitFor(t, "c to pull the room", func() bool { return fc.count(room) == 11 })
	// c's view still has no member in the room: it refuses to serve it.
	if err := a.SyncRoom(t.Context(), c.ID(), room); !errors.Is(err, ErrRefused) {
		t.Errorf("a's sync from c: %v, want ErrRefused", err)
	}
}

// rawHost is a bare libp2p host that speaks the sync protocol badly.
type rawHost struct {
	host.Host
	respond atomic.Pointer[func(network.Stream)] // how it answers a request
}

func startRawHost(t *testing.T, name string, opts ...libp2p.Option) *rawHost {
	t.Helper()
	key, err := crypto.UnmarshalEd25519PrivateKey(keyOf(name))
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(), libp2p.ResourceManager(&network.NullResourceManager{}))
	lh, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lh.Close() })
	m := &rawHost{Host: lh}
	lh.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolID), func(s network.Stream) {
		defer s.Close()
		if _, err := protocol.ReadFrame(s); err != nil {
			s.Reset()
			return
		}
		if f := m.respond.Load(); f != nil {
			(*f)(s)
			return
		}
		b, _ := protocol.AppendFrame(nil, &protocol.SyncDone{})
		s.Write(b)
	})
	return m
}

func (m *rawHost) addr() string {
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: m.ID(), Addrs: m.Addrs()})
	return addrs[0].String()
}

func frameBytes(t *testing.T, f protocol.SyncFrame) []byte {
	t.Helper()
	b, err := protocol.AppendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func prefixed(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestHostileSync has a partner m send bad frames, as requester and as
// responder: each time a resets the stream and counts it, and honest sync
// with b keeps working.
func TestHostileSync(t *testing.T) {
	ka, kb, km := keyOf("a"), keyOf("b"), keyOf("m")
	ida, idb, idm := idOf(ka), idOf(kb), idOf(km)
	create := newRoom(t, ka, 7, idb, idm)
	room := create.RoomID()
	other := newRoom(t, ka, 8)
	fa, fb := newFakeNode(ida), newFakeNode(idb)
	fa.view(room, ida, idb, idm)
	fa.view(other.RoomID(), ida)
	fb.view(room, ida, idb)
	fa.add(t, create, other)
	es := posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 20)
	fa.add(t, es...)
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	m := startRawHost(t, "m")
	if _, err := a.AddPartner(t.Context(), m.addr()); err != nil {
		t.Fatal(err)
	}
	// m's own (valid) event, which a's node refuses: m's node hosts no
	// member.
	intruder := posts(t, km, "mallory", room, []protocol.Order{create.Order()}, 1)[0]
	// Events a does not hold: a skips held ones unchecked, since their IDs
	// hash their bodies and so nothing new could be stored from them.
	stranger := newRoom(t, ka, 9)
	unsent := posts(t, ka, "alice", room, []protocol.Order{es[len(es)-1].Order()}, 1)[0]
	corrupt := bytes.Clone(unsent.Wire())
	corrupt[len(corrupt)-1] ^= 1
	version2, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	v2, err := version2.Marshal(map[uint64]any{1: 2, 2: 1, 3: map[uint64]any{1: []any{map[uint64]any{1: room[:]}}}})
	if err != nil {
		t.Fatal(err)
	}
	tooLarge := binary.BigEndian.AppendUint32(nil, protocol.MaxFrameSize+1)

	honest := func(t *testing.T) {
		t.Helper()
		if err := b.SyncRoom(t.Context(), a.ID(), room); err != nil {
			t.Fatalf("honest sync: %v", err)
		}
	}

	t.Run("requester", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			send []byte
		}{
			{"oversized frame", tooLarge},
			{"malformed frame", prefixed([]byte{0xa3, 0x01})},
			{"unknown version", prefixed(v2)},
			{"events instead of a request", frameBytes(t, &protocol.SyncEvents{Room: room, Events: [][]byte{create.Wire()}})},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := a.Stats().SyncMisbehaved
				s, err := m.NewStream(t.Context(), a.self, libp2pproto.ID(protocol.SyncProtocolID))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Write(tc.send); err != nil {
					t.Fatal(err)
				}
				if got, err := io.ReadAll(s); err == nil || len(got) > 0 {
					t.Errorf("a answered %x, %v; want a reset", got, err)
				}
				waitFor(t, "a to count the misbehaviour", func() bool { return a.Stats().SyncMisbehaved > before })
				honest(t)
			})
		}
	})

	t.Run("room not shared", func(t *testing.T) {
		s, err := m.NewStream(t.Context(), a.self, libp2pproto.ID(protocol.SyncProtocolID))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.Write(frameBytes(t, &protocol.SyncRequest{Rooms: []protocol.SyncWant{{Room: other.RoomID()}}}))
		f, err := protocol.ReadFrame(s)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := f.(*protocol.SyncDone); !ok || len(d.Refused) != 1 || d.Refused[0] != other.RoomID() {
			t.Errorf("a answered %#v, want a refusal", f)
		}
	})

	t.Run("responder", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			send []byte
		}{
			{"oversized frame", tooLarge},
			{"malformed frame", prefixed([]byte{0xff, 0xff})},
			{"a request instead of an answer", frameBytes(t, &protocol.SyncRequest{Rooms: []protocol.SyncWant{{Room: room}}})},
			{"events of a room not requested", frameBytes(t, &protocol.SyncEvents{Room: other.RoomID(), Events: [][]byte{other.Wire()}})},
			{"an event of another room", frameBytes(t, &protocol.SyncEvents{Room: room, Events: [][]byte{stranger.Wire()}})},
			{"a corrupt event", frameBytes(t, &protocol.SyncEvents{Room: room, Events: [][]byte{create.Wire(), corrupt}})},
			{"an event the node refuses", frameBytes(t, &protocol.SyncEvents{Room: room, Events: [][]byte{intruder.Wire()}})},
		} {
			t.Run(tc.name, func(t *testing.T) {
				respond := func(s network.Stream) { s.Write(tc.send) }
				m.respond.Store(&respond)
				defer m.respond.Store(nil)
				before := a.Stats().SyncMisbehaved
				if err := a.SyncRoom(t.Context(), idm, room); !errors.Is(err, ErrMisbehaved) {
					t.Errorf("SyncRoom from m: %v, want ErrMisbehaved", err)
				}
				if got := a.Stats().SyncMisbehaved; got <= before {
					t.Errorf("misbehaviour not counted")
				}
				honest(t)
			})
		}
	})

	if fb.count(room) != len(es)+1 {
		t.Errorf("b holds %d events, want %d", fb.count(room), len(es)+1)
	}
	if fa.count(room) != len(es)+1 {
		t.Errorf("a holds %d events, want %d: it took in something bad", fa.count(room), len(es)+1)
	}
}

// TestSecurityTransports connects peers that offer only Noise, or only
// TLS: the host speaks both.
func TestSecurityTransports(t *testing.T) {
	a := startHost(t, "a", nil)
	for _, tc := range []struct {
		name string
		id   libp2pproto.ID
		opt  libp2p.Option
	}{
		{"noise", noise.ID, libp2p.Security(noise.ID, noise.New)},
		{"tls", tls.ID, libp2p.Security(tls.ID, tls.New)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startRawHost(t, "m-"+tc.name, tc.opt)
			if _, err := a.AddPartner(t.Context(), m.addr()); err != nil {
				t.Fatalf("dial a %s-only partner: %v", tc.name, err)
			}
			conns := a.host().Network().ConnsToPeer(m.ID())
			if len(conns) == 0 || conns[0].ConnState().Security != tc.id {
				t.Errorf("connections %v, want one secured by %s", conns, tc.id)
			}
		})
	}
}

// TestServeUntilRemoval: in a's view, bob on b was removed from a room
// (a's removal event r) and alice posted since; b missed it all, and bob
// posted meanwhile. When b syncs the room, a refuses it, but sends it the
// room up to r, and nothing after, and pulls back bob's post. c, which
// never had a member in the room, gets nothing.
func TestServeUntilRemoval(t *testing.T) {
	ka, kb, kc := keyOf("a"), keyOf("b"), keyOf("c")
	ida, idb, idc := idOf(ka), idOf(kb), idOf(kc)
	create := newRoom(t, ka, 9, idb)
	room := create.RoomID()
	fa, fb, fc := newFakeNode(ida), newFakeNode(idb), newFakeNode(idc)
	before := posts(t, ka, "alice", room, []protocol.Order{create.Order()}, 3)
	removal := signNext(t, ka, "alice", room, []protocol.Order{before[2].Order()}, 10,
		&protocol.MemberRemove{Account: protocol.NewAccountID(idb, "bob")})
	after := posts(t, ka, "alice", room, []protocol.Order{removal.Order()}, 2)
	fa.add(t, create)
	fa.add(t, before...)
	fa.add(t, removal)
	fa.add(t, after...)
	fa.view(room, ida)
	fa.removal(room, idb, removal.ID)
	bobs := posts(t, kb, "bob", room, []protocol.Order{create.Order()}, 1)[0]
	fb.add(t, create, bobs)
	fb.view(room, ida, idb)
	fc.add(t, create)
	fc.view(room, ida, idb, idc)

	a, b, c := startHost(t, "a", fa), startHost(t, "b", fb), startHost(t, "c", fc)
	pair(t, a, b, "tcp")
	pair(t, a, c, "tcp")
	if err := b.SyncRoom(t.Context(), a.ID(), room); !errors.Is(err, ErrRefused) {
		t.Errorf("b's sync of the room with a: %v, want ErrRefused", err)
	}
	waitFor(t, "b to hold the room up to its removal", func() bool { return fb.Held(t.Context(), []protocol.EventID{removal.ID}, nil)[0] })
	if got := fb.count(room); got != 6 {
		t.Errorf("b holds %d events, want 6: the create, bob's post, alice's 3 posts and the removal", got)
	}
	for _, e := range after {
		if fb.Held(t.Context(), []protocol.EventID{e.ID}, nil)[0] {
			t.Errorf("b holds %s, posted after its removal", e.ID)
		}
	}
	waitFor(t, "a to pull back bob's post", func() bool { return fa.Held(t.Context(), []protocol.EventID{bobs.ID}, nil)[0] })
	if st := a.Stats(); st.SyncServedRemoval == 0 {
		t.Errorf("a's stats count no room served up to a removal: %+v", st)
	}

	if err := c.SyncRoom(t.Context(), a.ID(), room); !errors.Is(err, ErrRefused) {
		t.Errorf("c's sync of the room with a: %v, want ErrRefused", err)
	}
	if got := fc.count(room); got != 1 {
		t.Errorf("c, never in the room, holds %d events of it, want only the create it had", got)
	}
}

// TestSyncNamesChainsByProtocol: a sync request names the requester's
// chain positions on a stream of the current protocol, and none on one of
// protocol.SyncProtocolV1, which a partner not yet upgraded speaks (its
// decoder refuses the key), and a sync with such a partner works.
func TestSyncNamesChainsByProtocol(t *testing.T) {
	create, fa, fb := sharedRoom(t, 11)
	room := create.RoomID()
	chains := []protocol.ChainPos{{Origin: idOf(keyOf("a")), Seq: 1, ID: create.ID}}
	fb.mu.Lock()
	fb.chains = map[protocol.RoomID][]protocol.ChainPos{room: chains}
	fb.mu.Unlock()
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	if err := b.SyncRoom(t.Context(), a.ID(), room); err != nil {
		t.Fatal(err)
	}
	fa.mu.Lock()
	asked := slices.Clone(fa.asked)
	fa.mu.Unlock()
	if len(asked) == 0 || !reflect.DeepEqual(asked[len(asked)-1].Chains, chains) {
		t.Errorf("a's node was asked with %+v, want the chains %+v", asked, chains)
	}

	old := startRawHost(t, "old")
	old.RemoveStreamHandler(libp2pproto.ID(protocol.SyncProtocolID))
	requests := make(chan *protocol.SyncRequest, 64)
	old.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolV1), func(s network.Stream) {
		defer s.Close()
		f, err := protocol.ReadFrame(s)
		if err != nil {
			s.Reset()
			return
		}
		select {
		case requests <- f.(*protocol.SyncRequest):
		default: // never block the answer: SyncRoom waits for it
		}
		s.Write(frameBytes(t, &protocol.SyncDone{}))
	})
	if _, err := b.AddPartner(t.Context(), old.addr()); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncRoom(t.Context(), idOf(keyOf("old")), room); err != nil {
		t.Fatalf("sync with a partner speaking sync/1: %v", err)
	}
	for {
		req := <-requests // the one SyncRoom sent is among those already made
		for _, w := range req.Rooms {
			if len(w.Chains) > 0 {
				t.Fatalf("a sync/1 request names chains: %+v", w)
			}
		}
		if len(requests) == 0 {
			break
		}
	}
}
