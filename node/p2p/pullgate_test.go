package p2p

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestPullGate checks that a pull of a room waits for the pull of it in
// flight, that pulls of other rooms do not, and that a pull whose room
// stays busy goes ahead after the wait.
func TestPullGate(t *testing.T) {
	a, b := protocol.RoomID{1}, protocol.RoomID{2}
	synctest.Test(t, func(t *testing.T) {
		var g pullGate
		ctx := t.Context()
		releaseA := g.enter(ctx, []protocol.RoomID{a}, time.Minute)

		entered := make(chan struct{})
		go func() {
			defer g.enter(ctx, []protocol.RoomID{b, a}, time.Minute)()
			close(entered)
		}()
		synctest.Wait()
		select {
		case <-entered:
			t.Fatal("a pull of a room being pulled did not wait")
		default:
		}
		g.enter(ctx, []protocol.RoomID{b}, time.Minute)() // room b is not held by the waiting pull
		releaseA()
		<-entered

		// A pull that never ends holds the next back only for the wait.
		g.enter(ctx, []protocol.RoomID{a}, time.Minute)
		start := time.Now()
		release := g.enter(ctx, []protocol.RoomID{a}, 2*time.Second)
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("waited %v for a pull that does not end, want 2s", waited)
		}
		release()

		// So does a caller's ended context.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		g.enter(cctx, []protocol.RoomID{a}, time.Minute)()
	})
}
