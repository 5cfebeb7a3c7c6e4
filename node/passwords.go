package node

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is returned when the node has more password checks queued than
// it will wait for (a login rush): the request may be retried shortly.
var ErrBusy = errors.New("too many logins at once; try again in a moment")

// passwordPool runs password hashing, which takes tens of milliseconds of
// a core and 19 MiB per hash (argon2id), a few at a time: at a morning
// rush, logins queue for it while posts, reads and partners keep the
// other cores. A hash waits for a slot as long as its context allows, at
// most maxWait (then ErrBusy); past maxWaiting waiting, ErrBusy at once, so
// that a flood of logins does not hold thousands of requests open. Posts
// and every other request never wait for it: only account creation,
// password changes and logins hash.
type passwordPool struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	maxWait    time.Duration
}

// passwordWait is how long a hash waits for a slot at most. At 50 ms a
// hash on one slot, it is 200 logins queued: a login rush's clients get
// ErrBusy (503) and retry rather than time out.
const passwordWait = 10 * time.Second

// newPasswordPool returns a pool of one slot per core but one (at least
// one), with up to 1,024 waiting, each up to passwordWait.
func newPasswordPool() *passwordPool {
	return &passwordPool{slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1)), maxWaiting: 1024, maxWait: passwordWait}
}

// run calls fn in a slot.
func (p *passwordPool) run(ctx context.Context, fn func()) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.maxWaiting {
			p.waiting.Add(-1)
			return ErrBusy
		}
		wait := time.NewTimer(p.maxWait)
		defer wait.Stop()
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
		case <-ctx.Done():
			p.waiting.Add(-1)
			return fmt.Errorf("wait to check a password: %w", ctx.Err())
		case <-wait.C:
			p.waiting.Add(-1)
			return fmt.Errorf("wait to check a password for %v: %w", p.maxWait, ErrBusy)
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// check reports whether pw matches the PHC string phc (checkPassword), in
// a slot.
func (p *passwordPool) check(ctx context.Context, phc, pw string) (ok bool, err error) {
	err = p.run(ctx, func() { ok = checkPassword(phc, pw) })
	return ok, err
}

// hash returns pw's PHC string (hashPassword), made in a slot.
func (p *passwordPool) hash(ctx context.Context, pw string) (phc string, err error) {
	err = p.run(ctx, func() { phc = hashPassword(pw) })
	return phc, err
}
