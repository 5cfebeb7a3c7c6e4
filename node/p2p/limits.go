package p2p

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	yamux "github.com/libp2p/go-libp2p/p2p/muxer/yamux"
)

// Resource limits of the libp2p host. A node talks only to partners (the
// gater refuses everyone else), but a partner may be buggy, compromised or
// hostile, so every partner gets a share that it cannot exceed, whatever it
// sends. The numbers are sized for a chat node on a 2-core machine with a
// few GiB of memory and tens of partners; they are fixed, not scaled to
// the machine, so that a node behaves the same wherever it runs.
//
// What an honest partner uses: one long-lived gossipsub stream each way,
// identify and ping now and then, and a sync stream per exchange — one
// round at a time from its partner loop, plus an occasional SyncRoom or
// pull-back. So a handful of streams, and of those, one or two of sync.
//
//	scope                      inbound streams  all streams  memory
//	one partner (any protocol)              64          128  32 MiB
//	sync, one partner                        8           16  16 MiB
//	sync, all partners                      64          128  64 MiB
//	sync/1, one partner                      4            8   8 MiB
//	sync/1, all partners                    32           64  32 MiB
//	blob, one partner                        4            8  16 MiB
//	blob, all partners                      32           64  64 MiB
//	yamux, one connection                   64            —       —
//
// Memory here is what libp2p accounts for: the muxers' receive windows
// (yamux grows a stream's window only if the partner's scope can reserve
// it; its maximum is lowered to 4 MiB, 40 MiB/s at 100 ms). What the sync
// handler itself holds for a stream is bounded separately: a frame being
// read (at most MaxFrameSize, allocated as it arrives), and an answer
// being sent (a frame of serveBatchBytes, under one of serveSlots), so
// the twelve sync streams of one partner (eight of sync/2, four of the
// older sync/1, which only a partner not yet upgraded uses) hold at most
// 12 × 2 MiB while reading and the node at most 16 answers' frames at
// once.
const (
	peerStreamsInbound = 64
	peerStreams        = 128
	peerMemory         = 32 << 20
	peerConns          = 8 // TCP and QUIC, each way, with room for simultaneous dials

	syncPeerStreamsInbound = 8
	syncPeerStreams        = 16
	syncPeerMemory         = 16 << 20

	syncStreamsInbound = 64
	syncStreams        = 128
	syncMemory         = 64 << 20

	// Sync streams of protocol.SyncProtocolV1, from partners not yet
	// upgraded: half of the above.
	syncV1PeerStreamsInbound = syncPeerStreamsInbound / 2
	syncV1PeerStreams        = syncPeerStreams / 2
	syncV1PeerMemory         = syncPeerMemory / 2
	syncV1StreamsInbound     = syncStreamsInbound / 2
	syncV1Streams            = syncStreams / 2
	syncV1Memory             = syncMemory / 2

	// Blob streams (blob.go) carry file bytes: long, but one at a time
	// per file, and the serving side holds only io.Copy's buffer.
	blobPeerStreamsInbound = 4
	blobPeerStreams        = 8
	blobPeerMemory         = 16 << 20
	blobStreamsInbound     = 32
	blobStreams            = 64
	blobMemory             = 64 << 20

	connIncomingStreams = 64
	streamWindowMax     = 4 << 20

	// limitsMemory and limitsFDs scale libp2p's defaults for the scopes
	// not set above (system, transient, other protocols and services).
	limitsMemory = 1 << 30
	limitsFDs    = 1024
)

// resourceLimits returns the host's limits: libp2p's defaults scaled to
// limitsMemory and limitsFDs, with the partner and sync limits above.
func resourceLimits() rcmgr.ConcreteLimitConfig {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	base := scaling.Scale(limitsMemory, limitsFDs)
	sync := libp2pproto.ID(protocol.SyncProtocolID)
	syncV1 := libp2pproto.ID(protocol.SyncProtocolV1)
	blob := libp2pproto.ID(protocol.BlobProtocolID)
	partial := rcmgr.PartialLimitConfig{
		PeerDefault: rcmgr.ResourceLimits{
			StreamsInbound: peerStreamsInbound, StreamsOutbound: peerStreams, Streams: peerStreams,
			ConnsInbound: peerConns, ConnsOutbound: peerConns, Conns: peerConns, FD: peerConns,
			Memory: peerMemory,
		},
		Protocol: map[libp2pproto.ID]rcmgr.ResourceLimits{sync: {
			StreamsInbound: syncStreamsInbound, StreamsOutbound: syncStreams, Streams: syncStreams, Memory: syncMemory,
		}, syncV1: {
			StreamsInbound: syncV1StreamsInbound, StreamsOutbound: syncV1Streams, Streams: syncV1Streams, Memory: syncV1Memory,
		}, blob: {
			StreamsInbound: blobStreamsInbound, StreamsOutbound: blobStreams, Streams: blobStreams, Memory: blobMemory,
		}},
		ProtocolPeer: map[libp2pproto.ID]rcmgr.ResourceLimits{sync: {
			StreamsInbound: syncPeerStreamsInbound, StreamsOutbound: syncPeerStreams, Streams: syncPeerStreams,
			Memory: syncPeerMemory,
		}, syncV1: {
			StreamsInbound: syncV1PeerStreamsInbound, StreamsOutbound: syncV1PeerStreams, Streams: syncV1PeerStreams,
			Memory: syncV1PeerMemory,
		}, blob: {
			StreamsInbound: blobPeerStreamsInbound, StreamsOutbound: blobPeerStreams, Streams: blobPeerStreams,
			Memory: blobPeerMemory,
		}},
	}
	return partial.Build(base)
}

// newResourceManager returns the host's resource manager; the libp2p
// host closes it.
func newResourceManager() (network.ResourceManager, error) {
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(resourceLimits()), rcmgr.WithMetricsDisabled())
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return rm, nil
}

// muxer returns yamux with a bound on the streams a partner may have open
// at once on one connection (libp2p lifts it, leaving it to the resource
// manager; a bound here refuses a flood of streams before any handler or
// scope is involved) and a smaller maximum receive window.
func muxer() *yamux.Transport {
	t := *yamux.DefaultTransport
	t.MaxIncomingStreams = connIncomingStreams
	t.MaxStreamWindowSize = streamWindowMax
	return &t
}
