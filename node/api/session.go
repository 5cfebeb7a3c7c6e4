package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/horenso/horenso/node"
)

// sessionJSON is the answer of /api/login and /api/session.
type sessionJSON struct {
	AccountID uint64 `json:"account_id"`
	Name      string `json:"name"`
	CSRFToken string `json:"csrf_token"`
}

// login checks a handle or email and password, starts a session and sets
// its cookie. Failed logins count against the client address's rate limit.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := s.doLogin(w, r); err != nil {
		s.fail(w, r, err)
	}
}

func (s *Server) doLogin(w http.ResponseWriter, r *http.Request) error {
	if err := s.allow(w, clientKey(r)); err != nil {
		return err
	}
	if !sameOrigin(r) {
		return forbidden("login from another site's page")
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	login, _, err := p.text("login", true, 1, 320)
	if err != nil {
		return err
	}
	password, _, err := p.text("password", true, 1, 1024)
	if err != nil {
		return err
	}
	acc, token, err := s.node.StartSession(r.Context(), login, password)
	switch {
	case errors.Is(err, node.ErrUnauthorized):
		return unauthorized("wrong login or password")
	case errors.Is(err, node.ErrDisabled):
		return unauthorized("account is disabled")
	case err != nil:
		return err
	}
	// A browser logging in again drops its old session.
	if old, cookie := credential(r); cookie {
		s.node.RevokeToken(r.Context(), old)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	writeJSON(w, http.StatusOK, sessionJSON{AccountID: acc.Alias, Name: acc.Name, CSRFToken: s.node.CSRFToken(token)})
	return nil
}

// secure reports whether the session cookie should be Secure: the
// request came over TLS, or PublicURL says clients reach the node by
// HTTPS (through a proxy that ends TLS).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(s.cfg.PublicURL), "https://")
}

// sameOrigin rejects a request whose Origin header names another host
// than the one it was sent to; requests without Origin (curl, bots) pass.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// logout ends the session the request's cookie names and clears the
// cookie. A request authenticated by an API token header changes nothing:
// bots' tokens are revoked with `horenso token` commands, not by logging
// out.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.cookie {
		if err := s.node.RevokeToken(r.Context(), c.token); err != nil && !errors.Is(err, node.ErrUnauthorized) {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) session(w http.ResponseWriter, r *http.Request, c *caller) error {
	writeJSON(w, http.StatusOK, sessionJSON{AccountID: c.acc.Alias, Name: c.acc.Name, CSRFToken: s.node.CSRFToken(c.token)})
	return nil
}
