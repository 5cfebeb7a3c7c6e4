package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Self-service: the caller's display name and avatar picture, and ending
// its other web sessions. Password changes and the session list are in
// session.go.

// avatarPath is where an account's avatar picture is served: a path on
// the node, versioned so that a new picture is never taken from a cache.
// "" for an account without one.
func avatarPath(alias uint64, version string) string {
	if version == "" || alias == 0 {
		return ""
	}
	return "/api/avatars/" + strconv.FormatUint(alias, 10) + "?v=" + version
}

// memberAvatars returns the avatar versions of the local members of ms.
func (s *Server) memberAvatars(r *http.Request, ms []node.Member) (map[protocol.AccountID]string, error) {
	ids := make([]protocol.AccountID, len(ms))
	for i, m := range ms {
		ids[i] = m.Account
	}
	return s.node.AvatarVersions(r.Context(), ids)
}

// profileJSON answers the self-service endpoints.
type profileJSON struct {
	AccountID uint64 `json:"account_id"`
	Name      string `json:"name"`
	Avatar    string `json:"avatar_image_url"`
}

func (s *Server) myProfile(w http.ResponseWriter, r *http.Request, c *caller) error {
	acc, err := s.node.Account(r.Context(), c.handle())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, profileJSON{AccountID: acc.Alias, Name: acc.Name, Avatar: avatarPath(acc.Alias, acc.Avatar)})
	return nil
}

// setProfile changes the caller's display name: parameter name.
func (s *Server) setProfile(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	name, _, err := p.text("name", true, 1, 255)
	if err != nil {
		return err
	}
	if err := s.node.SetName(r.Context(), c.handle(), name); err != nil {
		return err
	}
	return s.myProfile(w, r, c)
}

// setAvatar makes the request body, an image, the caller's avatar
// picture.
func (s *Server) setAvatar(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := s.node.SetAvatar(r.Context(), c.handle(), r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return invalid("the picture is too large")
		}
		return err
	}
	return s.myProfile(w, r, c)
}

func (s *Server) clearAvatar(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.node.ClearAvatar(r.Context(), c.handle()); err != nil {
		return err
	}
	return s.myProfile(w, r, c)
}

// avatar serves a local account's avatar picture to anyone logged in:
// 404 for an account without one (or of a partner's node). With the
// current version in v, the answer may be cached.
func (s *Server) avatar(w http.ResponseWriter, r *http.Request, c *caller) error {
	alias, err := strconv.ParseUint(r.PathValue("account_id"), 10, 64)
	if err != nil {
		return notFound("no such avatar")
	}
	id, ok := c.ids.accountID(r.Context(), alias)
	if !ok || id.Node() != s.node.ID() {
		return notFound("no such avatar")
	}
	f, typ, version, err := s.node.OpenAvatar(r.Context(), id.Handle())
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.URL.Query().Get("v") == version {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	if _, err := io.Copy(w, f); err != nil {
		s.log.Debug("serve avatar", "err", err)
	}
	return nil
}

// endOtherSessions ends the caller's web sessions but the one the request
// came with: "sign out everywhere else".
func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	keep := ""
	if c.cookie {
		keep = c.token
	}
	n, err := s.node.EndOtherSessions(r.Context(), c.handle(), keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
	return nil
}

// meRoutes registers the self-service endpoints.
func (s *Server) meRoutes() {
	s.handle("GET /api/me/profile", s.myProfile)
	s.handle("PUT /api/me/profile", s.setProfile)
	s.handle("PUT /api/me/avatar", s.setAvatar)
	s.handle("DELETE /api/me/avatar", s.clearAvatar)
	s.handle("GET /api/avatars/{account_id}", s.avatar)
	s.handle("DELETE /api/sessions", s.endOtherSessions)
}
