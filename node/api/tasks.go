package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// maxTaskList is how many tasks a task list returns at most, as ChatWork.
const maxTaskList = 100

// taskFilter reads the status (default open) and assigned_by_account_id
// parameters of a task list.
func (s *Server) taskFilter(r *http.Request, p *params) (node.TaskFilter, error) {
	var f node.TaskFilter
	status, err := p.enum("status", "open", "open", "done")
	if err != nil {
		return f, err
	}
	f.Status = protocol.TaskStatus(status)
	by, err := p.id("assigned_by_account_id", false)
	if err != nil || by == 0 {
		return f, err
	}
	as, err := s.accountsOf(r, "assigned_by_account_id", []uint64{by})
	if err != nil {
		return f, err
	}
	f.Creator = as[0]
	return f, nil
}

func (s *Server) myTasks(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	f, err := s.taskFilter(r, p)
	if err != nil {
		return err
	}
	ts, err := s.node.MyTasks(r.Context(), c.handle(), f)
	if err != nil {
		return err
	}
	rooms := map[protocol.RoomID]*roomRef{}
	if rs, err := s.node.Rooms(r.Context(), c.handle()); err == nil {
		for _, room := range rs {
			rooms[room.ID] = &roomRef{RoomID: room.Alias, Name: room.Name, IconPath: room.Icon}
		}
	} else {
		return err
	}
	out := []taskJSON{}
	for _, t := range ts[:min(len(ts), maxTaskList)] {
		v := c.taskView(t, c.acc.ID)
		v.Account = nil
		v.Room = rooms[t.Room]
		if v.Room == nil { // a room the caller has left
			alias, _ := c.ids.roomAlias(t.Room)
			v.Room = &roomRef{RoomID: alias}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) tasks(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	f, err := s.taskFilter(r, p)
	if err != nil {
		return err
	}
	if n, err := p.id("account_id", false); err != nil {
		return err
	} else if n != 0 {
		as, err := s.accountsOf(r, "account_id", []uint64{n})
		if err != nil {
			return err
		}
		f.Assignee = as[0]
	}
	ts, err := s.node.Tasks(r.Context(), c.handle(), id, f)
	if err != nil {
		return err
	}
	out := []taskJSON{}
	for _, t := range ts[:min(len(ts), maxTaskList)] {
		out = append(out, c.taskView(t, f.Assignee))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createTasks creates one task per account in to_ids, as ChatWork does,
// and returns their IDs. It checks every assignee is a member before it
// creates any.
func (s *Server) createTasks(w http.ResponseWriter, r *http.Request, c *caller) error {
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
	to, err := p.ids("to_ids")
	if err != nil {
		return err
	}
	if len(to) == 0 {
		return invalid("parameter to_ids is required")
	}
	due, hasDue, err := p.integer("limit")
	if err != nil {
		return err
	}
	limitType, err := p.enum("limit_type", "", "none", "date", "time")
	if err != nil {
		return err
	}
	switch {
	case limitType == "" && hasDue && due > 0:
		limitType = "time"
	case limitType == "":
		limitType = "none"
	}
	if limitType == "none" {
		if due > 0 {
			return invalid("parameter limit must not be given with limit_type none")
		}
	} else if due <= 0 {
		return invalid("parameter limit (unix time) is required with limit_type " + limitType)
	}
	assignees, err := s.accountsOf(r, "to_ids", to)
	if err != nil {
		return err
	}
	room, err := s.node.Room(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	for i, a := range assignees {
		if !slices.ContainsFunc(room.Members, func(m node.Member) bool { return m.Account == a }) {
			return invalid(fmt.Sprintf("account %d is not a member of the room", to[i]))
		}
	}
	body = toGlobal(body, c.ids)
	out := []uint64{}
	for _, a := range assignees {
		t, err := s.node.CreateTask(r.Context(), c.handle(), id, node.NewTask{Body: body,
			Assignees: []protocol.AccountID{a}, Due: due, Limit: protocol.LimitType(limitType)})
		if err != nil {
			if len(out) > 0 {
				return fmt.Errorf("tasks %v were created, the rest not: %w", out, err)
			}
			return err
		}
		out = append(out, t.Alias)
	}
	writeJSON(w, http.StatusOK, map[string][]uint64{"task_ids": out})
	return nil
}

// taskOf resolves the task_id in the path to a task of room.
func (s *Server) taskOf(r *http.Request, c *caller, room protocol.RoomID) (*node.Task, error) {
	n, err := pathID(r, "task_id")
	if err != nil {
		return nil, err
	}
	id, err := s.node.TaskByAlias(r.Context(), n)
	if errors.Is(err, node.ErrNotFound) {
		return nil, notFound("no such task")
	}
	if err != nil {
		return nil, err
	}
	t, err := s.node.Task(r.Context(), c.handle(), id)
	if err != nil {
		return nil, err
	}
	if t.Room != room {
		return nil, notFound("no such task in this room")
	}
	return t, nil
}

func (s *Server) task(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	t, err := s.taskOf(r, c, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.taskView(t, ""))
	return nil
}

func (s *Server) taskStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	t, err := s.taskOf(r, c, id)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	status, err := p.enum("body", "", "open", "done")
	if err != nil {
		return err
	}
	if status == "" {
		return invalid("parameter body is required: open or done")
	}
	st := protocol.TaskStatus(status)
	if _, err := s.node.UpdateTask(r.Context(), c.handle(), t.ID, node.TaskChange{Status: &st}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"task_id": t.Alias})
	return nil
}
