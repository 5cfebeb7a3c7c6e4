package p2p

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestNew(t *testing.T) {
	key := keyOf("a")
	fake := newFakeNode(idOf(key))
	other := idOf(keyOf("b"))
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Identity: key, Handler: fake}, true},
		{"partners", Config{Identity: key, Handler: fake, Partners: []string{
			"/ip4/192.0.2.1/tcp/4001/p2p/" + string(other), "/ip4/192.0.2.1/udp/4001/quic-v1/p2p/" + string(other)}}, true},
		{"no identity", Config{Handler: fake}, false},
		{"short identity", Config{Identity: key[:32], Handler: fake}, false},
		{"no handler", Config{Identity: key}, false},
		{"bad listen address", Config{Identity: key, Handler: fake, Listen: []string{"tcp:4001"}}, false},
		{"partner without /p2p/", Config{Identity: key, Handler: fake, Partners: []string{"/ip4/192.0.2.1/tcp/4001"}}, false},
		{"partner without transport", Config{Identity: key, Handler: fake, Partners: []string{"/p2p/" + string(other)}}, false},
		{"partner is self", Config{Identity: key, Handler: fake, Partners: []string{"/ip4/192.0.2.1/tcp/4001/p2p/" + string(idOf(key))}}, false},
		{"partner not ed25519", Config{Identity: key, Handler: fake, Partners: []string{
			"/ip4/192.0.2.1/tcp/4001/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"}}, false},
		{"redial bounds reversed", Config{Identity: key, Handler: fake, RedialMin: time.Minute, RedialMax: time.Second}, false},
		{"negative interval", Config{Identity: key, Handler: fake, SyncInterval: -time.Second}, false},
		{"seen TTL at its least", Config{Identity: key, Handler: fake, SeenTTL: DefaultValidateTimeout + 5*time.Second}, true},
		{"seen TTL shorter than a validation and the message cache", Config{Identity: key, Handler: fake,
			SeenTTL: DefaultValidateTimeout + 4*time.Second}, false},
		{"long validations lengthen the default seen TTL", Config{Identity: key, Handler: fake, ValidateTimeout: time.Minute}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				return
			}
			if h.ID() != idOf(key) {
				t.Errorf("ID = %s, want %s", h.ID(), idOf(key))
			}
			least := h.cfg.ValidateTimeout + gossipHistory()
			if h.cfg.SeenTTL < least || tc.cfg.SeenTTL == 0 && h.cfg.SeenTTL != max(DefaultSeenTTL, least) {
				t.Errorf("SeenTTL = %v with ValidateTimeout %v", h.cfg.SeenTTL, h.cfg.ValidateTimeout)
			}
			if h.Addrs() != nil {
				t.Errorf("Addrs before Run = %v", h.Addrs())
			}
			if len(tc.cfg.Partners) > 0 {
				ps := h.Partners()
				if len(ps) != 1 || ps[0].ID != other || len(ps[0].Addrs) != 2 || ps[0].Connected {
					t.Errorf("Partners = %+v", ps)
				}
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if d := jitter(time.Second); d < time.Second/2 || d >= 3*time.Second/2 {
			t.Fatalf("jitter(1s) = %v", d)
		}
	}
}

// TestPartnersOnly checks the gater: a node that is not a partner cannot
// connect, in either direction, and a removed partner is cut off.
func TestPartnersOnly(t *testing.T) {
	a := startHost(t, "a", nil)
	b := startHost(t, "b", nil)
	x := startHost(t, "x", nil)
	pair(t, a, b, "tcp")

	before := a.Stats().RefusedConns
	for _, transport := range []string{"tcp", "quic-v1"} {
		// x may see its handshake complete before a, checking x's ID,
		// closes the connection: what counts is that a refuses.
		if _, err := x.AddPartner(t.Context(), a.addr(t, transport)); err != nil && !errors.Is(err, ErrUnreachable) {
			t.Fatal(err)
		}
		waitFor(t, "a to refuse x over "+transport, func() bool { return a.Stats().RefusedConns > before })
		before = a.Stats().RefusedConns
	}
	if err := x.SyncRoom(t.Context(), a.ID(), protocol.RoomID{1}); err == nil || errors.Is(err, ErrRefused) {
		t.Errorf("x's sync with a: %v, want a failure to connect", err)
	}
	waitFor(t, "x cut off from a", func() bool { return !connected(x, a.ID()) })
	if err := a.SyncRoom(t.Context(), x.ID(), protocol.RoomID{1}); !errors.Is(err, ErrNotPartner) {
		t.Errorf("SyncRoom with a non-partner: %v, want ErrNotPartner", err)
	}

	// a cannot dial out to x either: x is not a's partner.
	lh := a.host()
	before = a.Stats().RefusedConns
	if err := lh.Connect(t.Context(), peer.AddrInfo{ID: x.self, Addrs: x.host().Addrs()}); err == nil {
		t.Error("a dialed a non-partner")
	}
	if got := a.Stats().RefusedConns; got <= before {
		t.Error("a's refused dial was not counted")
	}

	if err := a.RemovePartner(b.ID()); err != nil {
		t.Fatal(err)
	}
	if err := a.RemovePartner(b.ID()); !errors.Is(err, ErrNotPartner) {
		t.Errorf("second RemovePartner: %v, want ErrNotPartner", err)
	}
	waitFor(t, "b disconnected from a", func() bool { return !connected(b, a.ID()) })
	// b keeps redialing a, and a keeps refusing.
	before = a.Stats().RefusedConns
	waitFor(t, "a refusing b's redials", func() bool { return a.Stats().RefusedConns > before })
	if a.host().Network().Connectedness(b.self) == network.Connected {
		t.Error("a removed partner reconnected")
	}
	if got := a.Partners(); len(got) != 0 {
		t.Errorf("a's partners after removal: %+v", got)
	}
}

// TestStopped checks that a stopped host refuses work instead of hanging.
func TestStopped(t *testing.T) {
	a := startHost(t, "a", nil)
	create := newRoom(t, a.key, 1)
	a.fake.add(t, create)
	if err := a.Join(create.RoomID(), a.fake.nodes(create.RoomID())); err != nil {
		t.Fatal(err)
	}
	a.stop()
	if err := a.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}
	if err := a.Publish(t.Context(), create.RoomID(), create.Wire()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Publish after stop: %v, want ErrNotRunning", err)
	}
	if a.Addrs() != nil {
		t.Errorf("Addrs after stop: %v", a.Addrs())
	}
}

// TestRedial cuts a connection: the partners redial each other and sync
// on reconnecting.
func TestRedial(t *testing.T) {
	ka, kb := keyOf("a"), keyOf("b")
	ida, idb := idOf(ka), idOf(kb)
	create := newRoom(t, ka, 9, idb)
	fa, fb := newFakeNode(ida), newFakeNode(idb)
	fa.view(create.RoomID(), ida, idb)
	fb.view(create.RoomID(), ida, idb)
	fa.add(t, create)
	a, b := startHost(t, "a", fa), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	waitFor(t, "the first sync rounds", func() bool { return a.Stats().SyncRounds > 0 && b.Stats().SyncRounds > 0 })
	ra, rb := a.Stats().SyncRounds, b.Stats().SyncRounds
	if err := a.host().Network().ClosePeer(b.self); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnecting and syncing", func() bool {
		return connected(a, b.ID()) && connected(b, a.ID()) && a.Stats().SyncRounds > ra && b.Stats().SyncRounds > rb
	})
}

func TestParseAddr(t *testing.T) {
	id := idOf(keyOf("b"))
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"/ip4/192.0.2.1/tcp/4001/p2p/" + string(id), true},
		{"/ip4/192.0.2.1/udp/4001/quic-v1/p2p/" + string(id), true},
		{"/dns4/example.com/tcp/4001/p2p/" + string(id), true},
		{"/ip4/192.0.2.1/tcp/4001", false},
		{"/p2p/" + string(id), false},
		{"/ip4/192.0.2.1/tcp/4001/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", false},
		{"192.0.2.1:4001", false},
		{"", false},
	} {
		got, err := ParseAddr(tc.addr)
		if (err == nil) != tc.ok || tc.ok && got != id {
			t.Errorf("ParseAddr(%q) = %q, %v; want ok=%v", tc.addr, got, err, tc.ok)
		}
	}
}

// TestFailedRoundResumesOnReconnect: a's sync rounds with b fail, first
// because b does not know a yet (pair: b refuses a's first connection),
// then because a cannot store; so a backs off. Its backoff is long, but
// a new connection ends it at once, and a catches up. Before, a slept
// out a backoff of up to RedialMax (5 minutes by default) that nothing
// could wake, and that a connection did not reset: partners that added
// each other a moment apart, or a link cut mid-round, stalled sync for
// minutes.
func TestFailedRoundResumesOnReconnect(t *testing.T) {
	create, fa, fb := sharedRoom(t, 31)
	room := create.RoomID()
	fa.mu.Lock()
	fa.fail = fmt.Errorf("accept: %w: %w", ErrNotStored, errors.New("disk full"))
	fa.mu.Unlock()
	fb.add(t, posts(t, keyOf("b"), "bob", room, []protocol.Order{create.Order()}, 3)...)
	slow := func(c *Config) { c.RedialMin, c.RedialMax, c.SyncInterval = time.Hour, time.Hour, time.Hour }
	a, b := startHost(t, "a", fa, slow), startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	waitFor(t, "a's round to fail", func() bool { return fa.acceptCalls() > 0 })

	fa.mu.Lock()
	fa.fail = nil
	fa.mu.Unlock()
	if err := a.host().Network().ClosePeer(b.self); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to catch up once b reconnects", func() bool { return fa.count(room) == 4 })
}
