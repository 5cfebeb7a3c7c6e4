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

// TestKeptZstdWriters: answers compressed one after the other, each
// flushed halfway, each decode to all of what was written, once, in
// order; a closed writer's encoder is kept and serves the next answer.
func TestKeptZstdWriters(t *testing.T) {
	writers := keptZstdWriters()
	var first *zstd.Encoder
	for answer := range 3 {
		var out bytes.Buffer
		w := writers.New(&out, int(zstd.SpeedFastest)).(*keptZstdWriter)
		if answer == 0 {
			first = w.Encoder
		} else if w.Encoder != first {
			t.Fatalf("answer %d: a new encoder; want the one kept", answer)
		}
		parts := []string{fmt.Sprintf(`{"answer": %d, "first": "`, answer), strings.Repeat("report, contact, consult. ", 400),
			`", "second": "`, "after the flush\"}"}
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
		if err := w.Close(); err != nil { // gzhttp closes once; twice must not keep it twice
			t.Fatal(err)
		}
		r, err := zstd.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if want := strings.Join(parts, ""); err != nil || string(got) != want {
			t.Fatalf("answer %d: decoded %d bytes (%v), want %d", answer, len(got), err, len(want))
		}
	}
}

// BenchmarkCompressAnswer: compressing one JSON answer (50 messages of
// the ChatWork API, about 15 KB; or a 5,000-member list, about 1.2 MB)
// with a writer made for it, a writer reused, gzip's stateless writer
// (what compressJSON sends) and a kept zstd writer (keptZstdWriters).
// gzhttp's pools empty at each garbage collection, so on a node near its
// memory limit most answers pay the "new" cost (docs/PERFORMANCE.md,
// "Answers compressed without a pooled writer").
func BenchmarkCompressAnswer(b *testing.B) {
	words := []string{"会議", "資料", "確認", "お願いします", "明日", "the", "report", "deadline", "client",
		"見積もり", "了解です", "[To:1234]", "task", "done", "共有", "ありがとうございます"}
	var messages []map[string]any
	for i := range 50 {
		var body strings.Builder
		for j := 0; body.Len() < 120; j++ {
			fmt.Fprintf(&body, "%s%d ", words[(i*7+j*13)%len(words)], (i*31+j*17)%1000)
		}
		messages = append(messages, map[string]any{"message_id": fmt.Sprint(1000000 + i), "body": body.String(),
			"account":   map[string]any{"account_id": 12345 + i%3, "name": "Soak Poster", "avatar_image_url": "https://example.com/a.png"},
			"send_time": 1765000000 + i, "update_time": 0})
	}
	var members []map[string]any
	for i := range 5000 {
		members = append(members, map[string]any{"account_id": 100000 + i*7, "role": "member", "name": fmt.Sprintf("社員 %d 山田", i*7919%100000),
			"chatwork_id": fmt.Sprintf("user%x", i*2654435761%1000003), "organization_name": "Example株式会社", "department": "営業部"})
	}
	zstdWriters := keptZstdWriters()
	for _, answer := range []struct {
		name string
		v    any
	}{{"messages=50", messages}, {"members=5000", members}} {
		in, err := json.Marshal(answer.v)
		if err != nil {
			b.Fatal(err)
		}
		reused, err := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct {
			name string
			make func(io.Writer) io.WriteCloser
		}{
			{"gzip-new", func(out io.Writer) io.WriteCloser { w, _ := gzip.NewWriterLevel(out, gzip.BestSpeed); return w }},
			{"gzip-reused", func(out io.Writer) io.WriteCloser { reused.Reset(out); return reused }},
			{"gzip-stateless", func(out io.Writer) io.WriteCloser {
				w, _ := gzip.NewWriterLevel(out, gzip.StatelessCompression)
				return w
			}},
			{"zstd-new", func(out io.Writer) io.WriteCloser {
				w, _ := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
					zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(128<<10)) // gzhttp's own
				return w
			}},
			{"zstd-kept", func(out io.Writer) io.WriteCloser { return zstdWriters.New(out, int(zstd.SpeedFastest)) }},
		} {
			b.Run(answer.name+"/"+w.name, func(b *testing.B) {
				var out bytes.Buffer
				b.ReportAllocs()
				for b.Loop() {
					out.Reset()
					cw := w.make(&out)
					if _, err := cw.Write(in); err != nil {
						b.Fatal(err)
					}
					if err := cw.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(in)), "in-B")
				b.ReportMetric(float64(out.Len()), "out-B")
			})
		}
	}
}
