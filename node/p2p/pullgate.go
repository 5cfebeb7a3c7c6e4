package p2p

import (
	"context"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
)

// A node that misses events of a busy room hears of it from several
// partners at once (orphans and pull-backs name whoever sent them), and
// pulled the room from each of them side by side. Each pull started from
// the same heads, so each brought the same missing events: in a 10-node
// fan-out five of every six events a sync round delivered were held by
// the time they arrived, and serving them (walking the graph, reading
// each event twice) was a third of every node's CPU. A pull of a room now
// waits for the one in flight to end, so that it asks from the heads that
// one brought, and sends only what is still missing.
//
// The wait is bounded by maxPullOverlap: a partner that stalls its answer
// holds back pulls of the same room from the others only that long.

// maxPullOverlap bounds how long a pull waits for another pull of one of
// its rooms to end before it goes ahead alongside it.
const maxPullOverlap = 2 * time.Second

// pullGate tracks the rooms being pulled.
type pullGate struct {
	mu   sync.Mutex
	busy map[protocol.RoomID]chan struct{} // closed when the pull that took the room ends
}

// enter waits until none of rooms is being pulled, or for at most wait
// (or until ctx ends), marks the rooms no other pull holds as its own, and
// returns the function that releases them.
func (g *pullGate) enter(ctx context.Context, rooms []protocol.RoomID, wait time.Duration) (release func()) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	late := false
	for {
		g.mu.Lock()
		var other chan struct{}
		if !late && ctx.Err() == nil {
			for _, r := range rooms {
				if c := g.busy[r]; c != nil {
					other = c
					break
				}
			}
		}
		if other == nil {
			return g.take(rooms) // unlocks g.mu
		}
		g.mu.Unlock()
		select {
		case <-other:
		case <-timer.C:
			late = true
		case <-ctx.Done():
		}
	}
}

// take marks the rooms no pull holds as held by a new one, with g.mu
// held, unlocks it, and returns the release of the new pull.
func (g *pullGate) take(rooms []protocol.RoomID) (release func()) {
	defer g.mu.Unlock()
	if g.busy == nil {
		g.busy = make(map[protocol.RoomID]chan struct{})
	}
	done := make(chan struct{})
	var mine []protocol.RoomID
	for _, r := range rooms {
		if g.busy[r] == nil {
			g.busy[r] = done
			mine = append(mine, r)
		}
	}
	return func() {
		g.mu.Lock()
		for _, r := range mine {
			delete(g.busy, r)
		}
		g.mu.Unlock()
		close(done)
	}
}
