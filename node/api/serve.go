package api

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// The HTTP side's connection limits and timeouts. Anyone on the network
// can open connections before logging in, so each is bounded: how many
// connections there are, per client address and in all; how long a client
// may take to send headers and a body, to read an answer, or to sit idle.
// The live event stream keeps its connection open as long as the client
// reads it, renewing its write deadline at every event and heartbeat.

// Defaults of Config's connection limits and timeouts.
const (
	DefaultMaxConns          = 4096
	DefaultMaxConnsPerAddr   = 256
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultUploadTimeout     = 5 * time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
)

// HTTPServer returns an http.Server that serves s with its timeouts, and
// ends s's live event streams when it shuts down. Serve it on a listener
// from [Server.Listener], so that the connection limits hold too.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
	}
	srv.RegisterOnShutdown(s.Shutdown)
	return srv
}

// Listener wraps ln so that it holds at most Config.MaxConns connections
// at once, and at most Config.MaxConnsPerAddr from one client address. A
// connection over the per-address limit is closed at once; over the total
// limit, Accept waits until a connection closes, as
// golang.org/x/net/netutil.LimitListener does. Refused connections are
// counted in [Server.Refused].
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, s: s, total: make(chan struct{}, s.cfg.MaxConns),
		closed: make(chan struct{}), perAddr: make(map[string]int)}
}

// Refused returns how many connections the per-address limit closed.
func (s *Server) Refused() uint64 { return s.refused.Load() }

type limitListener struct {
	net.Listener
	s     *Server
	total chan struct{} // one token per open connection

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: a waiting Accept returns

	mu      sync.Mutex // guards perAddr
	perAddr map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.total <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.total
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		l.mu.Lock()
		over := l.perAddr[addr] >= l.s.cfg.MaxConnsPerAddr
		if !over {
			l.perAddr[addr]++
		}
		l.mu.Unlock()
		if over {
			// Counted before the close, so that whoever sees the close
			// sees the count.
			n := l.s.refused.Add(1)
			c.Close()
			<-l.total
			if n&(n-1) == 0 { // log the 1st, 2nd, 4th, 8th, … refusal
				l.s.log.Warn("HTTP connection refused: too many from one address", "addr", addr,
					"limit", l.s.cfg.MaxConnsPerAddr, "refused", n)
			}
			continue
		}
		return &limitedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// Close closes the listener; an Accept waiting for a free connection
// returns net.ErrClosed.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *limitListener) release(addr string) {
	l.mu.Lock()
	if l.perAddr[addr]--; l.perAddr[addr] <= 0 {
		delete(l.perAddr, addr)
	}
	l.mu.Unlock()
	<-l.total
}

// limitedConn gives its listener's tokens back when it closes.
type limitedConn struct {
	net.Conn
	l    *limitListener
	addr string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

// hostOf returns the IP of a TCP address, or the address's text for others.
func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// deadlines gives a request its body and write deadlines: BodyTimeout
// (UploadTimeout for a file upload) to send its body, WriteTimeout to read
// the answer. The body's deadline ends with the body: once the handler
// has read it, a slow handler is not cut off by it. The live event stream
// renews its own write deadline.
func (s *Server) deadlines(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	now := time.Now()
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		timeout := s.cfg.BodyTimeout
		if isUpload(r) {
			timeout = s.cfg.UploadTimeout
		}
		if setDeadline(rc.SetReadDeadline, now.Add(timeout)) {
			r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { rc.SetReadDeadline(time.Time{}) }}
		}
	}
	setDeadline(rc.SetWriteDeadline, now.Add(s.cfg.WriteTimeout))
}

// setDeadline sets a deadline and reports whether it could: a
// ResponseWriter that is not a connection's (in tests) has none.
func setDeadline(set func(time.Time) error, t time.Time) bool {
	return set(t) == nil
}

// deadlineBody clears the request's read deadline once its body has been
// read to the end or closed.
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.clear)
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	b.once.Do(b.clear)
	return b.ReadCloser.Close()
}
