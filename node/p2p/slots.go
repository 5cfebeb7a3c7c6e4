package p2p

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// slots bounds the sync answers being sent at once, in all and per peer
// (serveSlots, servePeerSlots). The zero value is ready to use.
type slots struct {
	// mu guards the fields below.
	mu     sync.Mutex
	used   int
	byPeer map[peer.ID]int
	wait   chan struct{} // closed and replaced whenever a slot is freed
}

// acquire waits until a slot is free for p, or ctx ends (then it returns
// ctx's error). The caller must call release once, when its answer is
// sent.
func (s *slots) acquire(ctx context.Context, p peer.ID) (release func(), err error) {
	for {
		s.mu.Lock()
		if s.byPeer == nil {
			s.byPeer = map[peer.ID]int{}
		}
		if s.wait == nil {
			s.wait = make(chan struct{})
		}
		if s.used < serveSlots && s.byPeer[p] < servePeerSlots {
			s.used++
			s.byPeer[p]++
			s.mu.Unlock()
			return func() { s.release(p) }, nil
		}
		wait := s.wait
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *slots) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used--
	if s.byPeer[p]--; s.byPeer[p] == 0 {
		delete(s.byPeer, p)
	}
	close(s.wait)
	s.wait = make(chan struct{})
}
