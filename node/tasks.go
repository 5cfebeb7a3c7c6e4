package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Task is a task as callers see it.
type Task struct {
	ID        protocol.EventID     `json:"id"`
	Alias     uint64               `json:"task_id"` // the ChatWork API's task_id
	Room      protocol.RoomID      `json:"room"`
	Creator   protocol.AccountID   `json:"assigned_by"`
	Body      string               `json:"body"`
	Assignees []protocol.AccountID `json:"assignees"`
	Due       int64                `json:"limit_time"` // unix seconds; 0 without a due time
	Limit     protocol.LimitType   `json:"limit_type"`
	Status    protocol.TaskStatus  `json:"status"`
	Created   int64                `json:"created"` // unix ms
	DoneAt    int64                `json:"done_at,omitempty"`
	Order     protocol.Order       `json:"-"` // its task.create's: a room's display order
	// Message is the task's message_id in the ChatWork API: in ChatWork
	// a task is posted as a message. A Horenso task is its own event, so
	// its task.create has an alias in the message ID space too, handed
	// out as the node takes the task in (so it sits among the room's
	// messages by when it arrived); GET …/messages/{message_id} answers
	// it with the task as ChatWork's task_added notice (TaskByMessage).
	Message uint64 `json:"message_id,omitempty"`
}

// NewTask describes a task to create.
type NewTask struct {
	Body      string
	Assignees []protocol.AccountID // members of the room; at least one
	Due       int64                // unix seconds; 0 with LimitNone
	Limit     protocol.LimitType   // default: LimitNone, or LimitTime when Due is set
}

// TaskChange changes a task; nil fields stay as they are. Due and Limit
// change together.
type TaskChange struct {
	Status    *protocol.TaskStatus
	Body      *string
	Assignees *[]protocol.AccountID
	Due       *int64
	Limit     *protocol.LimitType
}

// ErrNoTask is returned (wrapped in ErrNotFound) for an unknown task.
var ErrNoTask = errors.New("no such task")

// CreateTask creates a task in a room.
func (n *Node) CreateTask(ctx context.Context, as protocol.Handle, room protocol.RoomID, nt NewTask) (*Task, error) {
	if err := checkBody(nt.Body); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	if nt.Limit == "" {
		nt.Limit = protocol.LimitNone
		if nt.Due != 0 {
			nt.Limit = protocol.LimitTime
		}
	}
	e, err := n.act(ctx, as, room, &protocol.TaskCreate{Body: nt.Body, Assignees: nt.Assignees, Due: nt.Due, Limit: nt.Limit})
	if err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	return n.Task(ctx, as, e.ID)
}

// CreateTasks creates one task for each assignee of nt in room, as
// ChatWork's API does. It checks that every assignee is a member of the
// room before it creates any (ErrInvalid otherwise), and returns the tasks
// in the order of nt.Assignees. An error part-way leaves the tasks created
// before it and says how many there are.
func (n *Node) CreateTasks(ctx context.Context, as protocol.Handle, room protocol.RoomID, nt NewTask) ([]*Task, error) {
	if len(nt.Assignees) == 0 {
		return nil, fmt.Errorf("create tasks: %w", problem(ErrInvalid, "no assignee"))
	}
	if err := checkBody(nt.Body); err != nil {
		return nil, fmt.Errorf("create tasks: %w", err)
	}
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		for _, a := range nt.Assignees {
			if c.Members.Has(a) {
				continue
			}
			if alias, err := tx.LookupAlias(storage.AliasAccount, []byte(a)); err == nil {
				return problem(ErrInvalid, "account %d is not a member of the room", alias)
			}
			return problem(ErrInvalid, "%s is not a member of the room", a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create tasks: %w", err)
	}
	out := make([]*Task, 0, len(nt.Assignees))
	for _, a := range nt.Assignees {
		one := nt
		one.Assignees = []protocol.AccountID{a}
		t, err := n.CreateTask(ctx, as, room, one)
		if err != nil {
			return out, fmt.Errorf("create tasks: %d of %d created: %w", len(out), len(nt.Assignees), err)
		}
		out = append(out, t)
	}
	return out, nil
}

// UpdateTask changes a task of a room as is a member of.
func (n *Node) UpdateTask(ctx context.Context, as protocol.Handle, id protocol.EventID, ch TaskChange) (*Task, error) {
	if ch.Body != nil {
		if err := checkBody(*ch.Body); err != nil {
			return nil, fmt.Errorf("update task: %w", err)
		}
	}
	var room protocol.RoomID
	err := n.store.View(func(tx *storage.Tx) error {
		t, err := tx.Task(id)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoTask)
		}
		room = t.Room
		return err
	})
	if err == nil {
		_, err = n.act(ctx, as, room, &protocol.TaskUpdate{Task: id, Status: ch.Status, Body: ch.Body,
			Assignees: ch.Assignees, Due: ch.Due, Limit: ch.Limit})
	}
	if err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	}
	return n.Task(ctx, as, id)
}

// Task returns a task of a room as is a member of.
func (n *Node) Task(ctx context.Context, as protocol.Handle, id protocol.EventID) (*Task, error) {
	var out *Task
	err := n.store.View(func(tx *storage.Tx) error {
		t, err := tx.Task(id)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoTask)
		}
		if err != nil {
			return err
		}
		if err := n.canRead(tx, as, t.Room); err != nil {
			return err
		}
		out, err = taskView(tx, t)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get task: %w", err)
	}
	return out, nil
}

// TaskInRoom returns the task a numeric task_id names, if it is one of
// room's and as may read room. Otherwise it returns ErrNotFound (wrapping
// ErrNoTask): a task of another room is not told apart from one that does
// not exist.
func (n *Node) TaskInRoom(ctx context.Context, as protocol.Handle, room protocol.RoomID, alias uint64) (*Task, error) {
	id, err := n.TaskByAlias(ctx, alias)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("task %d: %w: %w", alias, ErrNotFound, ErrNoTask)
	}
	if err != nil {
		return nil, err
	}
	t, err := n.Task(ctx, as, id)
	if err != nil {
		return nil, err
	}
	if t.Room != room {
		return nil, fmt.Errorf("task %d: %w: %w in this room", alias, ErrNotFound, ErrNoTask)
	}
	return t, nil
}

// TaskFilter selects tasks; empty fields match everything.
type TaskFilter struct {
	Status   protocol.TaskStatus
	Assignee protocol.AccountID
	Creator  protocol.AccountID
}

// Tasks returns the tasks of a room as is a member of, in the order of
// their task.create (PROTOCOL.md, Display order), oldest first.
func (n *Node) Tasks(ctx context.Context, as protocol.Handle, room protocol.RoomID, f TaskFilter) ([]*Task, error) {
	var out []*Task
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		ids, err := tx.RoomTasks(room, f.Status)
		if err != nil {
			return err
		}
		out, err = tasksByID(tx, ids, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	// In the room's display order, the same on every node that holds the
	// same events; aliases follow arrival order, which differs.
	slices.SortFunc(out, func(a, b *Task) int { return a.Order.Compare(b.Order) })
	return out, nil
}

// MyTasks returns the tasks assigned to as in every room, oldest first.
func (n *Node) MyTasks(ctx context.Context, as protocol.Handle, f TaskFilter) ([]*Task, error) {
	var out []*Task
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		ids, err := tx.AssignedTasks(me.ID, f.Status)
		if err != nil {
			return err
		}
		out, err = tasksByID(tx, ids, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list my tasks: %w", err)
	}
	return out, nil
}

func tasksByID(tx *storage.Tx, ids []protocol.EventID, f TaskFilter) ([]*Task, error) {
	out := []*Task{}
	for _, id := range ids {
		t, err := tx.Task(id)
		if err != nil {
			return nil, err
		}
		if (f.Assignee != "" && !slices.Contains(t.Assignees, f.Assignee)) || (f.Creator != "" && t.Creator != f.Creator) {
			continue
		}
		v, err := taskView(tx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *Task) int { return cmp.Compare(a.Alias, b.Alias) })
	return out, nil
}

func taskView(tx *storage.Tx, t *storage.Task) (*Task, error) {
	alias, err := tx.LookupAlias(storage.AliasTask, t.ID[:])
	if err != nil {
		return nil, err
	}
	msg, err := tx.LookupAlias(storage.AliasMessage, t.ID[:])
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return &Task{ID: t.ID, Alias: alias, Room: t.Room, Creator: t.Creator, Body: t.Body,
		Assignees: slices.Clone(t.Assignees), Due: t.Due, Limit: t.Limit, Status: t.Status, Created: t.Time, DoneAt: t.DoneAt,
		Order: protocol.Order{Depth: t.Depth, ID: t.ID}, Message: msg}, nil
}
