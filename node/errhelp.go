package node

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// noAlias is an unknown numeric ID (room_id, task_id, …): its text names
// the ID and that it is this node's own numbering, which is what an
// operator who copied a partner's number needs to know. It is ErrNotFound
// (and, for rooms, ErrNoRoom).
type noAlias struct {
	what  string // "room", "task", "message", "account"
	alias uint64
}

func (e *noAlias) Error() string {
	return fmt.Sprintf("no %s %d on this node (%s IDs are each node's own numbers)", e.what, e.alias, e.what)
}

func (e *noAlias) Unwrap() []error {
	if e.what == "room" {
		return []error{ErrNotFound, ErrNoRoom}
	}
	return []error{ErrNotFound}
}

// notMember is an account acting in a room it is not a member of: it
// was removed, or never added. It is ErrNotFound and ErrNoRoom, so that
// clients of the API learn nothing of a room they are not in; its text is
// for the node's operator.
type notMember struct{ as protocol.Handle }

func (e *notMember) Error() string {
	return fmt.Sprintf("%s is not a member of the room (removed, or never added)", e.as)
}

func (e *notMember) Unwrap() []error { return []error{ErrNotFound, ErrNoRoom} }
