package node

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPasswordPoolBoundsHashing: at most the pool's slots hash at once,
// others queue, a queue that is full refuses at once with ErrBusy, and a
// queued request whose context ends stops waiting.
func TestPasswordPoolBoundsHashing(t *testing.T) {
	p := &passwordPool{slots: make(chan struct{}, 2), maxWaiting: 1}
	release := make(chan struct{})
	entered := make(chan struct{}, 3)
	var in, most atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			err := p.run(t.Context(), func() {
				most.Store(max(most.Load(), in.Add(1)))
				entered <- struct{}{}
				<-release
				in.Add(-1)
			})
			if err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	<-entered
	<-entered
	for deadline := time.Now().Add(10 * time.Second); p.waiting.Load() != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting, want the third hash waiting", p.waiting.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.run(t.Context(), func() { t.Error("a fourth hash ran past a full queue") }); !errors.Is(err, ErrBusy) {
		t.Errorf("a fourth hash: %v, want ErrBusy", err)
	}
	if n := in.Load(); n != 2 {
		t.Errorf("%d hashing at once, want 2", n)
	}
	close(release)
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d hashed at once, want 2", m)
	}

	// A full pool: a request whose context ends stops waiting.
	p = &passwordPool{slots: make(chan struct{}, 1), maxWaiting: 8}
	p.slots <- struct{}{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.run(ctx, func() { t.Error("ran with its context ended") }); !errors.Is(err, context.Canceled) {
		t.Errorf("run with an ended context: %v, want context.Canceled", err)
	}
	if w := p.waiting.Load(); w != 0 {
		t.Errorf("%d still counted as waiting", w)
	}
}
