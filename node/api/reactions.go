package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Reactions, bookmarks and pinned rooms: Horenso's additions to the
// ChatWork API, for the web app. See docs/API.md, "Reactions, bookmarks
// and pins".

func (s *Server) reactionRoutes() {
	s.handle("GET /api/rooms/{room_id}/messages/{message_id}/reactions", s.reactions)
	s.handle("PUT /api/rooms/{room_id}/messages/{message_id}/reactions", s.react)
	s.handle("DELETE /api/rooms/{room_id}/messages/{message_id}/reactions", s.react)
	s.handle("GET /api/bookmarks", s.bookmarks)
	s.handle("POST /api/bookmarks", s.addBookmark)
	s.handle("DELETE /api/bookmarks/{room_id}/{message_id}", s.removeBookmark)
	s.handle("PUT /api/rooms/{room_id}/pin", s.pin)
	s.handle("DELETE /api/rooms/{room_id}/pin", s.pin)
}

// reactionJSON is one kind of reaction to a message: who gave it, and
// whether the caller is among them.
type reactionJSON struct {
	Reaction string       `json:"reaction"`
	Count    int          `json:"count"`
	Mine     bool         `json:"mine"`
	Accounts []accountRef `json:"accounts"`
}

func (c *caller) reactionViews(ctx context.Context, rs []node.Reaction) []reactionJSON {
	out := make([]reactionJSON, 0, len(rs))
	me := c.acc.ID
	for _, r := range rs {
		v := reactionJSON{Reaction: string(r.Reaction), Count: len(r.Accounts), Accounts: make([]accountRef, 0, len(r.Accounts))}
		for _, a := range r.Accounts {
			v.Mine = v.Mine || a == me
			v.Accounts = append(v.Accounts, c.account(ctx, a))
		}
		out = append(out, v)
	}
	return out
}

// decorate adds to out, the views of ms (messages of room, in the same
// order), each one's reactions and whether the caller bookmarked it. A
// failure leaves them without: the timeline still shows. It is logged
// unless the request ended meanwhile (its client left, or its deadline
// passed), which is no fault of the node's.
func (s *Server) decorate(ctx context.Context, c *caller, room protocol.RoomID, ms []*node.Message, out []messageJSON) {
	ids := make([]protocol.EventID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	rs, err := s.node.Reactions(ctx, c.handle(), room, ids)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("reactions of a page", "room", room, "err", err)
		}
		return
	}
	bs, err := s.node.HasBookmarks(ctx, c.handle(), ids)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("bookmarks of a page", "room", room, "err", err)
	}
	for i, m := range ms {
		if r := rs[m.ID]; len(r) > 0 && !m.BeforeJoin && !m.Deleted {
			out[i].Reactions = c.reactionViews(ctx, r)
		}
		out[i].Bookmarked = bs[m.ID]
	}
}

// decoratedView is the view of message m of room with its reactions and
// bookmark, as the live event stream sends it.
func (s *Server) decoratedView(ctx context.Context, c *caller, room protocol.RoomID, m *node.Message) *messageJSON {
	vs := []messageJSON{c.messageView(ctx, m)}
	s.decorate(ctx, c, room, []*node.Message{m}, vs)
	return &vs[0]
}

// reactions answers a message's reactions.
func (s *Server) reactions(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := s.pathMessage(r, c)
	if err != nil {
		return err
	}
	rs, err := s.node.MessageReactions(r.Context(), c.handle(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.reactionViews(r.Context(), rs))
	return nil
}

// react gives (PUT) or takes back (DELETE) the caller's reaction, the
// parameter reaction, and answers the message's reactions after.
func (s *Server) react(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := s.pathMessage(r, c)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	kinds := make([]string, len(protocol.Reactions))
	for i, k := range protocol.Reactions {
		kinds[i] = string(k)
	}
	kind, err := p.enum("reaction", "", kinds...)
	if err != nil {
		return err
	}
	if kind == "" {
		return invalid("parameter reaction is required")
	}
	rs, err := s.node.React(r.Context(), c.handle(), m.ID, protocol.Reaction(kind), r.Method == http.MethodDelete)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.reactionViews(r.Context(), rs))
	return nil
}

// pathMessage resolves room_id and message_id in the path.
func (s *Server) pathMessage(r *http.Request, c *caller) (*node.Message, error) {
	room, err := s.roomOf(r)
	if err != nil {
		return nil, err
	}
	return s.messageOf(r, c, room, r.PathValue("message_id"))
}

// bookmarkJSON is a bookmarked message with its room.
type bookmarkJSON struct {
	Room    roomRef     `json:"room"`
	Message messageJSON `json:"message"`
	Time    int64       `json:"bookmark_time"` // unix seconds
}

func (s *Server) bookmarks(w http.ResponseWriter, r *http.Request, c *caller) error {
	bs, err := s.node.Bookmarks(r.Context(), c.handle())
	if err != nil {
		return err
	}
	out := make([]bookmarkJSON, 0, len(bs))
	names := map[protocol.RoomID]roomRef{}
	for _, b := range bs {
		ref, ok := names[b.Message.Room]
		if !ok {
			room, err := s.node.Room(r.Context(), c.handle(), b.Message.Room)
			if err != nil {
				continue // left since: Bookmarks checked just before
			}
			ref = roomRef{RoomID: room.Alias, Name: room.Name, IconPath: room.Icon}
			names[b.Message.Room] = ref
		}
		v := c.messageView(r.Context(), b.Message)
		v.Bookmarked = true
		out = append(out, bookmarkJSON{Room: ref, Message: v, Time: seconds(b.Time)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addBookmark reads room_id and message_id.
func (s *Server) addBookmark(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	rid, err := p.id("room_id", true)
	if err != nil {
		return err
	}
	room, err := s.node.RoomByAlias(r.Context(), rid)
	if err != nil {
		return err
	}
	raw, _, err := p.get("message_id")
	if err != nil {
		return err
	}
	m, err := s.messageOf(r, c, room, raw)
	if err != nil {
		return err
	}
	if err := s.node.AddBookmark(r.Context(), c.handle(), m.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": strconv.FormatUint(m.Alias, 10)})
	return nil
}

func (s *Server) removeBookmark(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := s.pathMessage(r, c)
	if err != nil {
		return err
	}
	if err := s.node.RemoveBookmark(r.Context(), c.handle(), m.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pin pins (PUT) or unpins (DELETE) a room to the top of the caller's
// list: ChatWork's sticky.
func (s *Server) pin(w http.ResponseWriter, r *http.Request, c *caller) error {
	room, err := s.roomOf(r)
	if err != nil {
		return err
	}
	pin := r.Method == http.MethodPut
	if err := s.node.PinRoom(r.Context(), c.handle(), room, pin); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"sticky": pin})
	return nil
}
