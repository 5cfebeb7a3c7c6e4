package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/horenso/horenso/node"
)

// linkURL is the address of a link with code: PublicURL, or the scheme
// and host the request was made to, then /g/code as in ChatWork.
func (s *Server) linkURL(r *http.Request, code string) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/g/" + code
}

func (s *Server) linkView(r *http.Request, l *node.Link) linkJSON {
	if l == nil {
		return linkJSON{}
	}
	url := s.linkURL(r, l.Code)
	return linkJSON{Public: true, URL: &url, NeedAcceptance: &l.NeedAcceptance, Description: &l.Description}
}

func (s *Server) link(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	l, err := s.node.RoomLink(r.Context(), c.handle(), id)
	if errors.Is(err, node.ErrNoLink) {
		l, err = nil, nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.linkView(r, l))
	return nil
}

// linkParams reads code, need_acceptance and description; each is nil if
// not given.
func linkParams(p *params) (code *string, need *bool, desc *string, err error) {
	if v, ok, err := p.text("code", false, 1, node.MaxLinkCode); err != nil {
		return nil, nil, nil, err
	} else if ok {
		if err := node.ValidLinkCode(v); err != nil {
			return nil, nil, nil, invalid("parameter code: " + err.Error())
		}
		code = &v
	}
	if _, ok, _ := p.get("need_acceptance"); ok {
		v, err := p.boolean("need_acceptance", true)
		if err != nil {
			return nil, nil, nil, err
		}
		need = &v
	}
	if v, ok, err := p.text("description", false, 0, node.MaxLinkDescription); err != nil {
		return nil, nil, nil, err
	} else if ok {
		desc = &v
	}
	return code, need, desc, nil
}

func (s *Server) createLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	code, need, desc, err := linkParams(p)
	if err != nil {
		return err
	}
	spec := node.LinkSpec{NeedAcceptance: true} // ChatWork's default
	if code != nil {
		spec.Code = *code
	}
	if need != nil {
		spec.NeedAcceptance = *need
	}
	if desc != nil {
		spec.Description = *desc
	}
	l, err := s.node.CreateLink(r.Context(), c.handle(), id, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.linkView(r, l))
	return nil
}

func (s *Server) updateLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	code, need, desc, err := linkParams(p)
	if err != nil {
		return err
	}
	l, err := s.node.UpdateLink(r.Context(), c.handle(), id, node.LinkChange{Code: code, NeedAcceptance: need, Description: desc})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.linkView(r, l))
	return nil
}

func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	if err := s.node.DeleteLink(r.Context(), c.handle(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, linkJSON{})
	return nil
}

// linkTarget shows what a link code leads to, for a join page.
func (s *Server) linkTarget(w http.ResponseWriter, r *http.Request, c *caller) error {
	code := r.PathValue("code")
	if err := node.ValidLinkCode(code); err != nil {
		return notFound("no such invitation link")
	}
	t, err := s.node.LinkByCode(r.Context(), c.handle(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"room_id": t.RoomAlias, "name": t.Name, "description": t.Description,
		"need_acceptance": t.NeedAcceptance, "member": t.Member, "url": s.linkURL(r, t.Code)})
	return nil
}

// join joins the caller to the room of a link: at once (200 with the
// room_id), or, if the link needs acceptance, as a request for the room's
// admins to decide (202 with "pending": true).
func (s *Server) join(w http.ResponseWriter, r *http.Request, c *caller) error {
	code := r.PathValue("code")
	if err := node.ValidLinkCode(code); err != nil {
		return notFound("no such invitation link")
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	msg, _, err := p.text("message", false, 0, node.MaxLinkDescription)
	if err != nil {
		return err
	}
	room, pending, err := s.node.JoinByLink(r.Context(), c.handle(), code, msg)
	if err != nil {
		return err
	}
	alias, _ := c.ids.roomAlias(r.Context(), room)
	if pending {
		writeJSON(w, http.StatusAccepted, map[string]any{"room_id": alias, "pending": true})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"room_id": alias, "pending": false})
	return nil
}

func (s *Server) joinRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	rs, err := s.node.JoinRequests(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	type reqJSON struct {
		AccountID uint64 `json:"account_id"`
		Name      string `json:"name"`
		OrgName   string `json:"organization_name"`
		Message   string `json:"message"`
		Time      int64  `json:"request_time"`
	}
	out := make([]reqJSON, 0, len(rs))
	for _, jr := range rs {
		out = append(out, reqJSON{AccountID: jr.Alias, Name: jr.Name, OrgName: jr.Org, Message: jr.Message, Time: seconds(jr.Time)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) acceptJoin(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.decideJoin(w, r, c, true)
}

func (s *Server) rejectJoin(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.decideJoin(w, r, c, false)
}

func (s *Server) decideJoin(w http.ResponseWriter, r *http.Request, c *caller, accept bool) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	n, err := pathID(r, "account_id")
	if err != nil {
		return err
	}
	a, err := s.node.AccountByAlias(r.Context(), n)
	if errors.Is(err, node.ErrNotFound) {
		return notFound("no such account")
	}
	if err != nil {
		return err
	}
	if err := s.node.DecideJoin(r.Context(), c.handle(), id, a, accept); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
