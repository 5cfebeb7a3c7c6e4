// Package api serves a node over HTTP: the ChatWork API v2 compatible
// endpoints under /v2 and Horenso's own under /api/ (web sessions, the
// live event stream, history paging, contact requests, invitation links).
// docs/API.md is the reference. Errors use ChatWork's shape,
// {"errors": ["..."]}, and one function, statusOf, maps errors to HTTP
// statuses.
//
// Requests authenticate with an API token (X-ChatWorkToken or
// Authorization: Bearer) or a web session cookie. Each token is rate
// limited; a state-changing request authenticated by cookie must carry the
// session's CSRF token.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/web"
)

// Config configures the HTTP API. The zero value is the default.
type Config struct {
	// Logger receives request errors. Default: slog.Default().
	Logger *slog.Logger
	// RateLimit is how many requests one token (or, before login, one
	// client address) may make per RateWindow; over it, requests get 429.
	// Default: 300, ChatWork's. Negative: no limit.
	RateLimit int
	// RateWindow is the rate limit's fixed window. Default: 5 minutes.
	RateWindow time.Duration
	// MaxBodyBytes bounds a request body, except file uploads, which may
	// have MaxUploadBytes. Default: 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes bounds a file upload request. Default: 5 MiB plus
	// 64 KiB for the form around the file (ChatWork's 5 MB limit).
	MaxUploadBytes int64
	// Heartbeat is how often /api/events sends a comment to keep idle
	// connections open. Default: 15 seconds.
	Heartbeat time.Duration
	// PublicURL is the base of invitation link URLs, e.g.
	// "https://chat.example.com". Default: the scheme and host each request
	// was made to.
	PublicURL string
	// Now is the clock of the rate limiter and the login backoff.
	// Default: time.Now.
	Now func() time.Time

	// MaxConns bounds the open HTTP connections; past it, new ones wait
	// to be accepted. Default: 4096.
	MaxConns int
	// MaxConnsPerAddr bounds the open connections from one client
	// address; past it, new ones are closed at once. A reverse proxy's
	// clients share its address: raise it behind one. Default: 256.
	MaxConnsPerAddr int
	// ReadHeaderTimeout bounds sending a request's headers. Default: 10s.
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds sending a request's body, from its headers on.
	// Default: 30s.
	BodyTimeout time.Duration
	// UploadTimeout is BodyTimeout for file uploads. Default: 5 minutes.
	UploadTimeout time.Duration
	// WriteTimeout bounds a client's reading of an answer, from the end
	// of its request's headers; the live event stream renews its own, and
	// a change of a room's members (an event per member taken out, which
	// for thousands may take longer) starts its own once the change is
	// made. Default: 1 minute.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Default: 2 minutes.
	IdleTimeout time.Duration
}

// Defaults, documented on Config.
const (
	DefaultRateLimit      = 300
	DefaultRateWindow     = 5 * time.Minute
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxUploadBytes = 5<<20 + 64<<10
	DefaultHeartbeat      = 15 * time.Second
)

// maxLoginBody bounds a login request: a login and a password.
const maxLoginBody = 8 << 10

// Server is the HTTP API of one node. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	node    *node.Node
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	routed  http.Handler // mux, its JSON answers compressed (compressJSON)
	limiter *limiter
	backoff *backoff // failed logins per login name

	// stopped is canceled by Shutdown, which ends the live event streams.
	// It carries no values or deadline: it is the server's lifetime, not
	// a request's.
	stopped context.Context
	stop    context.CancelFunc

	refused atomic.Uint64 // connections closed by the per-address limit

	fan       *fanout      // the live event stream's fan-out (fanout.go)
	downloads downloadKey  // signs download URLs (files.go)
	metrics   *httpMetrics // Prometheus instruments (metrics.go)
}

var _ http.Handler = (*Server)(nil)

// New returns the API of n. It starts no goroutines: the first live
// event stream starts the fan-out's (fanout.go), which Shutdown ends.
func New(n *node.Node, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&cfg.MaxConns, DefaultMaxConns}, {&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout}, {&cfg.BodyTimeout, DefaultBodyTimeout},
		{&cfg.UploadTimeout, DefaultUploadTimeout}, {&cfg.WriteTimeout, DefaultWriteTimeout},
		{&cfg.IdleTimeout, DefaultIdleTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	s := &Server{node: n, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(),
		limiter: newLimiter(cfg.RateLimit, cfg.RateWindow, cfg.Now), backoff: newBackoff(cfg.Now),
		metrics: newHTTPMetrics()}
	s.stopped, s.stop = context.WithCancel(context.Background())
	s.downloads = newDownloadKey()
	s.fan = newFanout(s)
	s.routes()
	s.routed = compressJSON(s.mux)
	return s
}

// Shutdown ends the live event streams (/api/events), which would
// otherwise keep http.Server.Shutdown waiting. Register it with
// http.Server.RegisterOnShutdown. It does not block.
func (s *Server) Shutdown() { s.stop() }

// ServeHTTP implements http.Handler. It gives the request an ID
// (X-Request-Id), bounds the request body, recovers from a handler's
// panic with a 500, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set(requestIDHeader, requestID(r))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving HTTP", "request_id", h.Get(requestIDHeader), "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			writeErrors(w, http.StatusInternalServerError, "internal error")
		}
	}()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	limit := s.cfg.MaxBodyBytes
	switch {
	case isUpload(r):
		limit = s.cfg.MaxUploadBytes
	case r.URL.Path == "/api/login":
		limit = maxLoginBody // anyone may send one, before logging in
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	s.deadlines(w, r)
	start, sw := time.Now(), &statusWriter{ResponseWriter: w}
	s.routed.ServeHTTP(sw, r)
	s.metrics.observe(r, sw, start)
}

// routes registers every endpoint. Everything else is the web app, which
// answers an unknown /v2 or /api path with ChatWork's 404.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /api/health", s.health)
	s.mux.HandleFunc("POST /api/login", s.login)
	s.mux.HandleFunc("GET /api/download/{token}", s.download) // signed, short-lived: no credentials
	s.mux.HandleFunc("GET /api/replication/identity", s.replicationIdentity)
	s.mux.HandleFunc("GET /api/replication/increment", s.replicationIncrement)
	s.mux.HandleFunc("GET /api/replication/epoch", s.replicationEpoch)
	s.mux.Handle("/", web.Handler())

	// Horenso's own.
	s.handle("POST /api/logout", s.logout)
	s.handle("GET /api/session", s.session)
	s.handle("GET /api/sessions", s.sessions)
	s.handle("DELETE /api/sessions/{id}", s.endSession)
	s.handle("POST /api/password", s.changePassword)
	s.handle("GET /api/events", s.events)
	s.handle("GET /api/rooms/{room_id}/messages", s.history)
	s.handle("GET /api/rooms/{room_id}/unread", s.unread)
	s.handle("PUT /api/rooms/{room_id}/read", s.readUpTo)
	s.handle("PUT /api/rooms/{room_id}/tasks/{task_id}", s.editTask)
	s.handle("GET /api/rooms/{room_id}/files/{file_id}/content", s.fileContent)
	s.handle("GET /api/rooms/{room_id}/files/{file_id}/thumbnail", s.thumbnail)
	s.handle("GET /api/files/policy", s.filePolicy)
	s.handle("GET /api/rooms/{room_id}/history", s.roomHistory)
	s.handle("PUT /api/rooms/{room_id}/history", s.setHistory)
	s.handle("GET /api/rooms/{room_id}/partners", s.roomPartners)
	s.handle("GET /api/rooms/{room_id}/deliveries", s.deliveries)
	s.handle("GET /api/rooms/{room_id}/members", s.flaggedMembers)
	s.handle("POST /api/contacts/requests", s.requestContact)
	s.handle("GET /api/partners", s.partners)
	s.handle("GET /api/people", s.people)
	s.handle("GET /api/search", s.search)
	s.handle("GET /api/links/{code}", s.linkTarget)
	s.handle("POST /api/join/{code}", s.join)
	s.handle("GET /api/rooms/{room_id}/join_requests", s.joinRequests)
	s.handle("PUT /api/rooms/{room_id}/join_requests/{account_id}", s.acceptJoin)
	s.handle("DELETE /api/rooms/{room_id}/join_requests/{account_id}", s.rejectJoin)
	s.handle("GET /api/tokens", s.tokens)
	s.handle("POST /api/tokens", s.createToken)
	s.handle("DELETE /api/tokens/{id}", s.revokeToken)
	s.webhookRoutes()  // webhooks.go
	s.reactionRoutes() // reactions.go
	s.meRoutes()       // me.go
	s.adminRoutes()    // nodeadmin.go

	// ChatWork API v2.
	s.handle("GET /v2/me", s.me)
	s.handle("GET /v2/my/status", s.myStatus)
	s.handle("GET /v2/my/tasks", s.myTasks)
	s.handle("GET /v2/contacts", s.contacts)
	s.handle("GET /v2/rooms", s.rooms)
	s.handle("POST /v2/rooms", s.createRoom)
	s.handle("GET /v2/rooms/{room_id}", s.room)
	s.handle("PUT /v2/rooms/{room_id}", s.updateRoom)
	s.handle("DELETE /v2/rooms/{room_id}", s.leaveRoom)
	s.handle("GET /v2/rooms/{room_id}/members", s.members)
	s.handle("PUT /v2/rooms/{room_id}/members", s.setMembers)
	s.handle("POST /v2/rooms/{room_id}/members", s.setMembers) // some clients POST
	s.handle("GET /v2/rooms/{room_id}/messages", s.messages)
	s.handle("POST /v2/rooms/{room_id}/messages", s.post)
	s.handle("PUT /v2/rooms/{room_id}/messages/read", s.markRead)
	s.handle("PUT /v2/rooms/{room_id}/messages/unread", s.markUnread)
	s.handle("GET /v2/rooms/{room_id}/messages/{message_id}", s.message)
	s.handle("PUT /v2/rooms/{room_id}/messages/{message_id}", s.editMessage)
	s.handle("DELETE /v2/rooms/{room_id}/messages/{message_id}", s.deleteMessage)
	s.handle("GET /v2/rooms/{room_id}/tasks", s.tasks)
	s.handle("POST /v2/rooms/{room_id}/tasks", s.createTasks)
	s.handle("GET /v2/rooms/{room_id}/tasks/{task_id}", s.task)
	s.handle("PUT /v2/rooms/{room_id}/tasks/{task_id}/status", s.taskStatus)
	s.handle("GET /v2/rooms/{room_id}/files", s.files)
	s.handle("POST /v2/rooms/{room_id}/files", s.upload)
	s.handle("GET /v2/rooms/{room_id}/files/{file_id}", s.file)
	s.handle("GET /v2/rooms/{room_id}/link", s.link)
	s.handle("POST /v2/rooms/{room_id}/link", s.createLink)
	s.handle("PUT /v2/rooms/{room_id}/link", s.updateLink)
	s.handle("DELETE /v2/rooms/{room_id}/link", s.deleteLink)
	s.handle("GET /v2/incoming_requests", s.incomingRequests)
	s.handle("PUT /v2/incoming_requests/{request_id}", s.acceptRequest)
	s.handle("PUT /v2/incoming_requests/{request_id}/accept", s.acceptRequest) // newer clients
	s.handle("DELETE /v2/incoming_requests/{request_id}", s.rejectRequest)
	s.handle("DELETE /v2/incoming_requests/{request_id}/reject", s.rejectRequest) // newer clients
}

// health answers whether the node is up and can read its store.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Health(r.Context())
	if err != nil {
		s.log.Error("health check", "err", err)
		writeErrors(w, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "node_id": st.NodeID, "org": st.Org, "role": st.Role})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeErrors writes ChatWork's error shape.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string][]string{"errors": msgs})
}
