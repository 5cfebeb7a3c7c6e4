package p2p

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	msmux "github.com/multiformats/go-multistream"

	"github.com/horenso/horenso/protocol"
)

// ErrNoVerify is returned (wrapped) by VerifyRoom when the partner runs a
// version that does not answer verify streams.
var ErrNoVerify = errors.New("partner does not support room verification")

// Comparison is how a partner's events of a room compare with this node's,
// as far as their heads tell (see protocol.VerifyProtocolID).
type Comparison struct {
	// Same: both hold the same heads, hence the same events.
	Same bool `json:"same"`
	// Ours and Theirs are each side's heads (at most
	// protocol.MaxSyncHeads each).
	Ours   []protocol.EventID `json:"our_heads"`
	Theirs []protocol.EventID `json:"their_heads"`
	// Missing are their heads this node does not hold: it lacks those
	// events and maybe their ancestors. A sync with the partner pulls them.
	Missing []protocol.EventID `json:"missing,omitempty"`
	// Lacking are our heads the partner does not hold: it lacks those and
	// maybe their ancestors, and pulls them at its next sync round.
	Lacking []protocol.EventID `json:"lacking,omitempty"`
}

// VerifyRoom asks partner peerID for its heads in room and compares them
// with this node's. Errors wrap ErrNotPartner, ErrNotRunning, ErrRefused
// (the partner does not share the room with this node), ErrNoVerify, or
// the stream's error.
func (h *Host) VerifyRoom(ctx context.Context, peerID protocol.NodeID, room protocol.RoomID) (*Comparison, error) {
	pid, err := peer.Decode(string(peerID))
	if err != nil {
		return nil, fmt.Errorf("p2p: verify room: %w", err)
	}
	if !h.isPartner(pid) {
		return nil, fmt.Errorf("p2p: verify room %s with %s: %w", room, peerID.Short(), ErrNotPartner)
	}
	c, err := h.verify(ctx, pid, room)
	if err != nil {
		return nil, fmt.Errorf("p2p: verify room %s with %s: %w", room, peerID.Short(), err)
	}
	return c, nil
}

func (h *Host) verify(ctx context.Context, p peer.ID, room protocol.RoomID) (*Comparison, error) {
	lh := h.host()
	if lh == nil {
		return nil, ErrNotRunning
	}
	have, err := h.handler.Have(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("heads: %w", err)
	}
	ours := have.Heads[:min(len(have.Heads), protocol.MaxSyncHeads)]
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	defer cancel()
	s, err := lh.NewStream(ctx, p, libp2pproto.ID(protocol.VerifyProtocolID))
	if err != nil {
		if errors.Is(err, msmux.ErrNotSupported[libp2pproto.ID]{}) {
			return nil, fmt.Errorf("%w: %w", ErrNoVerify, err)
		}
		return nil, fmt.Errorf("open verify stream: %w", err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	s.SetDeadline(time.Now().Add(h.cfg.SyncTimeout))
	if err := protocol.WriteVerify(s, &protocol.VerifyRequest{Room: room, Heads: ours}); err != nil {
		s.Reset()
		return nil, err
	}
	var ans protocol.VerifyAnswer
	if err := protocol.ReadVerify(s, &ans); err != nil {
		s.Reset()
		if isFrameError(err) {
			return nil, h.misbehaved(p, err)
		}
		return nil, err
	}
	if ans.Refused {
		return nil, ErrRefused
	}
	c := &Comparison{Ours: ours, Theirs: ans.Heads}
	for _, id := range ours {
		if !slices.Contains(ans.Held, id) {
			c.Lacking = append(c.Lacking, id)
		}
	}
	for i, held := range h.handler.Held(ctx, ans.Heads, nil) {
		if !held {
			c.Missing = append(c.Missing, ans.Heads[i])
		}
	}
	c.Same = len(c.Missing) == 0 && len(c.Lacking) == 0 && sameSet(ours, ans.Heads)
	return c, nil
}

// sameSet reports whether a and b hold the same IDs.
func sameSet(a, b []protocol.EventID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			return false
		}
	}
	return true
}

// serveVerify answers one verify request from a partner.
func (h *Host) serveVerify(ctx context.Context, s network.Stream) {
	if !h.enter() {
		s.Reset()
		return
	}
	defer h.leave()
	p := s.Conn().RemotePeer()
	if !h.isPartner(p) {
		h.stats.refusedConns.Add(1)
		s.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	s.SetDeadline(time.Now().Add(h.cfg.SyncTimeout))
	var req protocol.VerifyRequest
	if err := protocol.ReadVerify(s, &req); err != nil {
		if isFrameError(err) {
			h.misbehaved(p, err)
		}
		s.Reset()
		return
	}
	var ans protocol.VerifyAnswer
	if !h.handler.Shares(nodeID(p), req.Room) {
		ans.Refused = true
	} else {
		// Held before Heads: an event stored between the two reads is
		// then in the heads and not held (the asker sees it lacking, as
		// it was when asked), never held and not among the heads, an
		// answer that differs without naming a difference.
		for i, held := range h.handler.Held(ctx, req.Heads, nil) {
			if held {
				ans.Held = append(ans.Held, req.Heads[i])
			}
		}
		have, err := h.handler.Have(ctx, req.Room)
		if err != nil {
			h.log.Warn("verify: heads", "room", req.Room, "err", err)
			s.Reset()
			return
		}
		ans.Heads = have.Heads[:min(len(have.Heads), protocol.MaxSyncHeads)]
	}
	if err := protocol.WriteVerify(s, &ans); err != nil {
		s.Reset()
		return
	}
	s.Close()
}
