package p2p

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// RawPeerForTest is a bare libp2p host, without resource limits, that
// opens sync streams and writes whatever a test makes it write: the tool
// of a hostile partner, for tests outside this package (which alone
// imports libp2p). It serves nothing.
type RawPeerForTest struct {
	h host.Host
}

// RawStreamForTest is a sync stream a RawPeerForTest opened.
type RawStreamForTest interface {
	io.ReadWriteCloser
	CloseWrite() error
	Reset() error
}

// NewRawPeerForTest starts a raw peer with identity key, listening on
// 127.0.0.1, a free TCP port. Close stops it.
func NewRawPeerForTest(key ed25519.PrivateKey) (*RawPeerForTest, error) {
	k, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("raw peer: %w", err)
	}
	h, err := libp2p.New(libp2p.Identity(k), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(), libp2p.ResourceManager(&network.NullResourceManager{}))
	if err != nil {
		return nil, fmt.Errorf("raw peer: %w", err)
	}
	return &RawPeerForTest{h: h}, nil
}

// Addr returns the raw peer's address, ending in /p2p/<its node ID>.
func (r *RawPeerForTest) Addr() string {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: r.h.ID(), Addrs: r.h.Addrs()})
	if err != nil || len(addrs) == 0 {
		return ""
	}
	return addrs[0].String()
}

// OpenSync opens a sync stream to the node at addr (a multiaddr ending in
// /p2p/<node id>), connecting first if need be.
func (r *RawPeerForTest) OpenSync(ctx context.Context, addr string) (RawStreamForTest, error) {
	info, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if err := r.h.Connect(ctx, *info); err != nil {
		return nil, fmt.Errorf("raw peer: connect: %w", err)
	}
	s, err := r.h.NewStream(ctx, info.ID, libp2pproto.ID(protocol.SyncProtocolID))
	if err != nil {
		return nil, fmt.Errorf("raw peer: open sync stream: %w", err)
	}
	return s, nil
}

// Close stops the raw peer and closes its streams.
func (r *RawPeerForTest) Close() error { return r.h.Close() }
