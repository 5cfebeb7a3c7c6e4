package api

import (
	"net/http"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// editTask changes a task's body, assignees or due date: Horenso's
// addition, as ChatWork's API v2 changes only a task's status. Every
// parameter is optional, but one must be given: body, to_ids (the new
// assignees, members of the room), limit with limit_type (as for
// POST /v2/rooms/{room_id}/tasks; limit=0 or limit_type=none drops the
// due date). It answers the task as GET …/tasks/{task_id} does. The change
// federates as a task update, like a change of status, and shows in the
// timeline as a "task edited" system message.
func (s *Server) editTask(w http.ResponseWriter, r *http.Request, c *caller) error {
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
	var ch node.TaskChange
	body, hasBody, err := p.text("body", false, 1, maxBody)
	if err != nil {
		return err
	}
	if hasBody {
		body = toGlobal(r.Context(), body, c.ids)
		ch.Body = &body
	}
	if _, given, err := p.get("to_ids"); err != nil {
		return err
	} else if given {
		to, err := p.ids("to_ids")
		if err != nil {
			return err
		}
		if len(to) == 0 {
			return invalid("parameter to_ids must name at least one member")
		}
		as, err := s.accountsOf(r, "to_ids", to)
		if err != nil {
			return err
		}
		ch.Assignees = &as
	}
	due, hasDue, err := p.integer("limit")
	if err != nil {
		return err
	}
	limitType, err := p.enum("limit_type", "", "none", "date", "time")
	if err != nil {
		return err
	}
	if hasDue || limitType != "" {
		if limitType == "" {
			limitType = string(protocol.LimitTime)
		}
		if due == 0 || limitType == string(protocol.LimitNone) {
			due, limitType = 0, string(protocol.LimitNone)
		}
		lt := protocol.LimitType(limitType)
		ch.Due, ch.Limit = &due, &lt
	}
	if ch.Body == nil && ch.Assignees == nil && ch.Due == nil {
		return invalid("give body, to_ids or limit")
	}
	nt, err := s.node.UpdateTask(r.Context(), c.handle(), t.ID, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.taskView(r.Context(), nt, ""))
	return nil
}
