package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"

	"github.com/horenso/horenso/protocol"
)

// Blob streams carry a file's bytes between member nodes of a room (see
// protocol/blob.go for the wire). The host serves them for
// Config.Blobs, which decides who may have what, and fetches them for
// the node with FetchBlob, which copies what arrives to the caller's
// writer: the node checks the bytes against their hash.

// BlobServer is the node's side of serving blobs.
type BlobServer interface {
	// OpenBlob opens the bytes of hash for node peer, which asks for
	// them for room. It returns an error wrapping ErrNoBlob unless peer
	// hosts a member of room, a file post of room that the node holds
	// names hash, and the node holds the bytes. size is their length.
	OpenBlob(ctx context.Context, peer protocol.NodeID, room protocol.RoomID, hash []byte) (r io.ReadSeekCloser, size int64, err error)
}

// ErrNoBlob is returned by BlobServer.OpenBlob and FetchBlob for a blob
// that is not there (for the asking node).
var ErrNoBlob = errors.New("no such blob")

// ErrBadBlob is returned by FetchBlob when the partner ended the stream
// before the bytes it announced, or sent more: not a failure of the
// network, which resets the stream, but of the partner.
var ErrBadBlob = errors.New("partner sent fewer or more bytes than it announced")

// blobStats counts blob streams.
type blobStats struct {
	served, refused, fetched, failed atomic.Uint64
	sent                             atomic.Uint64 // bytes
}

// BlobStats are the blob stream counters of a Host.
type BlobStats struct {
	Served, Refused uint64 // streams answered with bytes, and with not found
	Fetched, Failed uint64 // FetchBlob calls that copied every byte, and that did not
	Sent            uint64 // bytes served
}

// BlobStats returns the host's blob stream counters.
func (h *Host) BlobStats() BlobStats {
	s := &h.blobs
	return BlobStats{Served: s.served.Load(), Refused: s.refused.Load(), Fetched: s.fetched.Load(),
		Failed: s.failed.Load(), Sent: s.sent.Load()}
}

// deadlineConn renews a stream's read or write deadline before each
// call, so that a transfer of any length goes on while bytes move and
// ends when they stall for timeout.
type deadlineConn struct {
	s       network.Stream
	timeout time.Duration
}

func (d deadlineConn) Read(p []byte) (int, error) {
	d.s.SetReadDeadline(time.Now().Add(d.timeout))
	return d.s.Read(p)
}

func (d deadlineConn) Write(p []byte) (int, error) {
	d.s.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.s.Write(p)
}

// serveBlob answers one blob request on s.
func (h *Host) serveBlob(ctx context.Context, s network.Stream) {
	if !h.enter() {
		s.Reset()
		return
	}
	defer h.leave()
	p := s.Conn().RemotePeer()
	if !h.isPartner(p) || h.cfg.Blobs == nil {
		h.stats.refusedConns.Add(1)
		s.Reset()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	c := deadlineConn{s, h.cfg.SyncTimeout}
	q, err := protocol.ReadBlobRequest(c)
	if err != nil {
		h.log.Debug("blob stream", "peer", nodeID(p).Short(), "err", err)
		s.Reset()
		return
	}
	r, size, err := h.cfg.Blobs.OpenBlob(ctx, nodeID(p), q.Room, q.Hash)
	if err != nil || q.Offset > uint64(size) {
		if err != nil && !errors.Is(err, ErrNoBlob) {
			h.log.Warn("open blob for a partner", "peer", nodeID(p).Short(), "err", err)
		}
		if r != nil {
			r.Close()
		}
		h.blobs.refused.Add(1)
		protocol.WriteBlobFrame(c, &protocol.BlobResponse{Status: protocol.BlobNotFound})
		s.Close()
		return
	}
	defer r.Close()
	if err := protocol.WriteBlobFrame(c, &protocol.BlobResponse{Status: protocol.BlobOK, Size: uint64(size)}); err != nil {
		s.Reset()
		return
	}
	if _, err := r.Seek(int64(q.Offset), io.SeekStart); err != nil {
		s.Reset()
		return
	}
	n, err := io.Copy(c, r)
	h.blobs.sent.Add(uint64(n))
	if err != nil {
		h.log.Debug("serve blob", "peer", nodeID(p).Short(), "err", err)
		s.Reset()
		return
	}
	h.blobs.served.Add(1)
	s.Close()
}

// FetchBlob asks node from for the bytes of hash from offset on, for
// room, and copies them to w. It returns the blob's whole size as from
// states it (at most max, else it gives up) and how many bytes it copied.
// It returns an error wrapping ErrNoBlob if from does not serve the blob,
// and another error if the transfer ends early: the bytes copied so far
// are the blob's from offset on if from is honest, so the caller may
// resume from there. Blocks until done, the transfer stalls for the
// sync timeout, or ctx ends.
func (h *Host) FetchBlob(ctx context.Context, from protocol.NodeID, room protocol.RoomID, hash []byte, offset, max uint64, w io.Writer) (size uint64, n int64, err error) {
	size, n, err = h.fetchBlob(ctx, from, room, hash, offset, max, w)
	if err != nil {
		h.blobs.failed.Add(1)
	} else {
		h.blobs.fetched.Add(1)
	}
	return size, n, err
}

func (h *Host) fetchBlob(ctx context.Context, from protocol.NodeID, room protocol.RoomID, hash []byte, offset, max uint64, w io.Writer) (size uint64, n int64, err error) {
	lh := h.host()
	if lh == nil {
		return 0, 0, ErrNotRunning
	}
	p, err := peer.Decode(string(from))
	if err != nil {
		return 0, 0, fmt.Errorf("fetch blob: %w", err)
	}
	octx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	s, err := lh.NewStream(octx, p, libp2pproto.ID(protocol.BlobProtocolID))
	cancel()
	if err != nil {
		return 0, 0, fmt.Errorf("open blob stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	c := deadlineConn{s, h.cfg.SyncTimeout}
	if err := protocol.WriteBlobFrame(c, &protocol.BlobRequest{Room: room, Hash: hash, Offset: offset}); err != nil {
		s.Reset()
		return 0, 0, err
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return 0, 0, fmt.Errorf("fetch blob: %w", err)
	}
	a, err := protocol.ReadBlobResponse(c)
	if err != nil {
		s.Reset()
		return 0, 0, err
	}
	switch {
	case a.Status != protocol.BlobOK:
		s.Reset()
		return 0, 0, fmt.Errorf("fetch blob from %s: %w", from.Short(), ErrNoBlob)
	case a.Size > max || a.Size < offset:
		s.Reset()
		return 0, 0, fmt.Errorf("fetch blob from %s: size %d out of range", from.Short(), a.Size)
	}
	// Read one byte past the end: a partner that sends more is refused.
	n, err = io.Copy(w, io.LimitReader(c, int64(a.Size-offset)+1))
	if err == nil && uint64(n) != a.Size-offset {
		err = fmt.Errorf("fetch blob from %s: %w: %d bytes of %d", from.Short(), ErrBadBlob, n, a.Size-offset)
	}
	if err != nil {
		s.Reset()
		return a.Size, n, err
	}
	s.Close()
	return a.Size, n, nil
}
