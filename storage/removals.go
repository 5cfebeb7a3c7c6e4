package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// PutRemoval records that event id of room revokes (removes, or is the
// leave of) an account of node. The node calls it for every such event it
// accepts, so that it can tell a node no longer in the room how far the
// room goes for it.
func (tx *Tx) PutRemoval(room protocol.RoomID, node protocol.NodeID, id protocol.EventID) error {
	return wrap("put removal", tx.set(key(pRemoval, room[:], nodePart(node), id[:]), nil))
}

// Removals returns the events of room that PutRemoval recorded for node,
// by event ID; none if node never had an account removed from room.
func (tx *Tx) Removals(room protocol.RoomID, node protocol.NodeID) ([]protocol.EventID, error) {
	var out []protocol.EventID
	err := tx.scan(key(pRemoval, room[:], nodePart(node)), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		if len(k) != len(protocol.EventID{}) {
			return false, fmt.Errorf("bad removal key %x", k)
		}
		var id protocol.EventID
		copy(id[:], k)
		out = append(out, id)
		return true, nil
	})
	return out, wrap(fmt.Sprintf("list removals of %s in %s", node.Short(), room), err)
}

// Hide records that accepted event id is hidden from clients: the node
// soft-failed it (see node.apply).
func (tx *Tx) Hide(id protocol.EventID) error {
	return wrap("hide event", tx.set(key(pHidden, id[:]), nil))
}

// Hidden reports whether Hide was called for event id.
func (tx *Tx) Hidden(id protocol.EventID) (bool, error) {
	ok, err := tx.has(key(pHidden, id[:]))
	return ok, wrap("hidden event", err)
}

// Removed returns the account e takes out of its room, if any: the target
// of a member.remove, the author of a member.leave. These are the events
// PutRemoval records.
func Removed(e *protocol.Signed) (protocol.AccountID, bool) {
	switch c := e.Content.(type) {
	case *protocol.MemberRemove:
		return c.Account, true
	case *protocol.MemberLeave:
		return e.AuthorID(), true
	}
	return "", false
}
