package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// iconPresets are ChatWork's group chat icons (icon_preset). Horenso
// stores the preset's name and returns it as icon_path.
var iconPresets = []string{"group", "check", "document", "meeting", "event", "project", "business", "study",
	"security", "star", "idea", "heart", "magcup", "beer", "music", "sports", "travel"}

// roomOf resolves the room_id in the path.
func (s *Server) roomOf(r *http.Request) (protocol.RoomID, error) {
	n, err := pathID(r, "room_id")
	if err != nil {
		return protocol.RoomID{}, err
	}
	id, err := s.node.RoomByAlias(r.Context(), n)
	if errors.Is(err, node.ErrNotFound) {
		return id, notFound("no such room")
	}
	return id, err
}

// accountsOf resolves account_id aliases; an unknown one is a bad
// parameter.
func (s *Server) accountsOf(r *http.Request, param string, aliases []uint64) ([]protocol.AccountID, error) {
	out := make([]protocol.AccountID, 0, len(aliases))
	for _, n := range aliases {
		a, err := s.node.AccountByAlias(r.Context(), n)
		if errors.Is(err, node.ErrNotFound) {
			return nil, invalid(fmt.Sprintf("parameter %s: no account %d", param, n))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// myOpenTasks counts the caller's open tasks by room.
func (s *Server) myOpenTasks(r *http.Request, c *caller) (map[protocol.RoomID]int, error) {
	ts, err := s.node.MyTasks(r.Context(), c.handle(), node.TaskFilter{Status: protocol.TaskOpen})
	if err != nil {
		return nil, err
	}
	out := map[protocol.RoomID]int{}
	for _, t := range ts {
		out[t.Room]++
	}
	return out, nil
}

func (s *Server) rooms(w http.ResponseWriter, r *http.Request, c *caller) error {
	rs, err := s.node.Rooms(r.Context(), c.handle())
	if err != nil {
		return err
	}
	mine, err := s.myOpenTasks(r, c)
	if err != nil {
		return err
	}
	out := make([]roomJSON, 0, len(rs))
	for _, room := range rs {
		if !c.allowsRoom(room.Alias) {
			continue
		}
		out = append(out, roomView(room, mine[room.ID]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) room(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	mine, err := s.myOpenTasks(r, c)
	if err != nil {
		return err
	}
	v := roomView(room, mine[room.ID])
	v.Description = &room.Description
	writeJSON(w, http.StatusOK, v)
	return nil
}

// memberLists reads members_admin_ids, members_member_ids and
// members_readonly_ids into the roles they give; an account named twice
// is a bad parameter. Besides account_ids, the lists may name accounts by
// global ID or by a local handle or email (accountRefs).
func (s *Server) memberLists(r *http.Request, p *params) (map[protocol.AccountID]protocol.Role, error) {
	out := map[protocol.AccountID]protocol.Role{}
	for _, l := range []struct {
		param string
		role  protocol.Role
	}{{"members_admin_ids", protocol.RoleAdmin}, {"members_member_ids", protocol.RoleMember}, {"members_readonly_ids", protocol.RoleReadonly}} {
		as, refs, err := s.accountRefs(r.Context(), p, l.param)
		if err != nil {
			return nil, err
		}
		if l.role == protocol.RoleAdmin && len(as) == 0 {
			return nil, invalid("parameter members_admin_ids is required: at least one admin")
		}
		for i, a := range as {
			if _, dup := out[a]; dup {
				return nil, invalid(fmt.Sprintf("account %s is named twice in the members lists", refs[i]))
			}
			out[a] = l.role
		}
	}
	return out, nil
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	name, _, err := p.text("name", true, 1, 255)
	if err != nil {
		return err
	}
	desc, _, err := p.text("description", false, 0, 65535)
	if err != nil {
		return err
	}
	icon, err := p.enum("icon_preset", "", iconPresets...)
	if err != nil {
		return err
	}
	roles, err := s.memberLists(r, p)
	if err != nil {
		return err
	}
	link, err := p.boolean("link", false)
	if err != nil {
		return err
	}
	code, _, err := p.text("link_code", false, 1, node.MaxLinkCode)
	if err != nil {
		return err
	}
	if code != "" {
		if err := node.ValidLinkCode(code); err != nil {
			return invalid("parameter link_code: " + err.Error())
		}
	}
	needAcceptance, err := p.boolean("link_need_acceptance", true)
	if err != nil {
		return err
	}
	if link && code != "" {
		if _, err := s.node.LinkByCode(r.Context(), c.handle(), code); err == nil {
			return &apiError{node.ErrConflict, fmt.Sprintf("link code %q is taken", code)}
		}
	}
	nr := node.NewRoom{Name: name, Description: desc, Icon: icon}
	for a, role := range roles {
		nr.Members = append(nr.Members, node.MemberSpec{Account: a, Role: role})
	}
	slices.SortFunc(nr.Members, func(a, b node.MemberSpec) int { return cmp.Compare(string(a.Account), string(b.Account)) })
	room, err := s.node.CreateRoom(r.Context(), c.handle(), nr)
	if err != nil {
		return err
	}
	if link {
		if _, err := s.node.CreateLink(r.Context(), c.handle(), room.ID, node.LinkSpec{Code: code, NeedAcceptance: needAcceptance}); err != nil {
			return fmt.Errorf("room %d was created, but not its link: %w", room.Alias, err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"room_id": room.Alias})
	return nil
}

func (s *Server) updateRoom(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	var ch node.RoomChange
	name, ok, err := p.text("name", false, 1, 255)
	if err != nil {
		return err
	}
	if ok {
		ch.Name = &name
	}
	desc, ok, err := p.text("description", false, 0, 65535)
	if err != nil {
		return err
	}
	if ok {
		ch.Description = &desc
	}
	icon, err := p.enum("icon_preset", "", iconPresets...)
	if err != nil {
		return err
	}
	if icon != "" {
		ch.Icon = &icon
	}
	if ch.Name == nil && ch.Description == nil && ch.Icon == nil {
		return invalid("nothing to change: give name, description or icon_preset")
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	if err := s.node.UpdateRoom(r.Context(), c.handle(), id, ch); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"room_id": room.Alias})
	return nil
}

// leaveRoom leaves or deletes a group chat (action_type).
func (s *Server) leaveRoom(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	action, err := p.enum("action_type", "", "leave", "delete")
	if err != nil {
		return err
	}
	switch action {
	case "":
		return invalid("parameter action_type is required: leave or delete")
	case "leave":
		err = s.node.LeaveRoom(r.Context(), c.handle(), id)
	case "delete":
		err = s.node.DeleteRoom(r.Context(), c.handle(), id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) members(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	avatars, err := s.memberAvatars(r, room.Members)
	if err != nil {
		return err
	}
	out := make([]memberJSON, 0, len(room.Members))
	for _, m := range room.Members {
		out = append(out, memberView(m, avatars[m.Account]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// flaggedMembers is GET /api/rooms/{room_id}/members: the ChatWork
// members view with one field more, unconfirmed, set while the member's
// home node has not confirmed it (node.Member.Unconfirmed). The /v2 view
// keeps ChatWork's shape.
func (s *Server) flaggedMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	type flagged struct {
		memberJSON
		Unconfirmed bool `json:"unconfirmed"`
	}
	avatars, err := s.memberAvatars(r, room.Members)
	if err != nil {
		return err
	}
	out := make([]flagged, 0, len(room.Members))
	for _, m := range room.Members {
		out = append(out, flagged{memberView(m, avatars[m.Account]), m.Unconfirmed})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setMembers replaces a group chat's members and roles with the three
// lists (node.SetMembers) and answers with the account_ids by role.
func (s *Server) setMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	want, err := s.memberLists(r, p)
	if err != nil {
		return err
	}
	if err := s.node.SetMembers(r.Context(), c.handle(), id, want); err != nil {
		return err
	}
	out := map[string][]uint64{"admin": {}, "member": {}, "readonly": {}}
	for a, role := range want {
		out[string(role)] = append(out[string(role)], c.ids.profile(r.Context(), a).Alias)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	// Taking thousands of members out is an event each, which can take
	// longer than WriteTimeout: it bounds the client's reading of the
	// answer, so it starts now. (An error is only that the connection
	// cannot have deadlines, as in tests' recorders.)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// roomHistory answers GET /api/rooms/{room_id}/history: the room's
// history settings.
func (s *Server) roomHistory(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	if room.History == nil {
		return invalid("this room was made by an older Horenso and has no history settings")
	}
	writeJSON(w, http.StatusOK, room.History)
	return nil
}

// setHistory answers PUT /api/rooms/{room_id}/history: visibility
// ("everything" or "joined") and retention_days (0: forever), either or
// both; it returns the settings then.
func (s *Server) setHistory(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	var ch node.HistoryChange
	vis, err := p.enum("visibility", "", string(protocol.VisibilityAll), string(protocol.VisibilityJoined))
	if err != nil {
		return err
	}
	if vis != "" {
		v := protocol.HistoryVisibility(vis)
		ch.Visibility = &v
	}
	days, ok, err := p.integer("retention_days")
	if err != nil {
		return err
	}
	if ok {
		if days > protocol.MaxRetentionDays {
			return invalid(fmt.Sprintf("retention_days is at most %d", protocol.MaxRetentionDays))
		}
		d := uint32(days)
		ch.RetentionDays = &d
	}
	if ch.Visibility == nil && ch.RetentionDays == nil {
		return invalid("nothing to change: give visibility or retention_days")
	}
	if err := s.node.SetHistory(r.Context(), c.handle(), id, ch); err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, room.History)
	return nil
}
