package p2p

import (
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Health is what the host saw of one partner's link since New: the sync
// rounds it ran with it as requester and when it last saw it connected.
// It is kept in memory only; a restart starts it again.
type Health struct {
	SyncRounds uint64    `json:"sync_rounds"`          // sync exchanges started with it
	SyncFailed uint64    `json:"sync_failed"`          // … that ended in an error (unreachable, reset, refused to store)
	LastSync   time.Time `json:"last_sync,omitzero"`   // when the latest exchange that succeeded ended
	LastSeen   time.Time `json:"last_seen,omitzero"`   // when it was last connected: now if it is
	LastError  string    `json:"last_error,omitempty"` // why the latest failed exchange failed, if the latest failed
}

// healths keeps every peer's Health. Lock order: Host.mu, then mu.
type healths struct {
	mu sync.Mutex
	m  map[peer.ID]*Health
}

// update runs fn on p's Health, adding it if new.
func (hs *healths) update(p peer.ID, fn func(*Health)) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.m == nil {
		hs.m = map[peer.ID]*Health{}
	}
	h := hs.m[p]
	if h == nil {
		h = new(Health)
		hs.m[p] = h
	}
	fn(h)
}

// get returns a copy of p's Health.
func (hs *healths) get(p peer.ID) Health {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h := hs.m[p]; h != nil {
		return *h
	}
	return Health{}
}

// synced records the end of a sync exchange with p.
func (hs *healths) synced(p peer.ID, err error) {
	now := time.Now()
	hs.update(p, func(h *Health) {
		h.SyncRounds++
		h.LastSeen = now
		if err != nil {
			h.SyncFailed++
			h.LastError = err.Error()
			return
		}
		h.LastSync, h.LastError = now, ""
	})
}

// seen records that p was connected now.
func (hs *healths) seen(p peer.ID) {
	now := time.Now()
	hs.update(p, func(h *Health) { h.LastSeen = now })
}

// Health returns what the host saw of partner id's link; LastSeen is now
// if it is connected.
func (h *Host) Health(id protocol.NodeID) Health {
	pid, err := peer.Decode(string(id))
	if err != nil {
		return Health{}
	}
	out := h.health.get(pid)
	if lh := h.host(); lh != nil && lh.Network().Connectedness(pid) == network.Connected {
		out.LastSeen = time.Now()
	}
	return out
}
