package storage

import (
	"bytes"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// removalKey is the key of the removal index (pRemovalOf) that records
// event id of room revoking account.
func removalKey(room protocol.RoomID, account protocol.AccountID, id protocol.EventID) []byte {
	return key(pRemovalOf, room[:], nodePart(account.Node()), []byte(account.Handle()), []byte{0}, id[:])
}

// PutRemoval records that e, an event of room that Removed reports,
// revokes (removes, or is the leave of) its account, and its reach: the
// highest chain position of the account's node's events in the removal's
// causal past (0 in rooms without chains; see ChainReach). The node calls
// it for every such event it accepts, so that it can tell a node no longer
// in the room how far the room goes for it, and which of the account's
// events to hide.
//
// The index is keyed by node and then account, so that the removals of one
// account are found without going over those of every other account of its
// node (RemovalsOf): an organization that takes its 5,000 people out of a
// room one by one went over, for each, the removals of all before it. Each
// entry says whether the account revoked itself, which soft-fail asks of
// every removal of an account at each new one: reading the events to tell
// was most of the cost of emptying a room its members had left many times.
func (tx *Tx) PutRemoval(room protocol.RoomID, e *protocol.Signed, reach uint64) error {
	a, ok := Removed(e)
	if !ok {
		return fmt.Errorf("put removal: %s %s revokes nobody", e.Type, e.ID)
	}
	by := byOther
	if e.AuthorID() == a {
		by = bySelf
	}
	return wrap("put removal", tx.set(removalKey(room, a, e.ID), append(u64(reach), by)))
}

// The byte after a removal entry's reach: whether the account revoked
// itself. Entries written before 2026-12-06 (schema 13's first builds) end
// with the reach.
const (
	byOther byte = 0
	bySelf  byte = 1
)

// putRemovalEntry writes a removal entry as an older build did: reach
// alone, saying nothing of who revoked the account.
func (tx *Tx) putRemovalEntry(room protocol.RoomID, account protocol.AccountID, id protocol.EventID, reach uint64) error {
	return wrap("put removal", tx.set(removalKey(room, account, id), u64(reach)))
}

// Removal is an event PutRemoval recorded.
type Removal struct {
	ID      protocol.EventID
	Reach   uint64
	Account protocol.AccountID // the account the event revokes
	// Self reports whether the account revoked itself (its leave, or
	// its removal by itself), if SelfKnown: an entry an older build
	// wrote does not say, and its event must be read to tell.
	Self, SelfKnown bool
}

// Removals returns the events of room that PutRemoval recorded for node's
// accounts, by account and then event ID; none if node never had an
// account removed from room.
func (tx *Tx) Removals(room protocol.RoomID, node protocol.NodeID) ([]Removal, error) {
	rs, err := tx.removals(key(pRemovalOf, room[:], nodePart(node)), node, nil)
	if err != nil {
		return nil, fmt.Errorf("list removals of %s in %s: %w", node.Short(), room, err)
	}
	return rs, nil
}

// RemovalsOf returns the events of room that PutRemoval recorded for
// account, by event ID.
func (tx *Tx) RemovalsOf(room protocol.RoomID, account protocol.AccountID) ([]Removal, error) {
	handle := account.Handle()
	rs, err := tx.removals(key(pRemovalOf, room[:], nodePart(account.Node()), []byte(handle), []byte{0}), account.Node(), []byte(handle))
	if err != nil {
		return nil, fmt.Errorf("list removals of %s in %s: %w", account, room, err)
	}
	return rs, nil
}

// removals lists the index entries under prefix, which ends with node's
// part or, if handle is set, with that account's.
func (tx *Tx) removals(prefix []byte, node protocol.NodeID, handle []byte) ([]Removal, error) {
	es, err := tx.list(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Removal, 0, len(es))
	for _, e := range es {
		k, h := e.k, handle
		if h == nil {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				return nil, fmt.Errorf("bad removal key %x", e.k)
			}
			h, k = k[:i], k[i+1:]
		}
		if len(k) != len(protocol.EventID{}) || (len(e.v) != 8 && len(e.v) != 9) {
			return nil, fmt.Errorf("bad removal entry %x", e.k)
		}
		r := Removal{Reach: be64(e.v), Account: protocol.NewAccountID(node, protocol.Handle(h))}
		if len(e.v) == 9 {
			r.Self, r.SelfKnown = e.v[8] == bySelf, true
		}
		copy(r.ID[:], k)
		out = append(out, r)
	}
	return out, nil
}

// RemovedAccounts returns the accounts PutRemoval recorded removals of
// in room, each once, by node and handle.
func (tx *Tx) RemovedAccounts(room protocol.RoomID) ([]protocol.AccountID, error) {
	es, err := tx.list(key(pRemovalOf, room[:]))
	if err != nil {
		return nil, fmt.Errorf("list removed accounts of %s: %w", room, err)
	}
	var out []protocol.AccountID
	for _, e := range es {
		parts := bytes.SplitN(e.k, []byte{0}, 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad removal key %x", e.k)
		}
		a := protocol.NewAccountID(protocol.NodeID(parts[0]), protocol.Handle(parts[1]))
		if len(out) == 0 || out[len(out)-1] != a {
			out = append(out, a)
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
