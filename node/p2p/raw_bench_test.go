package p2p

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/horenso/horenso/node/bench/measure"
)

// This file holds the physical limits that node/bench's federation
// benchmarks are compared with: bare libp2p hosts with the transports,
// security and gossipsub settings Host.Run uses, doing nothing but carrying
// bytes. They leave out what makes a Horenso node: decoding and verifying
// events, storing them durably, the change feed and the HTTP event stream.

// Sizes of the payloads, so that the raw benchmarks carry what node/bench's
// carry: the wire sizes of the events those benchmarks make, message posts
// with 100-byte bodies, as their log lines report them (the node's
// Handler.Missing over the room, summing len(wire)).
const (
	// gsLatencyPayload: BenchmarkCrossNodeLatency's posts, one parent
	// each (one node's posts form a chain): 339–340 B.
	gsLatencyPayload = 340
	// gsFanOutPayload: BenchmarkFanOut's posts, on average; posts from
	// 10 nodes at once have several parents: 358–367 B.
	gsFanOutPayload = 362
	// catchUpEventBytes: BenchmarkCatchUp's events, on average:
	// 34,068,694 bytes for 100,000 events.
	catchUpEventBytes = 341
)

// gsSize returns full, or quick under -short (make bench-quick).
func gsSize[T any](full, quick T) T {
	if testing.Short() {
		return quick
	}
	return full
}

// gsTopic is the raw benchmarks' topic.
const gsTopic = "/horenso/bench"

// gsPeer is a bare libp2p host with gossipsub set up as Host.Run sets it
// up (without the subscription and peer filters, which only decide who
// may take part), relaying gsTopic. Its validator does no work: it
// records when each message first arrives and accepts it.
type gsPeer struct {
	host   host.Host
	cancel context.CancelFunc // stops pubsub
	topic  *pubsub.Topic
	relay  pubsub.RelayCancelFunc
	// arrived[i] is the unix nanoseconds when message i reached the
	// validator, 0 before; warm-up messages count in warm.
	arrived []atomic.Int64
	count   atomic.Int64
	warm    atomic.Int64
	drops   gsDrops
}

// gsDrops counts what pubsub dropped, as Host's tracer does.
type gsDrops struct {
	received atomic.Int64 // messages dropped before validation: queue full or throttled
	sent     atomic.Int64 // RPCs dropped because a peer's outbound queue was full
}

var _ pubsub.RawTracer = (*gsDrops)(nil)

func (d *gsDrops) RejectMessage(_ *pubsub.Message, reason string) {
	if reason == pubsub.RejectValidationQueueFull || reason == pubsub.RejectValidationThrottled {
		d.received.Add(1)
	}
}

func (d *gsDrops) DropRPC(*pubsub.RPC, peer.ID)                         { d.sent.Add(1) }
func (d *gsDrops) RecvRPC(*pubsub.RPC)                                  {}
func (d *gsDrops) DuplicateMessage(*pubsub.Message)                     {}
func (d *gsDrops) UndeliverableMessage(*pubsub.Message)                 {}
func (d *gsDrops) ThrottlePeer(peer.ID)                                 {}
func (d *gsDrops) AddPeer(peer.ID, libp2pproto.ID)                      {}
func (d *gsDrops) RemovePeer(peer.ID)                                   {}
func (d *gsDrops) OnNewOutboundStream(peer.ID, libp2pproto.ID)          {}
func (d *gsDrops) OnClosedOutboundStream(peer.ID)                       {}
func (d *gsDrops) Join(string)                                          {}
func (d *gsDrops) Leave(string)                                         {}
func (d *gsDrops) Graft(peer.ID, string)                                {}
func (d *gsDrops) Prune(peer.ID, string)                                {}
func (d *gsDrops) ValidateMessage(*pubsub.Message)                      {}
func (d *gsDrops) DeliverMessage(*pubsub.Message)                       {}
func (d *gsDrops) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (d *gsDrops) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}

// gsWarm marks a warm-up message's index.
const gsWarm = ^uint64(0)

// newBareHost starts a libp2p host on 127.0.0.1 with Host.Run's options
// (minus the partner gater).
func newBareHost(b *testing.B) host.Host {
	b.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	lh, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(&connmgr.NullConnMgr{}),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.UDPBlackHoleSuccessCounter(nil),
		libp2p.IPv6BlackHoleSuccessCounter(nil),
		libp2p.UserAgent("horenso-bench"),
	)
	if err != nil {
		b.Fatal(err)
	}
	return lh
}

// newGSPeer starts a gsPeer expecting messages 0 … n-1.
func newGSPeer(b *testing.B, n int) *gsPeer {
	b.Helper()
	lh := newBareHost(b)
	ctx, cancel := context.WithCancel(context.Background())
	g := &gsPeer{host: lh, cancel: cancel, arrived: make([]atomic.Int64, n)}
	ps, err := pubsub.NewGossipSub(ctx, lh,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerOutboundQueueSize(DefaultOutboundQueueSize),
		pubsub.WithValidateQueueSize(DefaultValidateQueueSize),
		pubsub.WithValidateThrottle(DefaultValidateConcurrency),
		pubsub.WithRawTracer(&g.drops),
		pubsub.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err == nil {
		err = ps.RegisterTopicValidator(gsTopic, g.validate,
			pubsub.WithValidatorTimeout(DefaultValidateTimeout),
			pubsub.WithValidatorConcurrency(DefaultValidateConcurrency))
	}
	if err == nil {
		g.topic, err = ps.Join(gsTopic)
	}
	if err == nil {
		g.relay, err = g.topic.Relay()
	}
	if err != nil {
		g.close()
		b.Fatal(err)
	}
	return g
}

func (g *gsPeer) validate(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == g.host.ID() {
		return pubsub.ValidationAccept
	}
	now := time.Now().UnixNano()
	data := msg.GetData()
	if len(data) < 8 {
		return pubsub.ValidationReject
	}
	switch i := binary.BigEndian.Uint64(data); {
	case i == gsWarm:
		g.warm.Add(1)
	case i < uint64(len(g.arrived)):
		if g.arrived[i].CompareAndSwap(0, now) {
			g.count.Add(1)
		}
	}
	return pubsub.ValidationAccept
}

// publish publishes message i (gsWarm for a warm-up message), of size
// bytes, made unique by nonce.
func (g *gsPeer) publish(ctx context.Context, i uint64, nonce uint64, size int) error {
	data := make([]byte, size)
	binary.BigEndian.PutUint64(data, i)
	binary.BigEndian.PutUint64(data[8:], nonce)
	return g.topic.Publish(ctx, data)
}

// close stops pubsub and the host.
func (g *gsPeer) close() {
	if g.relay != nil {
		g.relay()
	}
	if g.topic != nil {
		g.topic.Close()
	}
	g.cancel()
	g.host.Close()
}

// startGSPeers starts n peers expecting msgs messages, connects every pair,
// as nodetest partners every pair of nodes, and waits until a warm-up
// message from every peer reaches every other within a second.
func startGSPeers(b *testing.B, n, msgs, size int) []*gsPeer {
	b.Helper()
	ctx := b.Context()
	peers := make([]*gsPeer, n)
	for i := range peers {
		peers[i] = newGSPeer(b, msgs)
	}
	for i, x := range peers {
		for _, y := range peers[i+1:] {
			if err := x.host.Connect(ctx, peer.AddrInfo{ID: y.host.ID(), Addrs: y.host.Addrs()}); err != nil {
				gsClose(peers)
				b.Fatal(err)
			}
		}
	}
	ok := gsAwait(30*time.Second, func() bool {
		for _, g := range peers {
			if len(g.topic.ListPeers()) < n-1 {
				return false
			}
		}
		return true
	})
	if !ok {
		gsClose(peers)
		b.Fatal("peers do not see each other's subscriptions")
	}
	var nonce uint64
	for range 30 {
		for _, g := range peers {
			nonce++
			if err := g.publish(ctx, gsWarm, nonce, size); err != nil {
				gsClose(peers)
				b.Fatal(err)
			}
		}
		want := int64(nonce) / int64(n) * int64(n-1)
		if gsAwait(time.Second, func() bool {
			for _, g := range peers {
				if g.warm.Load() < want {
					return false
				}
			}
			return true
		}) {
			return peers
		}
	}
	gsClose(peers)
	b.Fatal("gossip does not reach every peer within a second")
	return nil
}

// gsClose closes peers.
func gsClose(peers []*gsPeer) {
	for _, g := range peers {
		g.close()
	}
}

// gsAwait polls cond every millisecond until it holds (true) or timeout
// passes (false).
func gsAwait(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// gsRun publishes n messages of size bytes at rate from the first
// publishers of peers (message i from peer i mod publishers), then waits until every peer has every
// message from the others, or for grace after the last publication. It
// returns the latency of every (message, receiving peer) pair, a message
// that never arrived counting with the time waited for it, and the worst
// peer's delivered percentage.
func gsRun(b *testing.B, peers []*gsPeer, publishers, n int, rate float64, dur time.Duration, size int) ([]time.Duration, float64) {
	ctx := b.Context()
	sent := make([]time.Time, n)
	posted := measure.Pace(ctx, n, rate, 64, time.Now().Add(2*dur), func(i int) {
		sent[i] = time.Now()
		if err := peers[i%publishers].publish(ctx, uint64(i), 0, size); err != nil {
			b.Error(err)
		}
	})
	want := make([]int64, len(peers)) // messages from the other peers
	for i := range n {
		if !sent[i].IsZero() {
			for k := range peers {
				if k != i%publishers {
					want[k]++
				}
			}
		}
	}
	const grace = 5 * time.Second
	gsAwait(grace, func() bool {
		for k, g := range peers {
			if g.count.Load() < want[k] {
				return false
			}
		}
		return true
	})
	end := time.Now()
	var lat []time.Duration
	delivered := 100.0
	for k, g := range peers {
		have := 0
		for i := range n {
			if sent[i].IsZero() || k == i%publishers {
				continue
			}
			if at := g.arrived[i].Load(); at != 0 {
				have++
				lat = append(lat, time.Unix(0, at).Sub(sent[i]))
			} else {
				lat = append(lat, end.Sub(sent[i]))
			}
		}
		if want[k] > 0 {
			delivered = min(delivered, 100*float64(have)/float64(want[k]))
		}
	}
	if posted < n || delivered < 100 {
		var dropped, unsent int64
		for _, g := range peers {
			dropped += g.drops.received.Load()
			unsent += g.drops.sent.Load()
		}
		b.Logf("%d peers at %v msg/s: published %d of %d; worst peer received %.2f%%; all peers: validation queue full or throttled %d, send queue full %d",
			len(peers), rate, posted, n, delivered, dropped, unsent)
	}
	return lat, delivered
}

// BenchmarkGossipsubLatency is the physical limit of node/bench's
// BenchmarkCrossNodeLatency: one bare gossipsub host publishes
// gsLatencyPayload-byte messages to another on 127.0.0.1 (TCP, Noise,
// yamux; gossipsub with Horenso's settings) at 20 msg/s (rate=low) or
// 1,000 msg/s for 10 s (2 s under -short). Latency is from the Publish
// call to the receiver's validator, p50 and p99 over every message.
func BenchmarkGossipsubLatency(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"low", 20}, {"1000", 1000}} {
		b.Run("rate="+tc.name, func(b *testing.B) {
			dur := gsSize(10*time.Second, 2*time.Second)
			n := int(tc.rate * dur.Seconds())
			var lat []time.Duration
			for range b.N {
				peers := startGSPeers(b, 2, n, gsLatencyPayload)
				l, _ := gsRun(b, peers, 1, n, tc.rate, dur, gsLatencyPayload)
				gsClose(peers)
				lat = append(lat, l...)
			}
			b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.5)), "p50-ms")
			b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.99)), "p99-ms")
		})
	}
}

// BenchmarkGossipsubFanOut is the physical limit of node/bench's
// BenchmarkFanOut: 10 bare gossipsub hosts on 127.0.0.1, every pair
// connected, publish gsFanOutPayload-byte messages at 1,000 msg/s in all,
// round-robin over the hosts, for 30 s (3 s under -short). delivered-% is
// the worst host's share of the others' messages that reached its
// validator within 5 s of the last publication (gossip only: there is no
// sync to repair loss); p50-ms and p99-ms are over every (message,
// receiving host) pair, from the Publish call.
func BenchmarkGossipsubFanOut(b *testing.B) {
	const hosts, rate = 10, 1000.0
	dur := gsSize(30*time.Second, 3*time.Second)
	n := int(rate * dur.Seconds())
	var lat []time.Duration
	delivered := 100.0
	for range b.N {
		peers := startGSPeers(b, hosts, n, gsFanOutPayload)
		l, d := gsRun(b, peers, hosts, n, rate, dur, gsFanOutPayload)
		gsClose(peers)
		lat = append(lat, l...)
		delivered = min(delivered, d)
	}
	b.ReportMetric(delivered, "delivered-%")
	b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.99)), "p99-ms")
	b.ReportMetric(measure.Ms(measure.Quantile(lat, 0.5)), "p50-ms")
}

// gsTransferProtocol is the raw stream benchmark's protocol.
const gsTransferProtocol = libp2pproto.ID("/horenso/bench/transfer/1")

// BenchmarkStreamTransfer is the physical limit of node/bench's
// BenchmarkCatchUp: the bytes of its 100,000 events (5,000 under -short;
// catchUpEventBytes each) over one libp2p stream between two hosts on
// 127.0.0.1, with Host.Run's transports and security, in writes of 1 MiB
// (the sync responder's frame batch). transfer-s runs from dialing the
// peer (TCP, Noise and yamux handshakes: a reconnection) until the
// receiver has read the last byte; each iteration makes a new connection.
func BenchmarkStreamTransfer(b *testing.B) {
	total := gsSize(100_000, 5_000) * catchUpEventBytes
	src, dst := newBareHost(b), newBareHost(b)
	defer src.Close()
	defer dst.Close()
	received := make(chan int64, 1)
	dst.SetStreamHandler(gsTransferProtocol, func(s network.Stream) {
		n, err := io.Copy(io.Discard, s)
		if err != nil {
			s.Reset()
			n = -1
		} else {
			s.Close()
		}
		received <- n
	})
	ctx := b.Context()
	chunk := make([]byte, serveBatchBytes)
	var took time.Duration
	for range b.N {
		start := time.Now()
		if err := src.Connect(ctx, peer.AddrInfo{ID: dst.ID(), Addrs: dst.Addrs()}); err != nil {
			b.Fatal(err)
		}
		if err := gsSend(ctx, src, dst.ID(), chunk, total); err != nil {
			b.Fatal(err)
		}
		if n := <-received; n != int64(total) {
			b.Fatalf("received %d bytes, sent %d", n, total)
		}
		took += time.Since(start)
		if err := src.Network().ClosePeer(dst.ID()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "transfer-s")
	b.ReportMetric(float64(total)/1e6, "MB")
	b.ReportMetric(float64(total)/1e6*float64(b.N)/took.Seconds(), "MB/s") // the limit of node/bench's BenchmarkPartnerFile
}

// gsSend opens a transfer stream to p and writes total bytes in chunks.
func gsSend(ctx context.Context, h host.Host, p peer.ID, chunk []byte, total int) error {
	s, err := h.NewStream(ctx, p, gsTransferProtocol)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	for left := total; left > 0; {
		k := min(left, len(chunk))
		if _, err := s.Write(chunk[:k]); err != nil {
			s.Reset()
			return fmt.Errorf("write: %w", err)
		}
		left -= k
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return fmt.Errorf("close write: %w", err)
	}
	// Wait for the receiver's close, so the stream is done on both sides.
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		s.Reset()
		return fmt.Errorf("await receiver: %w", err)
	}
	return s.Close()
}
