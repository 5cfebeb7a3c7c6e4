package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter counts requests per key (a token's hash, or a client address
// before login) in fixed windows, as ChatWork does: a window starts with a
// key's first request and holds limit requests; x-ratelimit-reset is when
// it ends.
type limiter struct {
	limit  int // < 0: no limit
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	windows   map[string]*window
	nextSweep time.Time // when to drop ended windows
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(limit int, w time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: w, now: now, windows: make(map[string]*window)}
}

// take counts one request of key and reports whether it is within the
// limit, how many remain in the window and when the window ends.
func (l *limiter) take(key string) (ok bool, remaining int, reset time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !now.Before(l.nextSweep) {
		for k, w := range l.windows {
			if !now.Before(w.start.Add(l.window)) {
				delete(l.windows, k)
			}
		}
		l.nextSweep = now.Add(l.window)
	}
	w := l.windows[key]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		w = &window{start: now}
		l.windows[key] = w
	}
	if w.n < l.limit {
		w.n++
		return true, l.limit - w.n, w.start.Add(l.window)
	}
	return false, 0, w.start.Add(l.window)
}

// allow counts a request of key against the limit, sets the
// x-ratelimit-* headers and returns errRateLimited when over the limit.
func (s *Server) allow(w http.ResponseWriter, key string) error {
	if s.limiter.limit < 0 {
		return nil
	}
	ok, remaining, reset := s.limiter.take(key)
	h := w.Header()
	h.Set("x-ratelimit-limit", strconv.Itoa(s.limiter.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(reset.Unix(), 10))
	if !ok {
		h.Set("Retry-After", strconv.FormatInt(max(1, int64(reset.Sub(s.limiter.now()).Seconds()+0.999)), 10))
		return errRateLimited
	}
	return nil
}
