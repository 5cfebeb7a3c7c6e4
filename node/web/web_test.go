package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/horenso/horenso/node/web"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assetURL returns the versioned URL of a static file as index.html names it.
func assetURL(t *testing.T, h http.Handler, name string) string {
	t.Helper()
	index := body(t, get(t, h, "GET", "/"))
	m := regexp.MustCompile(`"(/assets/[0-9a-f]+/)`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("index.html names no versioned assets:\n%s", index)
	}
	return m[1] + name
}

func TestRoutes(t *testing.T) {
	h := web.Handler()
	tests := []struct {
		name, method, path string
		status             int
		ctype              string // prefix
		cache              string // prefix
		contains           string
	}{
		{"index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", `<div id="app"`},
		{"login route", "GET", "/login", 200, "text/html", "no-cache", `<div id="app"`},
		{"room route", "GET", "/rooms/12", 200, "text/html", "no-cache", `<div id="app"`},
		{"my tasks route", "GET", "/tasks", 200, "text/html", "no-cache", `<div id="app"`},
		{"contacts route", "GET", "/contacts", 200, "text/html", "no-cache", `<div id="app"`},
		{"bookmarks route", "GET", "/bookmarks", 200, "text/html", "no-cache", `<div id="app"`},
		{"admin route", "GET", "/admin/partners", 200, "text/html", "no-cache", `<div id="app"`},
		{"search route", "GET", "/search", 200, "text/html", "no-cache", `<div id="app"`},
		{"invitation link", "GET", "/g/launch_2026", 200, "text/html", "no-cache", `<div id="app"`},
		{"head index", "HEAD", "/rooms/3", 200, "text/html", "no-cache", ""},
		{"unknown page", "GET", "/nope", 404, "application/json", "", ""},
		{"route prefix only", "GET", "/roomsx", 404, "application/json", "", ""},
		{"v2 never falls back", "GET", "/v2/rooms", 404, "application/json", "", `"errors"`},
		{"v2 root", "GET", "/v2", 404, "application/json", "", `"errors"`},
		{"api never falls back", "GET", "/api/whatever", 404, "application/json", "", `"errors"`},
		{"api post", "POST", "/api/login", 404, "application/json", "", `"errors"`},
		{"post to page", "POST", "/rooms/1", 405, "application/json", "", ""},
		{"favicon", "GET", "/favicon.ico", 200, "image/svg+xml", "no-cache", "<svg"},
		{"asset of an old version", "GET", "/assets/0123456789ab/app.css", 200, "text/css; charset=utf-8", "no-cache", ":root"},
		{"asset index not served", "GET", "/assets/0123456789ab/index.html", 404, "application/json", "", ""},
		{"asset escape", "GET", "/assets/x/../web.go", 404, "application/json", "", ""},
		{"asset missing", "GET", "/assets/x/js/nope.js", 404, "application/json", "", ""},
		{"asset without version", "GET", "/assets/app.css", 404, "application/json", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, h, tc.method, tc.path)
			b := body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type = %q, want %q", ct, tc.ctype)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, tc.cache) {
				t.Errorf("Cache-Control = %q, want %q", cc, tc.cache)
			}
			if !strings.Contains(b, tc.contains) {
				t.Errorf("body does not contain %q:\n%.300s", tc.contains, b)
			}
		})
	}
}

func TestAssets(t *testing.T) {
	h := web.Handler()
	tests := []struct{ file, ctype string }{
		{"js/main.js", "text/javascript; charset=utf-8"},
		{"js/notation.js", "text/javascript; charset=utf-8"},
		{"app.css", "text/css; charset=utf-8"},
		{"favicon.svg", "image/svg+xml"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			url := assetURL(t, h, tc.file)
			resp := get(t, h, "GET", url)
			b := body(t, resp)
			if resp.StatusCode != 200 || len(b) == 0 {
				t.Fatalf("GET %s = %d, %d bytes", url, resp.StatusCode, len(b))
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", ct, tc.ctype)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q, want immutable", cc)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			etag := resp.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if again := get(t, h, "GET", url, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("revalidation = %d, want 304", again.StatusCode)
			}
		})
	}
}

func TestIndexHeaders(t *testing.T) {
	h := web.Handler()
	resp := get(t, h, "GET", "/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	etag := resp.Header.Get("ETag")
	if again := get(t, h, "GET", "/rooms/1", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Errorf("index revalidation = %d, want 304", again.StatusCode)
	}
	if b := body(t, resp); strings.Contains(b, "{{ASSETS}}") {
		t.Error("index.html still has the {{ASSETS}} placeholder")
	}
}

// TestModulesPreloaded checks index.html preloads every module, so that
// the browser fetches them in parallel instead of one import level at a
// time: the first screen must render within a second.
func TestModulesPreloaded(t *testing.T) {
	index, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := filepath.Glob("static/js/*.js")
	if err != nil || len(mods) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, m := range mods {
		rel := strings.TrimPrefix(filepath.ToSlash(m), "static/")
		if rel == "js/main.js" {
			continue // the entry point, loaded by its script tag
		}
		if !strings.Contains(string(index), `rel="modulepreload" href="{{ASSETS}}/`+rel+`"`) {
			t.Errorf("index.html does not preload %s", rel)
		}
	}
}

// TestNoMarkupFromStrings enforces the app's XSS rule: DOM is built with
// createElement and textContent; nothing parses a string as HTML.
func TestNoMarkupFromStrings(t *testing.T) {
	banned := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\(|new Function\(|srcdoc`)
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := os.ReadFile(filepath.Join("static", p))
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := banned.FindString(line); m != "" {
				t.Errorf("%s:%d uses %s", p, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
