package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// doMultipart sends params as multipart/form-data, "file" as a file part
// named example.jpeg of type image/jpeg, as ChatWork's spec example does.
func (e *env) doMultipart(method, path, token string, params kv) *response {
	e.t.Helper()
	var parts []part
	for k, v := range params {
		if k == "file" {
			parts = append(parts, part{name: "file", filename: "example.jpeg", ctype: "image/jpeg", body: v})
		} else {
			parts = append(parts, part{name: k, body: v})
		}
	}
	return e.sendParts(method, path, token, "", parts)
}

// part is one part of a multipart body.
type part struct {
	name, filename, ctype, body string
	rawDisposition              string // used as is when set
}

// sendParts sends parts as a multipart/form-data body with boundary (a
// random one if empty).
func (e *env) sendParts(method, path, token, boundary string, parts []part) *response {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if boundary != "" {
		if err := w.SetBoundary(boundary); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		switch {
		case p.rawDisposition != "":
			h.Set("Content-Disposition", p.rawDisposition)
		case p.filename != "":
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.name, p.filename))
		default:
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, p.name))
		}
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			e.t.Fatal(err)
		}
		io.WriteString(pw, p.body)
	}
	w.Close()
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Content-Type", w.FormDataContentType())
	r.Header.Set("X-ChatWorkToken", token)
	return e.send(r)
}

func (e *env) send(r *http.Request) *response {
	e.t.Helper()
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// upload posts a file through the API and returns its file_id.
func (e *env) upload(t *testing.T, as *user, room *node.Room, name, ctype, content, message string) uint64 {
	t.Helper()
	parts := []part{{name: "file", filename: name, ctype: ctype, body: content}}
	if message != "" {
		parts = append(parts, part{name: "message", body: message})
	}
	r := e.sendParts("POST", fmt.Sprintf("/v2/rooms/%d/files", room.Alias), as.token, "", parts)
	if r.status != 200 {
		t.Fatalf("upload %s: %s", name, r)
	}
	return decodeAs[map[string]uint64](t, r)["file_id"]
}

// runNode serves the node (its background jobs: fetching and collecting
// blobs among them) until the test ends.
func runNode(t *testing.T, n *node.Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node run: %v", err)
		}
	})
}

// blobPath is where the node keeps the bytes of content.
func blobPath(dir, content string) string {
	h := sha256.Sum256([]byte(content))
	x := hex.EncodeToString(h[:])
	return filepath.Join(dir, "blobs", x[:2], x)
}

// waitFor polls cond until it holds or the test's time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUploadBodiesOfRealClients: the multipart bodies curl, Python
// requests, browsers and Go send, each read back through the list, the
// file, its download URL and the message ChatWork posts with it.
func TestUploadBodiesOfRealClients(t *testing.T) {
	e := newEnv(t, Config{})
	fp := fmt.Sprintf("/v2/rooms/%d/files", e.room.Alias)
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00\x01", 700)
	for _, tc := range []struct {
		name     string
		boundary string
		parts    []part
		wantName string
		wantType string
		wantBody string // the message's text before the file notice
		content  string
	}{
		{name: "curl -F file=@ -F message=", boundary: "------------------------f295b94a5560e2eb",
			parts: []part{{name: "file", filename: "example.png", ctype: "image/png", body: png},
				{name: "message", body: "I attached comment to chat."}},
			wantName: "example.png", wantType: "image/png", wantBody: "I attached comment to chat.\n", content: png},
		{name: "python requests: message first, no part type",
			parts:    []part{{name: "message", body: "報告書です"}, {name: "file", filename: "報告書.pdf", body: "%PDF-1.4 x"}},
			wantName: "報告書.pdf", wantType: "application/pdf", wantBody: "報告書です\n", content: "%PDF-1.4 x"},
		{name: "browser FormData: path in name, no message",
			parts:    []part{{name: "file", filename: `C:\Users\taro\notes.txt`, ctype: "text/plain", body: "hello\n"}},
			wantName: "notes.txt", wantType: "text/plain", content: "hello\n"},
		{name: "Go CreateFormFile, extra fields ignored",
			parts:    []part{{name: "token", body: "x"}, {name: "file", filename: "data.bin", ctype: "application/octet-stream", body: "\x00\x01\x02"}},
			wantName: "data.bin", wantType: "application/octet-stream", content: "\x00\x01\x02"},
		{name: "RFC 5987 filename*",
			parts:    []part{{name: "file", rawDisposition: `form-data; name="file"; filename*=UTF-8''%E8%B3%87%E6%96%99.txt`, ctype: "text/plain", body: "x"}},
			wantName: "資料.txt", wantType: "text/plain", content: "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendParts("POST", fp, e.bob.token, tc.boundary, tc.parts)
			if r.status != 200 {
				t.Fatalf("upload = %s", r)
			}
			id := decodeAs[map[string]uint64](t, r)["file_id"]
			if id == 0 {
				t.Fatalf("upload = %s, want a file_id", r)
			}
			r = e.do("GET", fmt.Sprintf("%s/%d", fp, id), req{token: e.alice.token, form: form("create_download_url", "1")})
			if r.status != 200 {
				t.Fatalf("get = %s", r)
			}
			f := decodeAs[fileJSON](t, r)
			if f.FileID != id || f.Filename != tc.wantName || f.Filesize != int64(len(tc.content)) || f.Type != tc.wantType ||
				f.Account.AccountID != e.bob.Alias || f.MessageID == "" || f.UploadTime == 0 || !f.Held {
				t.Fatalf("file = %+v", f)
			}
			if !strings.HasPrefix(f.DownloadURL, e.srv.URL+"/api/download/") {
				t.Fatalf("download_url = %q", f.DownloadURL)
			}
			// The URL works without credentials.
			resp, err := http.Get(f.DownloadURL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != tc.content || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("download = %d %q (%v)", resp.StatusCode, got, resp.Header)
			}
			// The message ChatWork posts.
			r = e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, f.MessageID), req{token: e.alice.token})
			m := decodeAs[messageJSON](t, r)
			want := fmt.Sprintf("%s[info][title][dtext:file_uploaded][/title][download:%d]%s (%s)[/download][/info]",
				tc.wantBody, id, tc.wantName, sizeText(len(tc.content)))
			if m.Body != want || m.Account.AccountID != e.bob.Alias {
				t.Fatalf("message body %q, want %q", m.Body, want)
			}
		})
	}
	r := e.do("GET", fp, req{token: e.alice.token})
	if fs := decodeAs[[]fileJSON](t, r); len(fs) != 5 || fs[0].Filename != "資料.txt" {
		t.Fatalf("list = %s, want 5 files, newest first", r)
	}
	r = e.do("GET", fp, req{token: e.alice.token, form: form("account_id", fmt.Sprint(e.alice.Alias))})
	if fs := decodeAs[[]fileJSON](t, r); len(fs) != 0 {
		t.Fatalf("alice's files = %s, want none", r)
	}
}

func sizeText(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.2f KB", float64(n)/1024)
}

// TestFileErrors: what ChatWork clients get wrong, and the limits.
func TestFileErrors(t *testing.T) {
	e := newEnvWith(t, node.Config{MaxFileSize: 1000, AccountQuota: 1500}, Config{})
	fp := fmt.Sprintf("/v2/rooms/%d/files", e.room.Alias)
	file := func(n int) []part { return []part{{name: "file", filename: "a.txt", body: strings.Repeat("x", n)}} }
	for _, tc := range []struct {
		name  string
		as    *user
		parts []part
		want  int
	}{
		{"no file part", e.bob, []part{{name: "message", body: "hi"}}, 400},
		{"file without filename", e.bob, []part{{name: "file", body: "x"}}, 400},
		{"two files", e.bob, append(file(1), file(1)...), 400},
		{"too large", e.bob, file(1001), 400},
		{"non-member", e.carol, file(10), 404},
		{"within limits", e.bob, file(1000), 200},
		{"over quota", e.bob, file(600), 403},
		{"another account's quota", e.alice, file(600), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendParts("POST", fp, tc.as.token, "", tc.parts)
			if r.status != tc.want {
				t.Fatalf("upload = %s, want %d", r, tc.want)
			}
			if r.status >= 400 {
				r.errors(t)
			}
		})
	}
	for _, tc := range []call{
		{name: "form body", method: "POST", path: fp, as: e.bob, form: kv{"message": "x"}, want: 400},
		{name: "list as non-member", method: "GET", path: fp, as: e.carol, want: 404},
		{name: "list bad account", method: "GET", path: fp, as: e.bob, form: kv{"account_id": "me"}, want: 400},
		{name: "get unknown", method: "GET", path: fp + "/999", as: e.bob, want: 404},
		{name: "get bad id", method: "GET", path: fp + "/x", as: e.bob, want: 400},
		{name: "get bad flag", method: "GET", path: fp + "/1", as: e.bob, form: kv{"create_download_url": "maybe"}, want: 400},
		{name: "get as non-member", method: "GET", path: fp + "/1", as: e.carol, want: 404},
		{name: "get from another room", method: "GET", path: fmt.Sprintf("/v2/rooms/%d/files/1", e.newRoom(e.bob, "Other").Alias), as: e.bob, want: 404},
	} {
		runCalls(t, e, []call{tc})
	}
	// Blobs left by refused uploads are gone.
	tmp, _ := os.ReadDir(filepath.Join(e.dataDir(t), "blobs", "tmp"))
	if len(tmp) != 0 {
		t.Fatalf("blobs/tmp holds %d files after refused uploads", len(tmp))
	}
}

// TestDownloadURL: a download URL expires, cannot be altered, and stops
// working when its account leaves the room.
func TestDownloadURL(t *testing.T) {
	e := newEnv(t, Config{})
	id := e.upload(t, e.bob, e.room, "plan.txt", "text/plain", "the plan", "")
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := e.api.downloads.sign(e.bob.Handle, e.room.ID, id, time.Now().Add(time.Minute))
	if s := get(e.srv.URL + "/api/download/" + tok); s != 200 {
		t.Fatalf("fresh token: %d", s)
	}
	old := e.api.downloads.sign(e.bob.Handle, e.room.ID, id, time.Now().Add(-time.Second))
	if s := get(e.srv.URL + "/api/download/" + old); s != 404 {
		t.Fatalf("expired token: %d, want 404", s)
	}
	forged := newDownloadKey().sign(e.bob.Handle, e.room.ID, id, time.Now().Add(time.Minute))
	if s := get(e.srv.URL + "/api/download/" + forged); s != 404 {
		t.Fatalf("token of another key: %d, want 404", s)
	}
	carol := e.api.downloads.sign(e.carol.Handle, e.room.ID, id, time.Now().Add(time.Minute))
	if s := get(e.srv.URL + "/api/download/" + carol); s != 404 {
		t.Fatalf("token of a non-member: %d, want 404", s)
	}
	// The web app's way, by session: an image shows inline, with Range.
	pid := e.upload(t, e.bob, e.room, "p.png", "image/png", "\x89PNG0123456789", "")
	r, _ := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("%s/api/rooms/%d/files/%d/content", e.srv.URL, e.room.Alias, pid), nil)
	r.Header.Set("X-ChatWorkToken", e.alice.token)
	r.Header.Set("Range", "bytes=4-7")
	resp := e.send(r)
	if resp.status != http.StatusPartialContent || string(resp.body) != "0123" || !strings.HasPrefix(resp.header.Get("Content-Disposition"), "inline") ||
		resp.header.Get("Content-Type") != "image/png" {
		t.Fatalf("content range = %s %v", resp, resp.header)
	}
}

// TestDeletedFileIsGone: deleting a file's message takes the file from the
// list and its bytes from the disk, unless another file has the same
// bytes.
func TestDeletedFileIsGone(t *testing.T) {
	e := newEnv(t, Config{})
	runNode(t, e.node)
	dir := e.dataDir(t)
	first := e.upload(t, e.bob, e.room, "a.txt", "text/plain", "same bytes", "")
	second := e.upload(t, e.alice, e.room, "b.txt", "text/plain", "same bytes", "")
	if _, err := os.Stat(blobPath(dir, "same bytes")); err != nil {
		t.Fatalf("blob not stored: %v", err)
	}
	fp := fmt.Sprintf("/v2/rooms/%d/files", e.room.Alias)
	del := func(id uint64) {
		t.Helper()
		f := decodeAs[fileJSON](t, e.do("GET", fmt.Sprintf("%s/%d", fp, id), req{token: e.alice.token}))
		r := e.do("DELETE", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, f.MessageID), req{token: e.alice.token})
		if r.status != 200 {
			t.Fatalf("delete message: %s", r)
		}
		if r := e.do("GET", fmt.Sprintf("%s/%d", fp, id), req{token: e.alice.token}); r.status != 404 {
			t.Fatalf("deleted file = %s, want 404", r)
		}
	}
	del(first)
	if fs := decodeAs[[]fileJSON](t, e.do("GET", fp, req{token: e.bob.token})); len(fs) != 1 || fs[0].FileID != second {
		t.Fatalf("list after delete = %+v", fs)
	}
	// The other file keeps the bytes.
	if _, err := os.Stat(blobPath(dir, "same bytes")); err != nil {
		t.Fatalf("blob removed while a file has it: %v", err)
	}
	del(second)
	waitFor(t, "the unused blob to be removed", func() bool {
		_, err := os.Stat(blobPath(dir, "same bytes"))
		return os.IsNotExist(err)
	})
	// An edited file message loses its file too; the edit is refused
	// through the API so that no one does it by mistake.
	id := e.upload(t, e.bob, e.room, "c.txt", "text/plain", "ccc", "note")
	f := decodeAs[fileJSON](t, e.do("GET", fmt.Sprintf("%s/%d", fp, id), req{token: e.bob.token}))
	r := e.do("PUT", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, f.MessageID), req{token: e.bob.token, form: form("body", "x")})
	if r.status != 400 {
		t.Fatalf("edit of a file message = %s, want 400", r)
	}
}

func (e *env) dataDir(t *testing.T) string {
	t.Helper()
	return e.node.DataDirForTest()
}

// TestThumbnail: the node makes a thumbnail of an image, scaled to fit
// 320 pixels, and none of what is not an image.
func TestThumbnail(t *testing.T) {
	e := newEnv(t, Config{})
	img := image.NewRGBA(image.Rect(0, 0, 1000, 500))
	for x := range 1000 {
		img.Set(x, 250, color.RGBA{255, 0, 0, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pid := e.upload(t, e.bob, e.room, "wide.png", "image/png", buf.String(), "")
	tid := e.upload(t, e.bob, e.room, "a.txt", "text/plain", "not an image", "")
	fake := e.upload(t, e.bob, e.room, "fake.png", "image/png", "not a png", "")
	get := func(id uint64) *response {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("%s/api/rooms/%d/files/%d/thumbnail", e.srv.URL, e.room.Alias, id), nil)
		r.Header.Set("X-ChatWorkToken", e.alice.token)
		return e.send(r)
	}
	for range 2 { // made, then from the cache
		r := get(pid)
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("thumbnail = %d %s", r.status, r.header)
		}
		th, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if b := th.Bounds(); b.Dx() != 320 || b.Dy() != 160 {
			t.Fatalf("thumbnail of %v, want 320x160", b)
		}
	}
	for _, id := range []uint64{tid, fake} {
		if r := get(id); r.status != 404 {
			t.Fatalf("thumbnail of a non-image = %s, want 404", r)
		}
	}
}

// TestDownloadTagTranslated: a client that quotes a file's message names
// the file by its file_id; the node stores the file post's global ID, so
// partners can resolve it, and shows the file_id again. A file the author
// may not read stays as written.
func TestDownloadTagTranslated(t *testing.T) {
	e := newEnv(t, Config{})
	id := e.upload(t, e.alice, e.room, "a.txt", "text/plain", "abc", "")
	f, err := e.node.File(t.Context(), e.alice.Handle, e.room.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	quote := fmt.Sprintf("[qt][download:%d]a.txt (3 B)[/download][/qt] got it", id)
	r := e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: e.bob.token, form: form("body", quote)})
	if r.status != 200 {
		t.Fatalf("post = %s", r)
	}
	mid := decodeAs[map[string]string](t, r)["message_id"]
	ms, err := e.node.Messages(t.Context(), e.bob.Handle, e.room.ID, node.Page{Limit: 1})
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages: %v", err)
	}
	if want := "[download:" + f.Post.String() + "]"; !strings.Contains(ms[0].Body, want) {
		t.Fatalf("stored body %q, want it to hold %s", ms[0].Body, want)
	}
	got := decodeAs[messageJSON](t, e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, mid), req{token: e.alice.token}))
	if got.Body != quote {
		t.Fatalf("body read back %q, want %q", got.Body, quote)
	}
	// Carol cannot read the file: her tag stays a number.
	other := e.newRoom(e.carol, "Carol's")
	own := fmt.Sprintf("[download:%d]x[/download]", id)
	m, err := e.node.Post(t.Context(), e.carol.Handle, other.ID, toGlobal(t.Context(), own, newResolver(e.node, e.carol.Handle)))
	if err != nil || m.Body != own {
		t.Fatalf("carol's body %q (%v), want %q", m.Body, err, own)
	}
}
