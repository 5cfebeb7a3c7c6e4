package api

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Per-account login backoff. The per-address rate limit does not stop
// guessing one account's password from many addresses; this does, on top
// of it. After backoffFree failed logins with one login name, each further
// failure refuses that name for a delay that doubles from backoffBase up
// to backoffMax, whatever the address; a successful login clears it. Names
// are counted as typed (lower-cased), whether or not an account has them:
// the answers for an existing and an unknown account are the same, and a
// handle and its email are two names, which at worst doubles an attacker's
// rate. State is in memory only: a restart clears it.
const (
	backoffFree    = 5
	backoffBase    = time.Second
	backoffMax     = 15 * time.Minute
	backoffForget  = 24 * time.Hour // a name's failures are forgotten this long after the last one
	backoffEntries = 1 << 16        // names tracked at most; past it, one is forgotten to make room
)

// backoff counts failed logins per login name. Its methods are safe for
// concurrent use.
type backoff struct {
	now func() time.Time

	mu        sync.Mutex
	names     map[string]*failures
	nextSweep time.Time // when to drop forgotten names
}

type failures struct {
	n     int
	last  time.Time // the last failure
	until time.Time // refused until then
}

func newBackoff(now func() time.Time) *backoff {
	return &backoff{now: now, names: make(map[string]*failures)}
}

func backoffKey(login string) string { return strings.ToLower(login) }

// attempt starts an attempt with login name login. If the name is backed
// off, it returns how long it still is, and the attempt must be refused;
// else it counts the attempt as failed already, so that many attempts made
// at once cannot slip past the count while their passwords are checked,
// and returns 0. A successful attempt calls reset.
func (b *backoff) attempt(login string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !now.Before(b.nextSweep) {
		for k, f := range b.names {
			if now.Sub(f.last) >= backoffForget {
				delete(b.names, k)
			}
		}
		b.nextSweep = now.Add(time.Minute)
	}
	k := backoffKey(login)
	f := b.names[k]
	if f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	if f == nil {
		if len(b.names) >= backoffEntries {
			for k := range b.names { // an arbitrary one
				delete(b.names, k)
				break
			}
		}
		f = &failures{}
		b.names[k] = f
	}
	if now.Sub(f.last) >= backoffForget {
		f.n = 0
	}
	f.n++
	f.last = now
	if over := f.n - backoffFree; over > 0 {
		d := backoffMax
		if over <= 20 && backoffBase<<(over-1) < backoffMax {
			d = backoffBase << (over - 1)
		}
		f.until = now.Add(d)
	}
	return 0
}

// reset forgets login's failures, after a successful attempt.
func (b *backoff) reset(login string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.names, backoffKey(login))
}

// forgive takes back one attempt with login, which ended before its
// password was checked (the node's password pool was too busy: a login
// rush is not password guessing). Its backoff, if one started, stays.
func (b *backoff) forgive(login string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.names[backoffKey(login)]; f != nil && f.n > 0 {
		f.n--
	}
}

// lockedError refuses an attempt with a login name that failed too often.
type lockedError struct{ wait time.Duration }

func (e *lockedError) Error() string {
	return "too many failed logins for this account; try again in " + strconv.FormatInt(e.seconds(), 10) + " seconds"
}

func (e *lockedError) seconds() int64 { return max(1, int64(e.wait.Seconds()+0.999)) }
