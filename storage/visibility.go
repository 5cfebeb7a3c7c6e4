package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// This file holds what the node needs to decide, from the events alone,
// which content events of a room of a version with chains are hidden
// (soft-failed), besides the removals (removals.go): the hidden events by
// author (pHiddenOf), and the changes made to each message and task
// (pRef), so that a change hidden after the fact can be taken back.

// ChainReach returns the highest chain position of origin's events in the
// causal past of e (e excluded), 0 if there are none. It walks e's
// ancestors newest first (by depth, as a child is always deeper than its
// parents) and stops at the first event of origin: on an unforked chain
// that is origin's latest there. The walk is as long as the part of the
// past newer than that event; it runs once per removal.
func (tx *Tx) ChainReach(e *protocol.Signed, origin protocol.NodeID) (uint64, error) {
	// No floor: only a create has depth 0, and it has no past.
	return tx.ChainReachAbove(e, origin, protocol.Order{}, "")
}

// Hide records that accepted event e is hidden from clients: the node
// soft-failed it (see node.apply).
func (tx *Tx) Hide(e *protocol.Signed) error {
	if err := tx.set(key(pHidden, e.ID[:]), nil); err != nil {
		return wrap("hide event", err)
	}
	room := e.RoomID()
	return wrap("hide event", tx.set(key(pHiddenOf, room[:], accountPart(e.AuthorID()), u64(e.Seq), e.ID[:]), nil))
}

// Unhide takes back Hide.
func (tx *Tx) Unhide(e *protocol.Signed) error {
	if err := tx.delete(key(pHidden, e.ID[:])); err != nil {
		return wrap("unhide event", err)
	}
	room := e.RoomID()
	return wrap("unhide event", tx.delete(key(pHiddenOf, room[:], accountPart(e.AuthorID()), u64(e.Seq), e.ID[:])))
}

// Hidden reports whether Hide was called for event id.
func (tx *Tx) Hidden(id protocol.EventID) (bool, error) {
	ok, err := tx.has(key(pHidden, id[:]))
	return ok, wrap("hidden event", err)
}

// HiddenByThis reports whether this Update hid event id (Hide) and did
// not show it again. For an event the Update has just applied, which no
// earlier Update could have hidden, it is Hidden without a read.
func (tx *Tx) HiddenByThis(id protocol.EventID) bool {
	i, ok := tx.own[string(key(pHidden, id[:]))]
	return ok && !tx.ops[i].del
}

// HiddenOf returns the hidden events of account a in room, by chain
// position.
func (tx *Tx) HiddenOf(room protocol.RoomID, a protocol.AccountID) ([]protocol.EventID, error) {
	es, err := tx.list(key(pHiddenOf, room[:], accountPart(a)))
	if err != nil {
		return nil, fmt.Errorf("list hidden events: %w", err)
	}
	out := make([]protocol.EventID, 0, len(es))
	for _, e := range es {
		if len(e.k) != 8+len(protocol.EventID{}) {
			return nil, fmt.Errorf("bad hidden key %x", e.k)
		}
		var id protocol.EventID
		copy(id[:], e.k[8:])
		out = append(out, id)
	}
	return out, nil
}

// PutRef records that event id changes the message or task target (an
// edit, deletion or task update), so that Refs can list them.
func (tx *Tx) PutRef(target, id protocol.EventID) error {
	return wrap("put reference", tx.set(key(pRef, target[:], id[:]), nil))
}

// Refs returns the events PutRef recorded for target, by ID.
func (tx *Tx) Refs(target protocol.EventID) ([]protocol.EventID, error) {
	es, err := tx.list(key(pRef, target[:]))
	if err != nil {
		return nil, fmt.Errorf("list references: %w", err)
	}
	out := make([]protocol.EventID, 0, len(es))
	for _, e := range es {
		if len(e.k) != len(protocol.EventID{}) {
			return nil, fmt.Errorf("bad reference key %x", e.k)
		}
		var id protocol.EventID
		copy(id[:], e.k)
		out = append(out, id)
	}
	return out, nil
}

// DeleteMessage takes message m out of its room's timeline: it is hidden
// after the fact. Its alias stays, unused: it moves from the timeline
// record to the alias index, so that the message keeps it if it is shown
// again. Its event stays in the room's by-depth index, which from schema
// 11 on the timeline record stood in for (RoomEvents).
func (tx *Tx) DeleteMessage(room protocol.RoomID, m *Message) error {
	if err := tx.set(roomEventKey(room, m.Depth, m.ID), nil); err != nil {
		return wrap("delete message", err)
	}
	if m.Alias != 0 {
		if err := tx.set(key(pAlias, []byte{byte(AliasMessage)}, m.ID[:]), u64(m.Alias)); err != nil {
			return wrap("delete message", err)
		}
	}
	return wrap("delete message", tx.delete(timelineKey(room, m.Depth, m.ID)))
}

// DeleteTask removes task t and its index entries: it is hidden after
// the fact.
func (tx *Tx) DeleteTask(t *Task) error {
	if err := tx.unindexTask(t); err != nil {
		return wrap("delete task", err)
	}
	return wrap("delete task", tx.delete(key(pTask, t.ID[:])))
}
