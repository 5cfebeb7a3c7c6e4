package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestJSONCompressed: a JSON answer of more than a few kilobytes comes
// compressed to a client that accepts it (gzip or zstd), and whole; a
// small one, and one to a client that does not ask, come as they are.
func TestJSONCompressed(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	for i := range 60 {
		e.post(e.alice, e.room, fmt.Sprintf("message %02d: the quarterly numbers are in the shared folder, please check them", i))
	}
	get := func(path, accept string) *response {
		t.Helper()
		r, err := http.NewRequest("GET", e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("X-ChatWorkToken", e.alice.token)
		if accept != "" {
			// Set by hand, the transport leaves the body as it came.
			r.Header.Set("Accept-Encoding", accept)
		}
		return e.send(r)
	}
	path := fmt.Sprintf("/v2/rooms/%d/messages?force=1", e.room.Alias)
	plain := get(path, "")
	if plain.status != 200 || plain.header.Get("Content-Encoding") != "" || !json.Valid(plain.body) || len(plain.body) < 8<<10 {
		t.Fatalf("plain: %d, encoding %q, %d bytes", plain.status, plain.header.Get("Content-Encoding"), len(plain.body))
	}
	for _, c := range []struct {
		accept, want string
		open         func(io.Reader) (io.Reader, error)
	}{
		{"gzip", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"gzip, deflate, br, zstd", "zstd", func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) }},
	} {
		res := get(path, c.accept)
		if res.status != 200 || res.header.Get("Content-Encoding") != c.want || len(res.body) >= len(plain.body)/2 {
			t.Fatalf("Accept-Encoding %q: %d, encoding %q, %d bytes of %d", c.accept, res.status, res.header.Get("Content-Encoding"), len(res.body), len(plain.body))
		}
		r, err := c.open(bytes.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(body, plain.body) {
			t.Fatalf("Accept-Encoding %q: decoded %d bytes (%v), want the plain answer's %d", c.accept, len(body), err, len(plain.body))
		}
	}
	if small := get("/v2/me", "gzip"); small.status != 200 || small.header.Get("Content-Encoding") != "" {
		t.Errorf("/v2/me: %d, encoding %q; a small answer goes as it is", small.status, small.header.Get("Content-Encoding"))
	}
}

// TestWholeZstdFrames: what a zstd writer of compressJSON is given
// before a Flush and after it decodes to all of it, once, in order.
func TestWholeZstdFrames(t *testing.T) {
	var out bytes.Buffer
	w := wholeZstdFactory().New(&out, int(zstd.SpeedFastest))
	parts := []string{`{"first": "`, string(bytes.Repeat([]byte("report, contact, consult. "), 400)), `", "second": "`, "after the flush\"}"}
	for i, p := range parts {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := zstd.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if want := strings.Join(parts, ""); err != nil || string(got) != want {
		t.Fatalf("decoded %d bytes (%v), want %d", len(got), err, len(want))
	}
}
