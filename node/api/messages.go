package api

import (
	"net/http"
	"strconv"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// maxBody is the longest message or task body ChatWork accepts, in
// characters; the node also holds bodies to protocol.MaxTextSize bytes.
const maxBody = 65535

// messageOf resolves the message_id in the path (or in a parameter) to a
// message of room the caller can read.
func (s *Server) messageOf(r *http.Request, c *caller, room protocol.RoomID, raw string) (*node.Message, error) {
	n, err := parseID("message_id", raw)
	if err != nil {
		return nil, err
	}
	return s.node.MessageInRoom(r.Context(), c.handle(), room, n)
}

// messages lists a room's messages. Without force=1 it returns only those
// not fetched with the caller's token yet (at most 100), and 204 with an empty body
// when there are none; with force=1 the newest 100.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	force, err := p.boolean("force", false)
	if err != nil {
		return err
	}
	var ms []*node.Message
	if force || r.Method == http.MethodHead { // a HEAD must not use up the unfetched messages
		ms, err = s.node.Messages(r.Context(), c.handle(), id, node.Page{Limit: 100})
	} else {
		ms, err = s.node.FetchMessages(r.Context(), c.handle(), c.token, id)
	}
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, c.messageView(r.Context(), m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// post posts a message. Horenso never counts a poster's own messages as
// unread, so self_unread is checked but changes nothing.
func (s *Server) post(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	body, _, err := p.text("body", true, 1, maxBody)
	if err != nil {
		return err
	}
	if _, err := p.boolean("self_unread", false); err != nil {
		return err
	}
	m, err := s.node.Post(r.Context(), c.handle(), id, toGlobal(r.Context(), body, c.ids))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": strconv.FormatUint(m.Alias, 10)})
	return nil
}

// namedMessage returns the room of the request's path and the message its
// required message_id parameter names in it.
func (s *Server) namedMessage(r *http.Request, c *caller) (protocol.RoomID, *node.Message, error) {
	id, err := s.roomOf(r)
	if err != nil {
		return id, nil, err
	}
	p, err := readParams(r)
	if err != nil {
		return id, nil, err
	}
	raw, given, err := p.get("message_id")
	if err != nil {
		return id, nil, err
	}
	if !given {
		return id, nil, invalid("parameter message_id is required")
	}
	m, err := s.messageOf(r, c, id, raw)
	return id, m, err
}

// markRead marks the room read up to message_id (or entirely). Like
// ChatWork it answers 400 when that message is read already.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	raw, given, err := p.get("message_id")
	if err != nil {
		return err
	}
	var upTo protocol.EventID
	if given {
		m, err := s.messageOf(r, c, id, raw)
		if err != nil {
			return err
		}
		read, err := s.isRead(r, c, id, m)
		if err != nil {
			return err
		}
		if read {
			return invalid("message " + raw + " is already read")
		}
		upTo = m.ID
	}
	unread, mentions, err := s.node.MarkRead(r.Context(), c.handle(), id, upTo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"unread_num": unread, "mention_num": mentions})
	return nil
}

// isRead reports whether m is at or before the caller's read position in
// the room: whether fewer than the room's unread messages follow it.
// Unread counts leave out the caller's own and deleted messages and system
// messages; so does this count.
func (s *Server) isRead(r *http.Request, c *caller, room protocol.RoomID, m *node.Message) (bool, error) {
	v, err := s.node.Room(r.Context(), c.handle(), room)
	if err != nil {
		return false, err
	}
	if v.Unread == 0 {
		return true, nil
	}
	var after uint64
	cursor := m.Order
	for {
		ms, err := s.node.Messages(r.Context(), c.handle(), room, node.Page{Cursor: cursor, Forward: true, Limit: node.MaxPage})
		if err != nil {
			return false, err
		}
		for _, x := range ms {
			if !x.Deleted && x.Notice == "" && x.Author != c.acc.ID {
				after++
			}
		}
		if after >= v.Unread {
			return true, nil
		}
		if len(ms) < node.MaxPage {
			return false, nil
		}
		cursor = ms[len(ms)-1].Order
	}
}

func (s *Server) markUnread(w http.ResponseWriter, r *http.Request, c *caller) error {
	_, m, err := s.namedMessage(r, c)
	if err != nil {
		return err
	}
	unread, mentions, err := s.node.MarkUnread(r.Context(), c.handle(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"unread_num": unread, "mention_num": mentions})
	return nil
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	// A system message (a task's message_id among them) resolves like a
	// post: node.Message.Notice.
	m, err := s.messageOf(r, c, id, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.messageView(r.Context(), m))
	return nil
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	m, err := s.messageOf(r, c, id, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	body, _, err := p.text("body", true, 1, maxBody)
	if err != nil {
		return err
	}
	if err := s.node.EditMessage(r.Context(), c.handle(), m.ID, toGlobal(r.Context(), body, c.ids)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": strconv.FormatUint(m.Alias, 10)})
	return nil
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	m, err := s.messageOf(r, c, id, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	if err := s.node.DeleteMessage(r.Context(), c.handle(), m.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": strconv.FormatUint(m.Alias, 10)})
	return nil
}

// Paging of /api/rooms/{room_id}/messages.
const (
	defaultHistory = 50
	maxHistory     = 200
)

// history pages through a room's messages: the newest limit, or limit
// before or after a message, oldest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request, c *caller) error {
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
	before, hasBefore, err := p.get("before")
	if err != nil {
		return err
	}
	after, hasAfter, err := p.get("after")
	if err != nil {
		return err
	}
	if around, ok, err := p.get("around"); err != nil {
		return err
	} else if ok {
		return s.historyAround(w, r, c, id, around, int(limit))
	}
	page := node.Page{Limit: int(limit)}
	switch {
	case hasBefore && hasAfter:
		return invalid("give before or after, not both")
	case hasBefore || hasAfter:
		raw := before
		if hasAfter {
			raw, page.Forward = after, true
		}
		m, err := s.messageOf(r, c, id, raw)
		if err != nil {
			return err
		}
		page.Cursor = m.Order
	}
	ms, err := s.node.Messages(r.Context(), c.handle(), id, page)
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, c.messageView(r.Context(), m))
	}
	s.decorate(r.Context(), c, id, ms, out)
	writeJSON(w, http.StatusOK, out)
	return nil
}
