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
	p := &passwordPool{slots: make(chan struct{}, 2), maxWaiting: 1, maxWait: time.Hour}
	release := make(chan struct{})
	entered := make(chan struct{}, 3)
	var in, most atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			err := p.run(t.Context(), func() {
				// A compare-and-swap, since two hashes may enter at
				// once: storing max(most, n) could lose the larger.
				n := in.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
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
	p = &passwordPool{slots: make(chan struct{}, 1), maxWaiting: 8, maxWait: time.Hour}
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

// TestPasswordPoolWaitsAtMostMaxWait: a hash that cannot get a slot within
// maxWait gives up with ErrBusy.
func TestPasswordPoolWaitsAtMostMaxWait(t *testing.T) {
	p := &passwordPool{slots: make(chan struct{}, 1), maxWaiting: 8, maxWait: 10 * time.Millisecond}
	p.slots <- struct{}{}
	if err := p.run(t.Context(), func() { t.Error("ran without a slot") }); !errors.Is(err, ErrBusy) {
		t.Errorf("run on a full pool: %v, want ErrBusy", err)
	}
	if w := p.waiting.Load(); w != 0 {
		t.Errorf("%d still counted as waiting", w)
	}
}

// TestLoginFloodDoesNotBlockPosts: with every password slot taken by a
// slow hash and logins queued behind it, a post still goes through, while
// the logins keep waiting; they all succeed once the slot is free.
func TestLoginFloodDoesNotBlockPosts(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	const pw = "correct horse battery"
	if _, err := n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: pw}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateAccount(ctx, NewAccount{Handle: "bob"}); err != nil {
		t.Fatal(err)
	}
	room, err := n.CreateRoom(ctx, "bob", NewRoom{Name: "Busy"})
	if err != nil {
		t.Fatal(err)
	}
	// Take every slot with a hash that lasts until release.
	release := make(chan struct{})
	var slow sync.WaitGroup
	slots := cap(n.passwords.slots)
	entered := make(chan struct{}, slots)
	for range slots {
		slow.Go(func() {
			if err := n.passwords.run(ctx, func() { entered <- struct{}{}; <-release }); err != nil {
				t.Error(err)
			}
		})
	}
	for range slots {
		<-entered
	}
	// Under -race on a busy machine, a hash takes a second or more.
	n.passwords.maxWait = 5 * time.Minute
	const logins = 4
	var done atomic.Int32
	var flood sync.WaitGroup
	for range logins {
		flood.Go(func() {
			defer done.Add(1)
			if _, err := n.Login(ctx, "alice", pw); err != nil {
				t.Errorf("login: %v", err)
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); n.passwords.waiting.Load() != logins; {
		if time.Now().After(deadline) {
			t.Fatalf("%d logins waiting, want %d", n.passwords.waiting.Load(), logins)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := n.Post(ctx, "bob", room.ID, "posts do not queue behind logins"); err != nil {
		t.Fatalf("post during a login flood: %v", err)
	}
	if d := done.Load(); d != 0 {
		t.Fatalf("%d logins finished with every slot taken", d)
	}
	close(release)
	slow.Wait()
	flood.Wait()
	if d := done.Load(); d != logins {
		t.Fatalf("%d of %d logins finished", d, logins)
	}
}
