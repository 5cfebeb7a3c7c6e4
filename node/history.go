package node

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// History visibility "joined" (PROTOCOL.md, "History visibility"): in a
// room of version 3 or later, the text of a message.post or message.edit
// e may be read by an account exactly when, in the control state of the
// snapshot after e (its causal past's: neither type changes it),
//
//   - the visibility is not "joined", or
//   - the account is a member.
//
// Both are read from the events alone, so every node that holds e decides
// the same for it, whenever it asks. A setting changes what is posted
// after it, not what was posted before; an account added concurrently
// with e does not read it. Sync applies the rule per node: a node is sent
// e in full when one of its accounts may read it, and otherwise its
// redacted form (servedForm). The API applies it per account, to the
// event that gives a message its text (its winning edit, or else its
// post): see hideUnreadable. Control events, deletes, tasks and
// acknowledgements are not covered: a node needs them all to compute the
// room's state, so a later member's node learns who said something when,
// not what.

// textReadable reports whether an account that member selects may read
// the text of e, a post or edit of a room of version 3 or later, under
// the rule above. memo, if not nil, keeps answers by snapshot for the
// same member function.
func (n *Node) textReadable(tx *storage.Tx, id protocol.EventID, member func(protocol.AccountID) bool, memo map[protocol.SnapshotKey]bool) (bool, error) {
	k, err := tx.EventSnapshot(id)
	if err != nil {
		return false, err
	}
	if ok, found := memo[k]; found {
		return ok, nil
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(k)
	if err != nil {
		return false, fmt.Errorf("snapshot after %s: %w", id, err)
	}
	ok := s.State.Visibility != protocol.VisibilityJoined
	for a := range s.State.Members.All() {
		if ok {
			break
		}
		ok = member(a)
	}
	if memo != nil {
		memo[k] = ok
	}
	return ok, nil
}

// servedForm returns the form of e that sync sends node peer: e itself,
// or, for a post or edit none of peer's accounts may read (textReadable),
// its redacted form. memo is as for textReadable, for this peer; nil
// (visibilityMemo) when the room never restricted its history, and every
// event is sent as it is.
func (n *Node) servedForm(tx *storage.Tx, peer protocol.NodeID, e *protocol.Signed, memo map[protocol.SnapshotKey]bool) (*protocol.Signed, error) {
	if memo == nil || !e.Redactable() || e.Redacted() {
		return e, nil
	}
	ok, err := n.textReadable(tx, e.ID, func(a protocol.AccountID) bool { return a.Node() == peer }, memo)
	if err != nil || ok {
		return e, err
	}
	return e.Redact()
}

// servedWire returns the wire form of event id that sync sends node peer
// (servedForm), or nil if the store has no such event. With a nil memo
// (an unrestricted room) it sends the stored bytes without decoding them.
func (n *Node) servedWire(tx *storage.Tx, peer protocol.NodeID, id protocol.EventID, memo map[protocol.SnapshotKey]bool) ([]byte, error) {
	if memo == nil {
		return tx.EventWire(id)
	}
	e, err := tx.Event(id)
	if err != nil || e == nil {
		return nil, err
	}
	if e, err = n.servedForm(tx, peer, e, memo); err != nil {
		return nil, err
	}
	return e.Wire(), nil
}

// servedWires calls fn with the index in ids and the wire form that sync
// sends node peer (servedWire) of each event of ids the store holds, in
// order, until fn returns false. With a nil memo it reads the stored
// bytes of all of them at once (storage.Tx.EventWires).
func (n *Node) servedWires(tx *storage.Tx, peer protocol.NodeID, ids []protocol.EventID, memo map[protocol.SnapshotKey]bool, fn func(i int, wire []byte) bool) error {
	if memo == nil {
		return tx.EventWires(ids, fn)
	}
	for i, id := range ids {
		w, err := n.servedWire(tx, peer, id, memo)
		if err != nil {
			return err
		}
		if w != nil && !fn(i, w) {
			return nil
		}
	}
	return nil
}

// visibilityMemo returns a memo for servedForm in room: nil if the room
// never set its history visibility to "joined" (storage.Room.Restricted),
// so that serving it checks nothing.
func visibilityMemo(tx *storage.Tx, room protocol.RoomID) (map[protocol.SnapshotKey]bool, error) {
	r, err := tx.Room(room)
	if err != nil || !r.Restricted {
		return nil, err
	}
	return map[protocol.SnapshotKey]bool{}, nil
}

// hideUnreadable clears the text of m, a message of a room of the given
// version, if account viewer may not read it (textReadable, judged on its
// winning edit, or else its post), and shows it as deleted: clients then
// see who wrote something when, not what, as they do for a deleted
// message. It reports whether it did.
func (n *Node) hideUnreadable(tx *storage.Tx, version uint16, viewer protocol.AccountID, m *Message, edit protocol.Order, memo map[protocol.SnapshotKey]bool) (bool, error) {
	if version < 3 || m.Deleted || m.Author == viewer {
		return false, nil
	}
	id := m.ID
	if edit != (protocol.Order{}) {
		id = edit.ID
	}
	ok, err := n.textReadable(tx, id, func(a protocol.AccountID) bool { return a == viewer }, memo)
	if err != nil || ok {
		return false, err
	}
	m.Body, m.EditedAt, m.Deleted, m.BeforeJoin = "", 0, true, true
	return true, nil
}
