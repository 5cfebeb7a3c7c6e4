package api

import "net/http"

// unreadJSON is the caller's place in a room: the unread and mention
// counts of /v2/rooms, and the first unread message (null when none).
type unreadJSON struct {
	Unread   uint64       `json:"unread_num"`
	Mentions uint64       `json:"mention_num"`
	First    *messageJSON `json:"first_unread"`
}

// unread answers where the caller left off in a room, so that a client
// can open it at the first unread message and page from there with
// GET /api/rooms/{room_id}/messages?before=|after=.
func (s *Server) unread(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	u, err := s.node.FirstUnread(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	out := unreadJSON{Unread: u.Count, Mentions: u.Mentions}
	if u.First != nil {
		m := c.messageView(r.Context(), u.First)
		out.First = &m
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
