package api

import (
	"net/http"
)

// Files are not built yet. The list answers empty, a file ID is unknown,
// and an upload gets 501 with a clear message, after the usual checks so
// that a client learns of a bad room or parameter first.

func (s *Server) files(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if _, err := p.id("account_id", false); err != nil {
		return err
	}
	if _, err := s.node.Room(r.Context(), c.handle(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []struct{}{})
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	if _, err := s.node.Room(r.Context(), c.handle(), id); err != nil {
		return err
	}
	return &apiError{errNotSupported, "file upload is not supported yet: this node does not store files"}
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	if _, err := pathID(r, "file_id"); err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if _, err := p.boolean("create_download_url", false); err != nil {
		return err
	}
	if _, err := s.node.Room(r.Context(), c.handle(), id); err != nil {
		return err
	}
	return notFound("no such file")
}
