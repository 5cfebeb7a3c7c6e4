package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Task is a task's current state and the room it belongs to.
type Task struct {
	Room protocol.RoomID `cbor:"100,keyasint"` // beside the embedded Task's keys 1-14
	protocol.Task
}

// PutTask stores a task's new state and keeps the by-room and by-assignee
// indexes in step. old is the state PutTask last stored for it (nil for a
// new task).
func (tx *Tx) PutTask(old, t *Task) error {
	if old != nil {
		if err := tx.unindexTask(old); err != nil {
			return wrap("put task", err)
		}
	}
	if err := tx.setRecord(key(pTask, t.ID[:]), t); err != nil {
		return wrap("put task", err)
	}
	if err := tx.set(key(pRoomTask, t.Room[:], statusByte(t.Status), t.ID[:]), nil); err != nil {
		return wrap("put task", err)
	}
	for _, a := range t.Assignees {
		if err := tx.set(key(pAssignment, accountPart(a), statusByte(t.Status), t.ID[:]), t.Room[:]); err != nil {
			return wrap("put task", err)
		}
	}
	return nil
}

// unindexTask deletes t's entries in the by-room and by-assignee indexes.
func (tx *Tx) unindexTask(t *Task) error {
	if err := tx.delete(key(pRoomTask, t.Room[:], statusByte(t.Status), t.ID[:])); err != nil {
		return err
	}
	for _, a := range t.Assignees {
		if err := tx.delete(key(pAssignment, accountPart(a), statusByte(t.Status), t.ID[:])); err != nil {
			return err
		}
	}
	return nil
}

// Task returns a task; the error wraps ErrNotFound if there is none.
func (tx *Tx) Task(id protocol.EventID) (*Task, error) {
	t := new(Task)
	if err := tx.getRecord(key(pTask, id[:]), t); err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, err)
	}
	return t, nil
}

// RoomTasks returns the IDs of room's tasks with status (any status if
// status is empty).
func (tx *Tx) RoomTasks(room protocol.RoomID, status protocol.TaskStatus) ([]protocol.EventID, error) {
	ids, err := tx.taskIDs(key(pRoomTask, room[:]), status)
	return ids, wrap("list tasks of room", err)
}

// AssignedTasks returns the IDs of tasks assigned to a with status (any
// status if status is empty).
func (tx *Tx) AssignedTasks(a protocol.AccountID, status protocol.TaskStatus) ([]protocol.EventID, error) {
	ids, err := tx.taskIDs(key(pAssignment, accountPart(a)), status)
	return ids, wrap("list tasks of "+string(a), err)
}

// taskIDs lists the task IDs of an index whose keys are base, status, ID.
func (tx *Tx) taskIDs(base []byte, status protocol.TaskStatus) ([]protocol.EventID, error) {
	var ids []protocol.EventID
	for _, st := range []protocol.TaskStatus{protocol.TaskOpen, protocol.TaskDone} {
		if status != "" && status != st {
			continue
		}
		err := tx.scan(key(base[0], base[1:], statusByte(st)), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
			ids = append(ids, protocol.EventID(k))
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}
