package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// searchJSON is GET /api/search's answer.
type searchJSON struct {
	Total      uint64          `json:"total"`
	TotalExact bool            `json:"total_exact"`
	NextOffset int             `json:"next_offset,omitempty"`
	Lag        uint64          `json:"lag"`
	Results    []searchHitJSON `json:"results"`
}

// searchHitJSON is one result: a message, a task, a file (whose name or
// message matched), or a room (whose name or description matched).
type searchHitJSON struct {
	Type     string  `json:"type"` // message, task, file, room
	RoomID   uint64  `json:"room_id"`
	RoomName string  `json:"room_name"`
	Time     int64   `json:"time"` // unix seconds
	Score    float64 `json:"score"`
	// Snippet is HTML: escaped text with the matched words in <mark>.
	Snippet string       `json:"snippet"`
	Message *messageJSON `json:"message,omitempty"`
	Task    *taskJSON    `json:"task,omitempty"`
	// File is a file found by its name (type "file"); Message is then
	// its post.
	File *fileJSON `json:"file,omitempty"`
}

// search answers GET /api/search?q=…[&sort=newest|relevance][&offset=N]
// [&limit=N][&kind=message,task,file,room]: what the caller may read
// that matches q (see docs/API.md).
// In from: and in:, a numeric ChatWork account_id or room_id is taken too.
func (s *Server) search(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	q, _, err := p.get("q")
	if err != nil {
		return err
	}
	sq := node.SearchQuery{Q: s.searchAliases(r, c, q)}
	sort, _, err := p.get("sort")
	if err != nil {
		return err
	}
	switch sort {
	case "", "newest":
	case "relevance":
		sq.ByRelevance = true
	default:
		return invalid("parameter sort must be newest or relevance")
	}
	kinds, _, err := p.get("kind")
	if err != nil {
		return err
	}
	for k := range strings.SplitSeq(kinds, ",") {
		switch k = strings.TrimSpace(k); k {
		case "":
		case "message", "task", "file", "room":
			sq.Kinds = append(sq.Kinds, node.SearchKind(k))
		case "files", "messages", "tasks", "rooms":
			sq.Kinds = append(sq.Kinds, node.SearchKind(strings.TrimSuffix(k, "s")))
		default:
			return invalid("parameter kind must list message, task, file or room")
		}
	}
	if v, ok, err := p.integer("offset"); err != nil {
		return err
	} else if ok {
		if v < 0 {
			return invalid("parameter offset must not be negative")
		}
		sq.Offset = int(v)
	}
	if v, ok, err := p.integer("limit"); err != nil {
		return err
	} else if ok {
		if v < 1 || v > node.MaxSearchPage {
			return invalid("parameter limit must be 1 to 100")
		}
		sq.Limit = int(v)
	}
	res, err := s.node.Search(r.Context(), c.handle(), sq)
	if err != nil {
		return err
	}
	out := searchJSON{Total: res.Total, TotalExact: res.TotalExact, NextOffset: res.Next, Lag: res.Lag, Results: []searchHitJSON{}}
	for _, h := range res.Hits {
		v := searchHitJSON{Type: string(h.Kind), RoomName: h.RoomName, Time: h.Time / 1000, Score: h.Score, Snippet: h.Snippet}
		v.RoomID, _ = c.ids.roomAlias(r.Context(), h.Room)
		if h.Message != nil {
			m := c.messageView(r.Context(), h.Message)
			v.Message = &m
		}
		if h.File != nil {
			f := c.fileView(r, h.File)
			v.File = &f
		}
		if h.Task != nil {
			t := c.taskView(r.Context(), h.Task, "")
			v.Task = &t
		}
		out.Results = append(out.Results, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// searchAliases rewrites from:N and to:N (a ChatWork account_id) in q to the
// account's global ID, which the node's search takes; in:N (a room_id)
// the node resolves itself.
func (s *Server) searchAliases(r *http.Request, c *caller, q string) string {
	fields := strings.Split(q, " ")
	for i, f := range fields {
		for _, key := range []string{"from:", "to:"} {
			v, ok := strings.CutPrefix(f, key)
			if !ok {
				continue
			}
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				if id, ok := c.ids.accountID(r.Context(), n); ok {
					fields[i] = key + string(id)
				}
			}
		}
	}
	return strings.Join(fields, " ")
}

// historyAround answers GET /api/rooms/{room_id}/messages?around=ID:
// the message ID and up to limit/2 messages on each side of it, in
// display order, so that a client opening a search result shows it in
// its context.
func (s *Server) historyAround(w http.ResponseWriter, r *http.Request, c *caller, room protocol.RoomID, raw string, limit int) error {
	m, err := s.messageOf(r, c, room, raw)
	if err != nil {
		return err
	}
	half := max(limit/2, 1)
	before, err := s.node.Messages(r.Context(), c.handle(), room, node.Page{Cursor: m.Order, Limit: half})
	if err != nil {
		return err
	}
	after, err := s.node.Messages(r.Context(), c.handle(), room, node.Page{Cursor: m.Order, Forward: true, Limit: half})
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(before)+1+len(after))
	all := make([]*node.Message, 0, cap(out))
	for _, ms := range [][]*node.Message{before, {m}, after} {
		for _, x := range ms {
			out = append(out, c.messageView(r.Context(), x))
			all = append(all, x)
		}
	}
	s.decorate(r.Context(), c, room, all, out)
	writeJSON(w, http.StatusOK, out)
	return nil
}
