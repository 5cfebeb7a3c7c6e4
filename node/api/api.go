// Package api serves a node over HTTP: the ChatWork API v2 compatible
// endpoints under /v2 and Horenso's own under /api/. Errors use
// ChatWork's shape, {"errors": ["..."]}.
package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/horenso/horenso/node"
)

// Config configures the HTTP API. The zero value is the default.
type Config struct {
	// Logger receives request errors. Default: slog.Default().
	Logger *slog.Logger
}

// Server is the HTTP API of one node. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	node *node.Node
	log  *slog.Logger
	mux  *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// New returns the API of n.
func New(n *node.Node, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{node: n, log: cfg.Logger, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /api/health", s.health)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, "Invalid Endpoint or HTTP method")
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// health answers whether the node is up and can read its store.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		s.log.Error("health check", "err", err)
		writeErrors(w, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "node_id": st.NodeID, "org": st.Org})
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
