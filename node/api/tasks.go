package api

import (
	"net/http"

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
		v := c.taskView(r.Context(), t, c.acc.ID)
		v.Account = nil
		v.Room = rooms[t.Room]
		if v.Room == nil { // a room the caller has left
			alias, _ := c.ids.roomAlias(r.Context(), t.Room)
			v.Room = &roomRef{RoomID: alias}
		}
		if !c.allowsRoom(v.Room.RoomID) {
			continue
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
		out = append(out, c.taskView(r.Context(), t, f.Assignee))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createTasks creates one task per account in to_ids, as ChatWork does
// (node.CreateTasks), and returns their IDs.
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
	due, _, err := p.integer("limit")
	if err != nil {
		return err
	}
	limitType, err := p.enum("limit_type", "", "none", "date", "time")
	if err != nil {
		return err
	}
	if due == 0 || limitType == string(protocol.LimitNone) {
		// ChatWork's own client sends limit_type=time on every task, with
		// or without a limit: a task without a limit has no deadline
		// (limit_time 0, limit_type none), whatever its limit_type says,
		// and limit_type=none drops a limit given with it.
		due, limitType = 0, string(protocol.LimitNone)
	}
	assignees, err := s.accountsOf(r, "to_ids", to)
	if err != nil {
		return err
	}
	ts, err := s.node.CreateTasks(r.Context(), c.handle(), id, node.NewTask{Body: toGlobal(r.Context(), body, c.ids),
		Assignees: assignees, Due: due, Limit: protocol.LimitType(limitType)})
	if err != nil {
		return err
	}
	out := make([]uint64, 0, len(ts))
	for _, t := range ts {
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
	return s.node.TaskInRoom(r.Context(), c.handle(), room, n)
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
	writeJSON(w, http.StatusOK, c.taskView(r.Context(), t, ""))
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
