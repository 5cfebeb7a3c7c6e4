package node

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Soft-fail: which accepted content events (messages, tasks and changes
// to them) clients see. Every node holds the same events; in rooms of a
// version with chains, every node that holds the same events shows the
// same ones, whatever order they arrived in (PROTOCOL.md, "Soft-fail"):
//
// A content event e by account X is shown when X is a member in the
// room's current control state, or is an edit or deletion of a message
// (they drop the text they replace, which cannot come back). Otherwise, looking at the removals of X
// (member.remove of X, X's member.leave) that take effect in that state,
// e is shown when one of them has e in its causal past and none by
// another account is concurrent with e.
//
// So what X made before the removal that took it out stays; what it made
// concurrently with a removal by someone else, or backdated after it, is
// hidden, even if X then left itself; what an account made that was never
// really added (its add is void) is hidden; a void removal changes
// nothing. An account added back sees its hidden events shown again: the
// room's admins let it in. With chains, a removal has e in its past
// exactly when it has e's chain position on X's node (or a later one) in
// its past: e.Seq <= the removal's reach (storage.ChainReach).
//
// In rooms of version 1 (no chains) e is hidden when X is not a member
// when the node applies e: that depends on arrival order.

// hides reports whether content event e of room r is hidden, given c,
// the room's current control state.
func (n *Node) hides(tx *storage.Tx, r *storage.Room, e *protocol.Signed, c *protocol.Control) (bool, error) {
	switch {
	case e.Type.IsControl():
		return false, nil
	case e.Seq > 0 && (e.Type == protocol.TypeMessageEdit || e.Type == protocol.TypeMessageDelete):
		// An edit or deletion drops the text it replaces (redact.go),
		// which could not come back were it hidden later: never hidden.
		return false, nil
	}
	a := e.AuthorID()
	if c.Members.Has(a) {
		return false, nil
	}
	if e.Seq == 0 {
		return true, nil
	}
	rs, err := n.removalsOf(tx, r, a)
	if err != nil {
		return false, err
	}
	covered := false
	for _, rm := range rs {
		if e.Seq <= rm.Reach {
			covered = true
			continue
		}
		if rm.Self {
			continue
		}
		past, err := n.inPast(tx, rm.ID, e.ID)
		if err != nil {
			return false, err
		}
		if !past {
			return true, nil // concurrent with a removal by another
		}
	}
	return !covered, nil
}

// removalsOf returns the removals of account a from room r that take
// effect in its current control state, each saying whether a revoked
// itself.
func (n *Node) removalsOf(tx *storage.Tx, r *storage.Room, a protocol.AccountID) ([]storage.Removal, error) {
	rs, err := tx.RemovalsOf(r.ID, a)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	applied, err := n.applied(tx, r)
	if err != nil {
		return nil, err
	}
	var out []storage.Removal
	for _, rm := range rs {
		if !applied.Has(rm.ID) {
			continue
		}
		if !rm.SelfKnown {
			// An entry of an older build: the event tells, and an
			// Update writes the entry anew, saying.
			e, err := tx.Event(rm.ID)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return nil, fmt.Errorf("removal %s: %w", rm.ID, storage.ErrNotFound)
			}
			rm.Self = e.AuthorID() == a
			if tx.Writable() {
				if err := tx.PutRemoval(r.ID, e, rm.Reach); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, rm)
	}
	return out, nil
}

// appliedSet is the set of control events that take effect in a snapshot
// (protocol.Applied): those of its history that are not skipped. Kept
// this way, the set of the snapshot after one more control event shares
// the history with the snapshot and the skipped events (a few, in most
// rooms) with the set before; a set as a map was copied whole for each
// removal, a megabyte in a room whose thousands of members had come and
// gone, and each round of emptying a 5,000-member room took longer than
// the one before.
type appliedSet struct {
	history protocol.History
	skipped map[protocol.EventID]bool // events of history not applied
}

// Has reports whether control event id takes effect.
func (a appliedSet) Has(id protocol.EventID) bool { return a.history.Has(id) && !a.skipped[id] }

// appliedWeight is about how much memory a takes beyond what it shares: a
// history's table of buckets, one bucket and the skipped events.
func appliedWeight(a appliedSet) int { return 4096 + 100*len(a.skipped) }

// applied returns the control events that take effect in r's current
// control snapshot (protocol.Applied). They are remembered for recent
// snapshots and stored with the room for its current one (storage.Applied);
// otherwise they are worked out by resolving the room's whole control
// history, and an Update stores what it worked out.
func (n *Node) applied(tx *storage.Tx, r *storage.Room) (appliedSet, error) {
	a, ok, err := n.knownApplied(tx, r.ID, r.Control, nil)
	if err != nil || ok {
		return a, err
	}
	log := txLog{tx: tx, cache: &n.snapshots}
	s, err := log.snapshot(r.Control)
	if err != nil {
		return appliedSet{}, err
	}
	n.resolvedApplied.Add(1)
	m, err := protocol.Applied(log, s)
	if err != nil {
		return appliedSet{}, err
	}
	a = appliedSet{history: s.History}
	for id := range s.History.All() {
		if !m[id] {
			if a.skipped == nil {
				a.skipped = map[protocol.EventID]bool{}
			}
			a.skipped[id] = true
		}
	}
	n.appliedSets.add(r.Control, a)
	if tx.Writable() {
		if err := storeApplied(tx, r.ID, r.Control, a); err != nil {
			return appliedSet{}, err
		}
	}
	return a, nil
}

// knownApplied returns the control events that take effect in the
// snapshot under key, room's current one or the one before, if they are
// remembered or stored with the room; snap, when not nil, is that
// snapshot. It resolves nothing.
func (n *Node) knownApplied(tx *storage.Tx, room protocol.RoomID, key protocol.SnapshotKey, snap *protocol.Snapshot) (appliedSet, bool, error) {
	if a, ok := n.appliedSets.get(key); ok {
		return a, true, nil
	}
	rec, ok, err := tx.AppliedOf(room)
	if err != nil || !ok || rec.Control != key {
		return appliedSet{}, false, err
	}
	if snap == nil {
		if snap, err = (txLog{tx: tx, cache: &n.snapshots}).snapshot(key); err != nil {
			return appliedSet{}, false, err
		}
	}
	a := appliedSet{history: snap.History}
	for _, id := range rec.Skipped {
		if a.skipped == nil {
			a.skipped = make(map[protocol.EventID]bool, len(rec.Skipped))
		}
		a.skipped[id] = true
	}
	n.appliedSets.add(key, a)
	return a, true, nil
}

// storeApplied stores a, the control events that take effect in the
// snapshot under key, with room, whose current snapshot it is; or drops
// what the room had stored, when a skips more events than a record holds.
func storeApplied(tx *storage.Tx, room protocol.RoomID, key protocol.SnapshotKey, a appliedSet) error {
	if len(a.skipped) > storage.MaxSkipped {
		return tx.DropApplied(room)
	}
	return tx.PutApplied(room, &storage.Applied{Control: key, Skipped: slices.SortedFunc(maps.Keys(a.skipped), protocol.EventID.Compare)})
}

// noteApplied works out the control events that take effect in snap, the
// snapshot after the control event e, from those of prev, room's snapshot
// before e (under prevKey), when snap follows from prev by e alone
// (protocol.AppliesAfter) and those of prev are remembered or stored; it
// remembers them under key, and reports false if it cannot. Every removal
// in a room asks for them (removalsOf), and working them out again
// resolves the room's whole control history, seconds in a room whose
// thousands of members came and went one at a time.
func (n *Node) noteApplied(tx *storage.Tx, room protocol.RoomID, prevKey protocol.SnapshotKey, prev *protocol.Snapshot, key protocol.SnapshotKey, snap *protocol.Snapshot, e *protocol.Signed) (appliedSet, bool, error) {
	if e.Type == protocol.TypeRoomCreate {
		a := appliedSet{history: snap.History} // the create alone: applied
		n.appliedSets.add(key, a)
		return a, true, nil
	}
	if prev == nil || !e.Type.IsControl() {
		return appliedSet{}, false, nil
	}
	applies, ok := protocol.AppliesAfter(prev, snap, e)
	if !ok {
		return appliedSet{}, false, nil
	}
	a, ok, err := n.knownApplied(tx, room, prevKey, prev)
	if err != nil || !ok {
		return appliedSet{}, false, err
	}
	next := appliedSet{history: snap.History, skipped: a.skipped}
	if !applies {
		next.skipped = maps.Clone(a.skipped)
		if next.skipped == nil {
			next.skipped = map[protocol.EventID]bool{}
		}
		next.skipped[e.ID] = true
	}
	n.appliedSets.add(key, next)
	return next, true, nil
}

// inPast reports whether control event id is in the causal past of event
// of: in the history of the snapshot after it.
func (n *Node) inPast(tx *storage.Tx, id, of protocol.EventID) (bool, error) {
	k, err := tx.EventSnapshot(of)
	if err != nil {
		return false, err
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(k)
	if err != nil {
		return false, err
	}
	return s.History.Has(id), nil
}

// revisit brings what clients see of account a's content events in room
// r in line with the rule above after a change: a's membership in c, the
// room's current control state, or the removals of a that take effect.
func (n *Node) revisit(tx *storage.Tx, r *storage.Room, a protocol.AccountID, c *protocol.Control) error {
	hidden, err := tx.HiddenOf(r.ID, a)
	if err != nil {
		return err
	}
	for _, id := range hidden {
		e, err := tx.Event(id)
		if err != nil {
			return err
		}
		if e == nil || e.Seq == 0 {
			continue
		}
		if h, err := n.hides(tx, r, e, c); err != nil || h {
			if err != nil {
				return err
			}
			continue
		}
		if err := n.show(tx, r, e, c); err != nil {
			return err
		}
	}
	if c.Members.Has(a) {
		return nil
	}
	// a's events that are shown and should not be: along its node's chain
	// from the least reach of a's removals (every event up to it is in the
	// past of each, so shown), to the node's latest.
	rs, err := n.removalsOf(tx, r, a)
	if err != nil {
		return err
	}
	var from uint64
	for i, rm := range rs {
		if i == 0 || rm.Reach < from {
			from = rm.Reach
		}
	}
	// What chainAuthors holds of the chain tells a's events apart without
	// reading the others'; the rest is read, and remembered once committed
	// (and, until then, for the rest of this Update: a batch of removals
	// revisits one account after another along the same chain).
	origin := a.Node()
	seqs, next := n.chainAuthors.eventsOf(r.ID, origin, from, a)
	for _, seq := range seqs {
		if err := n.retractAt(tx, r, origin, seq, c); err != nil {
			return err
		}
	}
	run := n.chainRun(tx, r.ID, origin)
	for seq := next; ; seq++ {
		if entry, ok := run.at(seq); ok {
			if seq > from && entry.author == a && !entry.control {
				if err := n.retractAt(tx, r, origin, seq, c); err != nil {
					return err
				}
			}
			continue
		}
		e, entry, ok, err := chainRead(tx, r.ID, origin, seq)
		if err != nil || !ok {
			return err
		}
		n.chainReads.Add(1)
		run.extend(seq, entry, e != nil)
		if seq <= from || e == nil || e.AuthorID() != a || e.Type.IsControl() {
			continue // up to from: read to keep the run in one piece
		}
		if err := n.retractHidden(tx, r, e, c); err != nil {
			return err
		}
	}
}

// retractAt retracts the event at position seq of origin's chain in room
// r if it is shown and hidden in control state c.
func (n *Node) retractAt(tx *storage.Tx, r *storage.Room, origin protocol.NodeID, seq uint64, c *protocol.Control) error {
	id, ok, err := tx.Position(r.ID, origin, seq)
	if err != nil || !ok {
		return err
	}
	e, err := tx.Event(id)
	if err != nil || e == nil {
		return err
	}
	return n.retractHidden(tx, r, e, c)
}

// pendingRun is what an Update's revisits read of one chain past what
// chainAuthors holds: positions in a row from lo, each holding its event
// (a position without one ends the run for good). chainAuthors takes
// them once the Update commits.
type pendingRun struct {
	lo      uint64
	entries []chainEntry
	ended   bool
}

// pendingRunKey is the key of a chain's pendingRun among the notes of an
// Update (storage.Tx.Note).
type pendingRunKey chainKey

// chainRun returns the run this Update's revisits read of origin's chain
// in room, making it (and arranging for chainAuthors to take it on
// commit) the first time.
func (n *Node) chainRun(tx *storage.Tx, room protocol.RoomID, origin protocol.NodeID) *pendingRun {
	k := pendingRunKey{room, origin}
	if run, ok := tx.Noted(k).(*pendingRun); ok {
		return run
	}
	run := &pendingRun{}
	tx.Note(k, run)
	tx.AfterCommit(func() { n.chainAuthors.add(room, origin, run.entries) })
	return run
}

// at returns the entry of position seq, if the run holds it.
func (p *pendingRun) at(seq uint64) (chainEntry, bool) {
	if seq < p.lo || seq >= p.lo+uint64(len(p.entries)) {
		return chainEntry{}, false
	}
	return p.entries[seq-p.lo], true
}

// extend adds the entry read of position seq if it continues the run;
// held is false when the store no longer holds the event there.
func (p *pendingRun) extend(seq uint64, entry chainEntry, held bool) {
	switch {
	case p.ended:
	case !held:
		p.ended = true
	case len(p.entries) == 0:
		p.lo, p.entries = seq, append(p.entries, entry)
	case seq == p.lo+uint64(len(p.entries)):
		p.entries = append(p.entries, entry)
	}
}

// retractHidden retracts a's shown event e of room r if it is hidden in
// control state c.
func (n *Node) retractHidden(tx *storage.Tx, r *storage.Room, e *protocol.Signed, c *protocol.Control) error {
	if h, err := tx.Hidden(e.ID); err != nil || h {
		return err
	}
	if h, err := n.hides(tx, r, e, c); err != nil || !h {
		return err
	}
	return n.retract(tx, r, e, c)
}

// show makes hidden event e visible: it applies its content as accept
// does for an event that is not hidden.
func (n *Node) show(tx *storage.Tx, r *storage.Room, e *protocol.Signed, c *protocol.Control) error {
	if err := tx.Unhide(e); err != nil {
		return err
	}
	shown, err := n.applyContent(tx, r, e, c, false)
	if err != nil || !shown {
		return err
	}
	// Changes by others that arrived while e was hidden found nothing to
	// change: apply them now.
	switch e.Type {
	case protocol.TypeMessagePost:
		err = rebuildMessage(tx, e.ID)
	case protocol.TypeTaskCreate:
		err = rebuildTask(tx, e.ID)
	}
	if err != nil {
		return err
	}
	return n.recordShown(tx, e)
}

// retract hides event e, which clients could see: it takes back what
// applyContent did for it.
func (n *Node) retract(tx *storage.Tx, r *storage.Room, e *protocol.Signed, c *protocol.Control) error {
	if err := tx.Hide(e); err != nil {
		return err
	}
	change := changeOf(e)
	switch p := e.Content.(type) {
	case *protocol.MessagePost:
		room, m, err := tx.Message(e.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteMessage(room, m); err != nil {
			return err
		}
		if err := n.dropFile(tx, e.ID); err != nil {
			return err
		}
		r.Messages--
		if err := n.uncount(tx, r, e, p.Body, m, c); err != nil {
			return err
		}
		change.Kind = string(ChangeMessageDeleted)
	case *protocol.MessageEdit:
		if err := rebuildMessage(tx, p.Message); err != nil {
			return err
		}
		change.Kind = string(ChangeMessageUpdated)
	case *protocol.MessageDelete:
		if err := rebuildMessage(tx, p.Message); err != nil {
			return err
		}
		change.Kind = string(ChangeMessageUpdated)
	case *protocol.TaskCreate:
		t, err := tx.Task(e.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteTask(t); err != nil {
			return err
		}
		r.Tasks--
	case *protocol.TaskUpdate:
		if err := rebuildTask(tx, p.Task); err != nil {
			return err
		}
	case *protocol.MessageReact:
		if err := tx.DeleteReaction(e); err != nil {
			return err
		}
	default:
		return nil // an acknowledgement: nothing shown
	}
	if err := n.record(tx, change); err != nil {
		return err
	}
	return n.retractNotice(tx, e)
}

// rebuildMessage recomputes message id from its post and its changes
// that are not hidden. Changes resolve the same in any order (see
// protocol.Message.Apply), so this is what a node that never showed the
// hidden ones holds.
func rebuildMessage(tx *storage.Tx, id protocol.EventID) error {
	room, old, err := tx.Message(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // hidden itself
	}
	if err != nil {
		return err
	}
	post, err := tx.Event(id)
	if err != nil || post == nil {
		return errors.Join(err, storage.ErrNotFound)
	}
	m := &storage.Message{Message: *protocol.NewMessage(post), Alias: old.Alias}
	if err := renderFile(tx, m); err != nil {
		return err
	}
	if err := applyRefs(tx, id, func(e *protocol.Signed) { m.Apply(e) }); err != nil {
		return err
	}
	return tx.PutMessage(room, m)
}

// rebuildTask recomputes task id from its create and its updates that are
// not hidden, as rebuildMessage does for messages.
func rebuildTask(tx *storage.Tx, id protocol.EventID) error {
	old, err := tx.Task(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	create, err := tx.Event(id)
	if err != nil || create == nil {
		return errors.Join(err, storage.ErrNotFound)
	}
	t := &storage.Task{Room: old.Room, Task: *protocol.NewTask(create)}
	if err := applyRefs(tx, id, func(e *protocol.Signed) { t.Apply(e) }); err != nil {
		return err
	}
	return tx.PutTask(old, t)
}

// applyRefs calls apply with every change of target that is not hidden.
func applyRefs(tx *storage.Tx, target protocol.EventID, apply func(*protocol.Signed)) error {
	refs, err := tx.Refs(target)
	if err != nil {
		return err
	}
	for _, id := range refs {
		if h, err := tx.Hidden(id); err != nil || h {
			if err != nil {
				return err
			}
			continue
		}
		e, err := tx.Event(id)
		if err != nil {
			return err
		}
		if e != nil {
			apply(e)
		}
	}
	return nil
}

// legacyUncount takes back what countUnread counted, before schema 9, for
// post e, at order at, for the local members who have not read past it.
func (n *Node) legacyUncount(tx *storage.Tx, room protocol.RoomID, e *protocol.Signed, body string, at protocol.Order, c *protocol.Control) error {
	for a := range c.Members.All() {
		if a.Node() != n.id || a == e.AuthorID() {
			continue
		}
		m, err := tx.ReadMarker(a, room)
		if err != nil {
			return err
		}
		if m.Read.Compare(at) >= 0 || m.Unread == 0 {
			continue
		}
		m.Unread--
		if mentions(body, a) && m.Mentions > 0 {
			m.Mentions--
		}
		if err := tx.PutReadMarker(a, room, m); err != nil {
			return err
		}
	}
	return nil
}

// AppliedAgreesForTest returns an error when the control events the node
// remembers or stores as taking effect in room's current control state
// differ from those resolving its whole control history gives
// (protocol.Applied): tests check the sets kept one event at a time.
func (n *Node) AppliedAgreesForTest(room protocol.RoomID) error {
	return n.store.View(func(tx *storage.Tx) error {
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		log := txLog{tx: tx, cache: &n.snapshots}
		s, err := log.snapshot(r.Control)
		if err != nil {
			return err
		}
		want, err := protocol.Applied(log, s)
		if err != nil {
			return err
		}
		check := func(from string, a appliedSet) error {
			for id := range s.History.All() {
				if a.Has(id) != want[id] {
					return fmt.Errorf("room %s: control event %s takes effect: %v %s, %v resolved", room, id, a.Has(id), from, want[id])
				}
			}
			return nil
		}
		if a, ok := n.appliedSets.get(r.Control); ok {
			if err := check("remembered", a); err != nil {
				return err
			}
		}
		rec, ok, err := tx.AppliedOf(room)
		if err != nil || !ok || rec.Control != r.Control {
			return err
		}
		a := appliedSet{history: s.History, skipped: map[protocol.EventID]bool{}}
		for _, id := range rec.Skipped {
			a.skipped[id] = true
		}
		return check("stored", a)
	})
}

// TakesEffectForTest reports whether control event id of room takes effect
// in the room's current control state (protocol.Applied): tests use it to
// tell a removal that stands from a void one.
func (n *Node) TakesEffectForTest(room protocol.RoomID, id protocol.EventID) (bool, error) {
	var ok bool
	err := n.store.View(func(tx *storage.Tx) error {
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		applied, err := n.applied(tx, r)
		ok = applied.Has(id)
		return err
	})
	return ok, err
}
