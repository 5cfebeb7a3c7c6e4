package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The replication endpoints of a standby pair (node/standby.go): a
// standby takes its primary's identity and store increments, and either
// end asks the other's fencing epoch. They need the pair's shared secret
// as a bearer token and answer 404 when replication is off, as if they
// did not exist.

// replicationAuth checks the bearer token; it writes the refusal.
func (s *Server) replicationAuth(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.node.ReplicationAuthorized(token) {
		writeErrors(w, http.StatusNotFound, "not found")
		return false
	}
	return true
}

func (s *Server) replicationIdentity(w http.ResponseWriter, r *http.Request) {
	if !s.replicationAuth(w, r) {
		return
	}
	id, err := s.node.Identity()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Warn("replication: a standby took this node's identity", "from", r.RemoteAddr, "standby", r.Header.Get("X-Horenso-Standby"))
	writeJSON(w, http.StatusOK, id)
}

func (s *Server) replicationEpoch(w http.ResponseWriter, r *http.Request) {
	if !s.replicationAuth(w, r) {
		return
	}
	epoch, err := s.node.Epoch()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"epoch": epoch, "node_id": s.node.ID()})
}

func (s *Server) replicationIncrement(w http.ResponseWriter, r *http.Request) {
	if !s.replicationAuth(w, r) {
		return
	}
	since, err := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	if err != nil {
		s.fail(w, r, invalid("since must be a store version"))
		return
	}
	inc, err := s.node.ReplicationIncrement(r.Context(), since, r.Header.Get("X-Horenso-Standby"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer inc.Close()
	// A full copy may take longer than an ordinary answer.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(inc.Size, 10))
	h.Set("X-Horenso-Until", strconv.FormatUint(inc.Until, 10))
	h.Set("X-Horenso-Time", inc.Time.UTC().Format(time.RFC3339Nano))
	h.Set("X-Horenso-Epoch", strconv.FormatUint(inc.Epoch, 10))
	if inc.Full {
		h.Set("X-Horenso-Full", "1")
	}
	w.WriteHeader(http.StatusOK)
	if _, err := inc.WriteTo(w); err != nil {
		s.log.Warn("replication: send increment", "err", err)
	}
}
