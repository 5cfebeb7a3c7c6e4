package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Applied is what a node worked out about a room's control state: the
// control events of the history of the snapshot under Control that do not
// take effect there (protocol.Applied). Every other event of that history
// does. The node keeps it for its rooms' current snapshots, so that the
// first removal after a start does not resolve a room's whole control
// history again: hundreds of megabytes and tens of seconds in a room whose
// thousands of members came and went.
type Applied struct {
	Control protocol.SnapshotKey `cbor:"1,keyasint"`
	Skipped []protocol.EventID   `cbor:"2,keyasint,omitempty"`
}

// MaxSkipped bounds the events an Applied record holds. A room with more
// that do not take effect (concurrent changes that lost, a hostile
// partner's forks) has none stored: its node resolves the room's control
// history once after each start, as one without the record does.
const MaxSkipped = 512

// AppliedOf returns the record PutApplied last stored for room; false if
// none.
func (tx *Tx) AppliedOf(room protocol.RoomID) (*Applied, bool, error) {
	a := new(Applied)
	err := tx.getRecord(key(pApplied, room[:]), a)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get applied control events of %s: %w", room, err)
	}
	return a, true, nil
}

// PutApplied stores a as room's record, replacing the one before. a must
// hold at most MaxSkipped events.
func (tx *Tx) PutApplied(room protocol.RoomID, a *Applied) error {
	if len(a.Skipped) > MaxSkipped {
		return fmt.Errorf("put applied control events of %s: %d skipped, more than %d", room, len(a.Skipped), MaxSkipped)
	}
	return wrap("put applied control events", tx.setRecord(key(pApplied, room[:]), a))
}

// Writable reports whether tx is an Update's, which may write.
func (tx *Tx) Writable() bool { return tx.writable }

// DropApplied drops room's record, if any.
func (tx *Tx) DropApplied(room protocol.RoomID) error {
	return wrap("drop applied control events", tx.delete(key(pApplied, room[:])))
}
