package api

import (
	"net/http"

	"github.com/horenso/horenso/node"
)

// Contacts and contact requests, local or with accounts on partner nodes.

type contactJSON struct {
	AccountID  uint64 `json:"account_id"`
	RoomID     uint64 `json:"room_id"`
	Name       string `json:"name"`
	ChatworkID string `json:"chatwork_id"`
	OrgID      int    `json:"organization_id"`
	OrgName    string `json:"organization_name"`
	Department string `json:"department"`
	Avatar     string `json:"avatar_image_url"`
}

type requestJSON struct {
	RequestID  uint64 `json:"request_id"`
	AccountID  uint64 `json:"account_id"`
	Message    string `json:"message"`
	Name       string `json:"name"`
	ChatworkID string `json:"chatwork_id"`
	OrgID      int    `json:"organization_id"`
	OrgName    string `json:"organization_name"`
	Department string `json:"department"`
	Avatar     string `json:"avatar_image_url"`
}

// maxRequestList is how many incoming requests one list returns, as in
// ChatWork.
const maxRequestList = 100

// maxContactMessage bounds a contact request's message.
const maxContactMessage = 1024

func contactView(c *node.Contact) contactJSON {
	return contactJSON{AccountID: c.Alias, RoomID: c.RoomAlias, Name: c.Name, ChatworkID: string(c.Handle),
		OrgID: orgID(c.Account.Node()), OrgName: c.Org}
}

func (s *Server) contacts(w http.ResponseWriter, r *http.Request, c *caller) error {
	cs, err := s.node.Contacts(r.Context(), c.handle())
	if err != nil {
		return err
	}
	out := make([]contactJSON, 0, len(cs))
	for _, x := range cs {
		out = append(out, contactView(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) incomingRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	rs, err := s.node.IncomingRequests(r.Context(), c.handle())
	if err != nil {
		return err
	}
	out := make([]requestJSON, 0, len(rs))
	for _, x := range rs[:min(len(rs), maxRequestList)] {
		out = append(out, requestJSON{RequestID: x.ID, AccountID: x.FromAlias, Message: x.Message, Name: x.Name,
			ChatworkID: string(x.Handle), OrgID: orgID(x.From.Node()), OrgName: x.Org})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// acceptRequest accepts a contact request and answers the new contact.
func (s *Server) acceptRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "request_id")
	if err != nil {
		return err
	}
	ct, err := s.node.AcceptRequest(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactView(ct))
	return nil
}

func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "request_id")
	if err != nil {
		return err
	}
	if err := s.node.RejectRequest(r.Context(), c.handle(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// requestContact asks an account, on this node or a partner's, to become
// the caller's contact.
func (s *Server) requestContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	account, _, err := p.text("account", true, 1, 200)
	if err != nil {
		return err
	}
	to, err := s.accountRef(r.Context(), "account", account)
	if err != nil {
		return err
	}
	msg, _, err := p.text("message", false, 0, maxContactMessage)
	if err != nil {
		return err
	}
	if err := s.node.RequestContact(r.Context(), c.handle(), to, msg); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
