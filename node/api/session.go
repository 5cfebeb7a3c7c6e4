package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/horenso/horenso/node"
)

// sessionJSON is the answer of /api/login and /api/session.
type sessionJSON struct {
	AccountID uint64 `json:"account_id"`
	Name      string `json:"name"`
	CSRFToken string `json:"csrf_token"`
	Admin     bool   `json:"admin,omitempty"` // the account administers the node: the app shows its admin pages
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
	password, _, err := p.text("password", true, 1, node.MaxPasswordLen)
	if err != nil {
		return err
	}
	// Refused before the password is checked, for an unknown account as
	// for a real one: the answer tells nothing about which it is.
	if err := s.attempt(w, login); err != nil {
		return err
	}
	acc, token, err := s.node.StartSession(r.Context(), login, password,
		node.Client{UserAgent: r.UserAgent(), Addr: clientAddr(r)})
	switch {
	case errors.Is(err, node.ErrUnauthorized):
		return unauthorized("wrong login or password")
	case errors.Is(err, node.ErrDisabled):
		return unauthorized("account is disabled")
	case errors.Is(err, node.ErrBusy):
		s.backoff.forgive(login) // no password was checked
		return err
	case err != nil:
		return err
	}
	s.backoff.reset(login)
	// A browser logging in again drops its old session.
	if old, cookie := credential(r); cookie {
		s.node.RevokeToken(r.Context(), old)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	writeJSON(w, http.StatusOK, sessionJSON{AccountID: acc.Alias, Name: acc.Name, CSRFToken: s.node.CSRFToken(token), Admin: acc.Admin})
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
	writeJSON(w, http.StatusOK, sessionJSON{AccountID: c.acc.Alias, Name: c.acc.Name, CSRFToken: s.node.CSRFToken(c.token), Admin: c.acc.Admin})
	return nil
}

// attempt counts an attempt with login name login (see backoff.attempt),
// or refuses it with 429 and Retry-After while the name is backed off.
func (s *Server) attempt(w http.ResponseWriter, login string) error {
	if d := s.backoff.attempt(login); d > 0 {
		err := &lockedError{wait: d}
		w.Header().Set("Retry-After", strconv.FormatInt(err.seconds(), 10))
		return err
	}
	return nil
}

// sessionView is one entry of GET /api/sessions.
type sessionView struct {
	ID        string `json:"id"`
	Created   int64  `json:"created"`   // unix seconds
	LastUsed  int64  `json:"last_used"` // unix seconds, to within a minute
	UserAgent string `json:"user_agent"`
	Address   string `json:"address"`
	Current   bool   `json:"current"` // the session this request came with
}

// sessions lists the caller's web sessions, most recently used first.
func (s *Server) sessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	ss, err := s.node.Sessions(r.Context(), c.handle())
	if err != nil {
		return err
	}
	current := ""
	if c.cookie {
		current = node.SessionID(c.token)
	}
	out := make([]sessionView, 0, len(ss))
	for _, x := range ss {
		out = append(out, sessionView{ID: x.ID, Created: x.Created / 1000, LastUsed: x.LastUsed / 1000,
			UserAgent: x.UserAgent, Address: x.Addr, Current: x.ID == current})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// endSession ends one of the caller's web sessions.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.node.EndSession(r.Context(), c.handle(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changePassword changes the caller's password given the current one, and
// ends the account's other web sessions. Wrong current passwords count
// towards the account's login backoff, so a stolen session cannot be used
// to guess the password faster than the login form can.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	current, _, err := p.text("current_password", true, 1, node.MaxPasswordLen)
	if err != nil {
		return err
	}
	next, _, err := p.text("new_password", true, 1, node.MaxPasswordLen)
	if err != nil {
		return err
	}
	// A bad new password is refused before the attempt counts: no
	// current password was checked.
	if err := node.ValidPassword(next); err != nil {
		return err
	}
	login := string(c.handle())
	if err := s.attempt(w, login); err != nil {
		return err
	}
	keep := ""
	if c.cookie {
		keep = c.token
	}
	err = s.node.ChangePassword(r.Context(), c.handle(), current, next, keep)
	if errors.Is(err, node.ErrUnauthorized) {
		// Not 401: the session is fine, and the app must not take this
		// for being logged out.
		return forbidden("the current password is wrong")
	}
	if err != nil {
		return err
	}
	s.backoff.reset(login)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
