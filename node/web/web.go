// Package web is Horenso's web app: plain ES modules and CSS under static/,
// embedded in the binary with go:embed and served by [Handler]. There is no
// build step; the browser loads the modules as they are.
//
// The app talks only to the node's HTTP API: it logs in with POST /api/login
// (an HttpOnly session cookie plus a CSRF token sent back as X-CSRF-Token on
// every state-changing request), reads and writes through the ChatWork v2
// endpoints under /v2, pages a room's history with /api/rooms/{id}/messages
// and follows changes live over the resumable event stream /api/events.
//
// Routes served:
//
//	/                      index.html, the app shell
//	/login, /rooms/{id},   index.html too (client-side routes; a reload
//	/tasks, /contacts,     lands on the same screen)
//	/bookmarks,
//	/g/{code}              (an invitation link's landing page)
//	/admin, /admin/{tab}   (the node's admin pages)
//	/assets/{version}/...  the files under static/, cached for a year: the
//	                       version is a hash of all of them, so a new build
//	                       gets new URLs
//
// Anything else is 404; paths under /v2/ and /api/ never fall back to the
// app and answer with ChatWork's error shape, so a mistyped API call is not
// mistaken for a page.
//
// The browser tests (browser_test.go) run a real node and drive the app in
// headless Chromium with playwright-core; testdata/setup.sh installs what
// they need.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assetPrefix is where the static files are served, followed by the
// version and the file's path under static/.
const assetPrefix = "/assets/"

// securityHeaders go on every response of the app. The CSP allows no inline
// script or style and no other origin: even if user text reached the DOM as
// markup, it could not run.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "same-origin",
	"X-Frame-Options":        "DENY",
}

// appRoutes are the client-side routes that get index.html. A path matches
// if it equals one or starts with it followed by "/".
var appRoutes = []string{"/login", "/rooms", "/tasks", "/contacts", "/g", "/bookmarks", "/admin", "/search"}

type handler struct {
	files   fs.FS  // static/
	version string // hash of all files, part of the asset URLs
	index   []byte // index.html with the version filled in
	etag    string // of index
}

// Handler returns the web app. It is safe for concurrent use; the files are
// read once, when Handler is called.
func Handler() http.Handler {
	files, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees static/ exists
	}
	h := &handler{files: files}
	sum := sha256.New()
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum.Write([]byte(p))
		sum.Write([]byte{0})
		sum.Write(b)
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	h.index = bytes.ReplaceAll(index, []byte("{{ASSETS}}"), []byte(assetPrefix+h.version))
	h.etag = `"` + h.version + `"`
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/v2" || p == "/api" || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/api/") {
		notFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// The node's one error shape, ChatWork's, even outside the API.
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed)
		return
	}
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	switch {
	case strings.HasPrefix(p, assetPrefix):
		h.serveAsset(w, r, strings.TrimPrefix(p, assetPrefix))
	case p == "/favicon.ico":
		h.serveFile(w, r, "favicon.svg", "no-cache")
	case p == "/" || isAppRoute(p):
		h.serveIndex(w, r)
	default:
		notFound(w)
	}
}

func isAppRoute(p string) bool {
	for _, route := range appRoutes {
		if p == route || strings.HasPrefix(p, route+"/") {
			return true
		}
	}
	return false
}

// serveIndex serves the app shell. It must be revalidated on every load so
// that a new build's asset version is seen at once.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", h.etag)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Header.Get("If-None-Match") == h.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(h.index)
}

// serveAsset serves rest = "{version}/{path}". Files of the current
// version are immutable; a request naming another version (a page loaded
// before an upgrade) gets the current file, revalidated each time.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, rest string) {
	version, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" || name == "index.html" {
		notFound(w)
		return
	}
	cache := "no-cache"
	if version == h.version {
		cache = "public, max-age=31536000, immutable"
	}
	h.serveFile(w, r, name, cache)
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name, cache string) {
	name = path.Clean(name)
	if !fs.ValidPath(name) {
		notFound(w)
		return
	}
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		notFound(w)
		return
	}
	ctype := contentTypes[path.Ext(name)]
	if ctype == "" {
		ctype = mime.TypeByExtension(path.Ext(name))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cache)
	etag := `"` + h.version + `"`
	w.Header().Set("ETag", etag)
	// http.ServeContent handles Range, HEAD and If-None-Match.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// contentTypes fixes the types the app depends on rather than trusting the
// system's MIME tables: browsers refuse module scripts served as anything
// but JavaScript.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".json":  "application/json; charset=utf-8",
	".png":   "image/png",
	".woff2": "font/woff2",
}

// notFound and writeError answer in the node's one error shape,
// ChatWork's, so that clients of the API never meet another.
func notFound(w http.ResponseWriter) { writeError(w, http.StatusNotFound) }

func writeError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(`{"errors":["Invalid Endpoint or HTTP method"]}` + "\n"))
}
