package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// serveReal serves e's API the way `horenso run` does, with its timeouts
// and connection limits, on a loopback port; it returns the address.
func serveReal(t *testing.T, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := e.api.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(e.api.Listener(ln)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// closedWithin reports whether the server closes c within d: a read ends
// with EOF or a reset rather than the read deadline.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true // EOF (err nil) or a reset
}

func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnectionTimeouts: idle, slow-header and stalled-body connections
// are closed on time, and the node keeps answering.
func TestConnectionTimeouts(t *testing.T) {
	e := newEnv(t, Config{IdleTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond,
		BodyTimeout: 300 * time.Millisecond})
	addr := serveReal(t, e)

	t.Run("idle keep-alive", func(t *testing.T) {
		c := dialT(t, addr)
		fmt.Fprintf(c, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("health: %v, %v", resp, err)
		}
		resp.Body.Close()
		if !closedWithin(t, c, 5*time.Second) {
			t.Fatal("an idle keep-alive connection stayed open")
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		c := dialT(t, addr)
		fmt.Fprintf(c, "GET /api/health HTTP/1.1\r\nHost: x\r\n")
		if !closedWithin(t, c, 5*time.Second) {
			t.Fatal("a connection that never finished its headers stayed open")
		}
	})
	t.Run("stalled body", func(t *testing.T) {
		c := dialT(t, addr)
		fmt.Fprintf(c, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 4000\r\n\r\nlogin=alice&password=")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled body: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("stalled body: status %d, want 408", resp.StatusCode)
		}
	})
	t.Run("slow handler is not cut by the body deadline", func(t *testing.T) {
		// A request whose body was read in time may take longer than
		// BodyTimeout to answer: here the event stream, which lives on.
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/events", nil)
		req.Header.Set("X-ChatWorkToken", e.alice.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		e.post(e.bob, e.room, "hello")
		time.AfterFunc(time.Second, func() { e.post(e.bob, e.room, "after the deadlines") })
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "after the deadlines") {
				return
			}
		}
		t.Fatalf("event stream ended before the second post: %v", sc.Err())
	})
	resp, err := http.Get("http://" + addr + "/api/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("node stopped answering: %v, %v", resp, err)
	}
	resp.Body.Close()
}

// TestEventStreamOutlivesWriteTimeout: a client that reads the live event
// stream keeps it past WriteTimeout; heartbeats renew the deadline.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, Config{WriteTimeout: 200 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	addr := serveReal(t, e)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/events", nil)
	req.Header.Set("X-ChatWorkToken", e.alice.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	deadline := time.Now().Add(time.Second) // five write timeouts
	beats := 0
	sc := bufio.NewScanner(resp.Body)
	for time.Now().Before(deadline) && sc.Scan() {
		if strings.HasPrefix(sc.Text(), ": heartbeat") {
			beats++
		}
	}
	if time.Now().Before(deadline) {
		t.Fatalf("stream ended after %d heartbeats: %v", beats, sc.Err())
	}
}

// TestConnectionLimits: past MaxConnsPerAddr, a client's new connections
// are closed at once; a freed slot is usable again.
func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, Config{MaxConnsPerAddr: 3})
	addr := serveReal(t, e)
	var open []net.Conn
	for range 3 {
		c := dialT(t, addr)
		fmt.Fprintf(c, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		open = append(open, c)
	}
	extra := dialT(t, addr)
	if !closedWithin(t, extra, 5*time.Second) {
		t.Fatal("a connection over the per-address limit was kept")
	}
	if e.api.Refused() == 0 {
		t.Fatal("the refusal was not counted")
	}
	open[0].Close()
	// The slot frees when the server notices the close; retry until then.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a freed slot is not usable: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLoginBodyBound: a login body is bounded to a few KiB, whatever
// MaxBodyBytes is, so unauthenticated clients cannot make the node hold
// large bodies.
func TestLoginBodyBound(t *testing.T) {
	e := newEnv(t, Config{})
	addr := serveReal(t, e)
	body := "login=alice&password=" + strings.Repeat("x", maxLoginBody)
	resp, err := http.Post("http://"+addr+"/api/login", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized login: status %d, want 413", resp.StatusCode)
	}
}

// TestStalledBodiesBoundMemory: clients that announce a large login body
// and stall hold little memory each (the login body limit), and nothing
// once the body deadline has closed them.
func TestStalledBodiesBoundMemory(t *testing.T) {
	e := newEnv(t, Config{BodyTimeout: 2 * time.Second, MaxConnsPerAddr: 1000})
	addr := serveReal(t, e)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before, goroutines := heap(), runtime.NumGoroutine()
	const conns = 200
	var cs []net.Conn
	for range conns {
		c := dialT(t, addr)
		fmt.Fprintf(c, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 1048576\r\n\r\nlogin=alice&password=%s", strings.Repeat("x", 4000))
		cs = append(cs, c)
	}
	// Wait until a goroutine serves each connection: its handler is then
	// reading the body.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() < goroutines+conns {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines serve %d connections", runtime.NumGoroutine()-goroutines, conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	const perConn = 64 << 10 // the 8 KiB login limit, buffers and a goroutine, with room to spare
	if grown := int64(heap()) - int64(before); grown > conns*perConn {
		t.Fatalf("%d stalled logins grew the heap by %d bytes, over %d each", conns, grown, perConn)
	}
	for _, c := range cs {
		if !closedWithin(t, c, 10*time.Second) {
			t.Fatal("a stalled body was not cut off")
		}
	}
}
