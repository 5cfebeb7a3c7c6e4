package api

import "net/http"

// Contacts and contact requests need the node's contact methods, which are
// not in this build yet. Until they are, these endpoints are routed and
// authenticated and answer 501 with a clear message.

var errNoContacts = &apiError{errNotSupported, "contacts are not supported yet by this node"}

func (s *Server) contacts(w http.ResponseWriter, r *http.Request, c *caller) error {
	return errNoContacts
}

func (s *Server) incomingRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	return errNoContacts
}

func (s *Server) acceptRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := pathID(r, "request_id"); err != nil {
		return err
	}
	return errNoContacts
}

func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := pathID(r, "request_id"); err != nil {
		return err
	}
	return errNoContacts
}

func (s *Server) requestContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	return errNoContacts
}
