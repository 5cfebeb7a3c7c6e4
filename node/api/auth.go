package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Names of the session cookie and the CSRF header.
const (
	sessionCookie = "horenso_session"
	csrfHeader    = "X-CSRF-Token"
	maxTokenLen   = 512
)

// caller is an authenticated request's account and credentials.
type caller struct {
	acc    *node.Account
	token  string // the API or session token the request carried
	cookie bool   // the token came from the session cookie
	ids    *resolver
	grant  *node.Grant // what the token may do; nil: everything the account may
}

// allowsRoom reports whether the caller's token may see the room with
// room_id alias.
func (c *caller) allowsRoom(alias uint64) bool { return c.grant.AllowsRoom(alias) }

func (c *caller) handle() protocol.Handle { return c.acc.Handle }

// handlerFunc serves an authenticated request. Errors it returns are
// written by Server.fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// handle registers an endpoint that needs authentication, and refuses
// a token whose grant does not allow it (see routeScopes).
func (s *Server) handle(pattern string, h handlerFunc) {
	guard := guardOf(pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(w, r)
		if err == nil {
			err = guard.check(w, r, c.grant)
		}
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// credential returns the token a request carries: X-ChatWorkToken, then
// Authorization: Bearer, then the session cookie.
func credential(r *http.Request) (token string, cookie bool) {
	if t := r.Header.Get("X-ChatWorkToken"); t != "" {
		return t, false
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if scheme, t, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// authenticate finds the request's account, checks the CSRF token of a
// cookie-authenticated request that changes state, and applies the rate
// limit of the token. The node looks a token up by its SHA-256 hash, so
// no comparison of secret bytes depends on how much of a guess is right.
// A disabled account's tokens fail at once: the node checks the account
// on every lookup.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*caller, error) {
	token, cookie := credential(r)
	if token == "" || len(token) > maxTokenLen {
		return nil, unauthorized("Invalid API token")
	}
	acc, grant, err := s.node.AuthenticateGrant(r.Context(), token)
	if errors.Is(err, node.ErrDisabled) {
		return nil, unauthorized("account is disabled")
	}
	if errors.Is(err, node.ErrUnauthorized) {
		return nil, unauthorized("Invalid API token")
	}
	if err != nil {
		return nil, err
	}
	if cookie && !safeMethod(r.Method) && !s.csrfOK(r, token) {
		return nil, forbidden("missing or wrong " + csrfHeader + " header (required with cookie authentication)")
	}
	sum := sha256.Sum256([]byte(token))
	if err := s.allow(w, "t"+string(sum[:])); err != nil {
		return nil, err
	}
	return &caller{acc: acc, token: token, cookie: cookie, ids: newResolver(s.node, acc.Handle), grant: grant}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Server) csrfOK(r *http.Request, session string) bool {
	got := r.Header.Get(csrfHeader)
	return got != "" && hmac.Equal([]byte(got), []byte(s.node.CSRFToken(session)))
}

// clientKey is the rate limit key of an unauthenticated request: its
// client's address.
func clientKey(r *http.Request) string { return "a" + clientAddr(r) }

// clientAddr is the IP address a request came from (a proxy's, behind
// one).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host
}
