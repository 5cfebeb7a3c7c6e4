package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// PutRemoval records that event id of room revokes (removes, or is the
// leave of) account, and its reach: the highest chain position of the
// account's node's events in the removal's causal past (0 in rooms
// without chains; see ChainReach). The node calls it for every such event
// it accepts, so that it can tell a node no longer in the room how far the
// room goes for it, and which of the account's events to hide.
//
// Removals are listed by node (Removals), and each names its account, so
// that the removals of one account are found without reading every
// removal event of its node's: an organization that takes its 5,000
// people out of a room one by one read, for each, the events of all the
// removals before it.
func (tx *Tx) PutRemoval(room protocol.RoomID, account protocol.AccountID, id protocol.EventID, reach uint64) error {
	v := append(u64(reach), account.Handle()...)
	return wrap("put removal", tx.set(key(pRemoval, room[:], nodePart(account.Node()), id[:]), v))
}

// Removal is an event PutRemoval recorded.
type Removal struct {
	ID    protocol.EventID
	Reach uint64
	// Account is the account the event removes; empty in records of
	// builds before it was kept (schema 12 and earlier stores keep
	// them): read the event then.
	Account protocol.AccountID
}

// Removals returns the events of room that PutRemoval recorded for node's
// accounts, by event ID; none if node never had an account removed from
// room.
func (tx *Tx) Removals(room protocol.RoomID, node protocol.NodeID) ([]Removal, error) {
	es, err := tx.list(key(pRemoval, room[:], nodePart(node)))
	if err != nil {
		return nil, fmt.Errorf("list removals of %s in %s: %w", node.Short(), room, err)
	}
	out := make([]Removal, 0, len(es))
	for _, e := range es {
		if len(e.k) != len(protocol.EventID{}) {
			return nil, fmt.Errorf("bad removal key %x", e.k)
		}
		var r Removal
		copy(r.ID[:], e.k)
		if len(e.v) >= 8 {
			r.Reach = be64(e.v)
		}
		if len(e.v) > 8 {
			r.Account = protocol.NewAccountID(node, protocol.Handle(e.v[8:]))
		}
		out = append(out, r)
	}
	return out, nil
}

// RemovedNodes returns the nodes PutRemoval recorded removals of room for.
func (tx *Tx) RemovedNodes(room protocol.RoomID) ([]protocol.NodeID, error) {
	es, err := tx.list(key(pRemoval, room[:]))
	if err != nil {
		return nil, fmt.Errorf("list removed nodes of %s: %w", room, err)
	}
	var out []protocol.NodeID
	for _, e := range es {
		sep := len(e.k) - len(protocol.EventID{}) - 1
		if sep < 0 || e.k[sep] != 0 {
			return nil, fmt.Errorf("bad removal key %x", e.k)
		}
		if n := protocol.NodeID(e.k[:sep]); len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out, nil
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
