package api

import (
	"net/http"

	"github.com/horenso/horenso/node"
)

// unreadJSON is the caller's place in a room: the unread and mention
// counts of /v2/rooms, the first unread message (null when none), and
// the page to open the room at.
type unreadJSON struct {
	Unread   uint64       `json:"unread_num"`
	Mentions uint64       `json:"mention_num"`
	First    *messageJSON `json:"first_unread"`
	// Messages: up to limit messages before the first unread one, it,
	// and up to limit after it, oldest first; with nothing unread, the
	// newest limit messages.
	Messages []messageJSON `json:"messages"`
}

// unread answers where the caller left off in a room and the messages
// around that place, so that a client opens the room at the first unread
// message in one round trip and pages on from there with
// GET /api/rooms/{room_id}/messages?before=|after=.
func (s *Server) unread(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	limit, given, err := p.integer("limit")
	if err != nil {
		return err
	}
	if !given {
		limit = defaultHistory
	}
	if limit < 1 || limit > maxHistory {
		return invalid("parameter limit must be 1 to 200")
	}
	u, err := s.node.FirstUnread(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	var page []*node.Message
	if u.First == nil {
		page, err = s.node.Messages(r.Context(), c.handle(), id, node.Page{Limit: int(limit)})
	} else {
		var before, after []*node.Message
		before, err = s.node.Messages(r.Context(), c.handle(), id, node.Page{Cursor: u.First.Order, Limit: int(limit)})
		if err == nil {
			after, err = s.node.Messages(r.Context(), c.handle(), id, node.Page{Cursor: u.First.Order, Forward: true, Limit: int(limit)})
		}
		page = append(append(before, u.First), after...)
	}
	if err != nil {
		return err
	}
	out := unreadJSON{Unread: u.Count, Mentions: u.Mentions, Messages: make([]messageJSON, 0, len(page))}
	for _, m := range page {
		out.Messages = append(out.Messages, c.messageView(r.Context(), m))
	}
	s.decorate(r.Context(), c, id, page, out.Messages)
	if u.First != nil {
		vs := []messageJSON{c.messageView(r.Context(), u.First)}
		s.decorate(r.Context(), c, id, []*node.Message{u.First}, vs)
		out.First = &vs[0]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readUpTo moves the caller's read marker forward to message_id, and
// answers the counts after it. Unlike PUT /v2/rooms/{room_id}/messages/read,
// which answers 400 for a message read already (as ChatWork does), it
// leaves a marker that is there or further as it is and answers 200: the
// web app's reader may be ahead on another device or tab.
func (s *Server) readUpTo(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, m, err := s.namedMessage(r, c)
	if err != nil {
		return err
	}
	unread, mentions, err := s.node.ReadUpTo(r.Context(), c.handle(), id, m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"unread_num": unread, "mention_num": mentions})
	return nil
}
