package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// publish makes a new event of author's in room with content, checks it
// against the room rules and stores it, durably, before returning it.
// Rule violations come back wrapped in ErrForbidden.
//
// The event names the room's heads as its parents, so it is signed once
// they are known. Signing is the costliest step of a post, and the store
// runs Updates one at a time; so a publish that is the only one of its
// room under way signs the event before its Update, with the heads it
// reads then, and the Update uses that event if the heads are still the
// same. Otherwise the Update makes the event itself: when several local
// events of a room are published at once, signing early would mostly be
// wasted.
func (n *Node) publish(ctx context.Context, author protocol.Handle, room protocol.RoomID, content protocol.Content) (*protocol.Signed, error) {
	return n.publishThen(ctx, author, room, content, nil, nil)
}

// publishThen is publish that, if first is not nil, calls it at the start
// of the Update, and fails with its error, and if then is not nil, calls
// it in the same Update once the event is stored: what the caller needs
// of the records derived from it (a message's alias) comes from the
// Update's own writes, not from a read of the store afterwards. A check
// made in first needs no View, which would wait for the store's commit
// in flight. Both run on the store's writer and must not block; then may
// run although the Update then fails.
func (n *Node) publishThen(ctx context.Context, author protocol.Handle, room protocol.RoomID, content protocol.Content, first func(*storage.Tx) error, then func(*storage.Tx, *protocol.Signed)) (*protocol.Signed, error) {
	_, create := content.(*protocol.RoomCreate)
	if !create && n.catchUp.waiting(room) {
		return nil, fmt.Errorf("room %s: %w", room, ErrCatchingUp)
	}
	var early *protocol.Signed
	var earlyTip tip
	if !create {
		alone := n.publishing.enter(room)
		defer n.publishing.leave(room)
		if alone {
			var err error
			var ok bool
			if earlyTip, ok = n.tips.Get(room); !ok {
				err = n.store.View(func(tx *storage.Tx) error {
					earlyTip, err = roomTip(tx, room)
					return err
				})
			}
			if err == nil {
				early, _ = n.sign(author, room, earlyTip, content) // on failure, the Update signs again and reports it
			}
		}
	}
	var e *protocol.Signed
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		t := tip{version: protocol.Version} // a room.create makes a room of the newest version
		if !create {
			var err error
			if t, err = roomTip(tx, room); err != nil {
				return err
			}
		}
		if early != nil && t.same(earlyTip) {
			e = early
		} else {
			var err error
			if e, err = n.sign(author, room, t, content); err != nil {
				return err
			}
		}
		if err := n.accept(tx, e); err != nil {
			return err
		}
		if next, err := roomTip(tx, room); err == nil { // this Update's own write: no store read
			tx.AfterCommit(func() { n.tips.Add(room, next) })
		}
		if then != nil {
			then(tx, e)
		}
		return nil
	})
	if err != nil {
		return nil, ruleError(err)
	}
	n.metrics.published(e)
	return e, nil
}

// maxPublishBatch is the most events publishAll stores in one Update.
const maxPublishBatch = 128

// publishAll publishes contents as events of author in room, one after
// another, storing up to maxPublishBatch of them in each store Update: a
// run of events made at once (an admin taking thousands out of a room,
// an event each) then waits for a durable commit per batch, not per event.
// A batch too big for one transaction (storage.ErrTxnTooBig) is split. An
// event the room rules refuse fails its batch; the batches before it
// stay. needed, if not nil, is asked of each content in its Update, just
// before its event would be made: false skips it (a removal of an account
// no longer a member, which another admin took out meanwhile).
func (n *Node) publishAll(ctx context.Context, author protocol.Handle, room protocol.RoomID, contents []protocol.Content, needed func(*storage.Tx, protocol.Content) (bool, error)) error {
	if n.catchUp.waiting(room) {
		return fmt.Errorf("room %s: %w", room, ErrCatchingUp)
	}
	n.publishing.enter(room)
	defer n.publishing.leave(room)
	for len(contents) > 0 {
		batch := contents[:min(len(contents), maxPublishBatch)]
		if err := n.publishBatch(ctx, author, room, batch, needed); err != nil {
			return err
		}
		contents = contents[len(batch):]
	}
	return nil
}

// publishBatch stores contents as events of author in room in one Update,
// or, if they are too big for one, in two halves.
func (n *Node) publishBatch(ctx context.Context, author protocol.Handle, room protocol.RoomID, contents []protocol.Content, needed func(*storage.Tx, protocol.Content) (bool, error)) error {
	var made []*protocol.Signed
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		made = made[:0]
		for _, c := range contents {
			if needed != nil {
				ok, err := needed(tx, c)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			t, err := roomTip(tx, room) // after the first, this Update's own write: no store read
			if err != nil {
				return err
			}
			e, err := n.sign(author, room, t, c)
			if err != nil {
				return err
			}
			if err := n.accept(tx, e); err != nil {
				return err
			}
			made = append(made, e)
		}
		if next, err := roomTip(tx, room); err == nil {
			tx.AfterCommit(func() { n.tips.Add(room, next) })
		}
		return nil
	})
	if errors.Is(err, storage.ErrTxnTooBig) && len(contents) > 1 {
		half := len(contents) / 2
		if err := n.publishBatch(ctx, author, room, contents[:half], needed); err != nil {
			return err
		}
		return n.publishBatch(ctx, author, room, contents[half:], needed)
	}
	if err != nil {
		return ruleError(err)
	}
	for _, e := range made {
		n.metrics.published(e)
	}
	return nil
}

// tip is what a new event of a room follows: the room's heads, its
// version, which the event must carry, and from version 2 on this node's
// latest event there and its chain position (zero if none), which the
// event must follow.
type tip struct {
	heads   []protocol.Order
	version uint16
	last    protocol.Order
	seq     uint64
}

// same reports whether a new event would follow t and u alike.
func (t tip) same(u tip) bool {
	return t.version == u.version && t.seq == u.seq && t.last == u.last && sameOrders(t.heads, u.heads)
}

// roomTip returns what a new event of room follows. The error wraps
// ErrNotFound if the node holds no such room.
func roomTip(tx *storage.Tx, room protocol.RoomID) (tip, error) {
	t, err := tx.Tip(room)
	if err != nil {
		return tip{}, err
	}
	if len(t.Heads) == 0 {
		return tip{}, fmt.Errorf("room %s: %w", room, ErrNotFound)
	}
	if t.Version == 0 { // a heads record of schema 6 or older
		r, err := tx.Room(room)
		if err != nil {
			return tip{}, err
		}
		t.Version, t.Seq, t.Last = r.Version, r.Seq, r.Last
	}
	return tip{heads: t.Heads, version: t.Version, last: t.Last, seq: t.Seq}, nil
}

// sign makes and signs an event of author's in room with content that
// follows t (no heads for a room.create, which gets t's version).
func (n *Node) sign(author protocol.Handle, room protocol.RoomID, t tip, content protocol.Content) (*protocol.Signed, error) {
	ev := protocol.Event{Version: t.version}
	if len(t.heads) > 0 {
		ev = protocol.ChainSuccessor(room, t.version, t.heads, t.last, t.seq)
	}
	ev.Author, ev.Time = author, n.cfg.Now().UnixMilli()
	e, err := protocol.Sign(n.key, ev, content)
	if err != nil {
		// What the protocol refuses (a too long name, too many
		// assignees) is named in err, among internal detail.
		return nil, &Problem{Kind: ErrInvalid, Msg: "a value is too long or not allowed here", Cause: err}
	}
	return e, nil
}

// sameOrders reports whether a and b hold the same positions, in any
// order.
func sameOrders(a, b []protocol.Order) bool {
	if len(a) != len(b) {
		return false
	}
	for _, o := range a {
		if !slices.Contains(b, o) {
			return false
		}
	}
	return true
}

// Node.tips remembers, for the rooms this node published in lately, the
// tip its last commit there left, so that publish can sign early without
// a store read (which was 4% of a post's CPU in BenchmarkHTTPPost). It is
// only a hint: the Update signs again if the tip it reads differs. Every
// applied event forgets its room's entry after its commit, and a publish
// sets it again after the commit of its own event (hooks run in commit
// order), so an entry is never older than the room's last commit unless
// the node's own event made it. tipCacheRooms bounds it (a tip is a few
// hundred bytes).
const tipCacheRooms = 4096

// roomCount counts the local events being published, per room: publish
// signs early only when it is the room's only one.
type roomCount struct {
	mu sync.Mutex
	m  map[protocol.RoomID]int
}

// enter counts one more event of room and reports whether it is the only
// one.
func (c *roomCount) enter(room protocol.RoomID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[protocol.RoomID]int)
	}
	c.m[room]++
	return c.m[room] == 1
}

// leave counts one event of room fewer.
func (c *roomCount) leave(room protocol.RoomID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[room]--; c.m[room] <= 0 {
		delete(c.m, room)
	}
}

// ruleError maps a room rule violation (any error wrapping
// protocol.ErrRule) to a node error: adding a member twice to ErrConflict,
// a reference the rules do not allow (a non-member assignee, another
// room's message) to ErrInvalid, and every other rule to ErrForbidden, so
// that a new rule is never an internal error. Other errors pass through
// unchanged; among them protocol.ErrBadParents and ErrWrongOrigin, which
// only a partner's event can cause: from the node's own event they are a
// bug.
//
// The result is a *Problem whose message is the rule's own text ("author
// is a read-only member"), without the event it was checked on.
func ruleError(err error) error {
	if !errors.Is(err, protocol.ErrRule) {
		return err
	}
	p := &Problem{Kind: ErrForbidden, Msg: protocol.ErrRule.Error(), Cause: err}
	switch {
	case errors.Is(err, protocol.ErrAlreadyMember):
		p.Kind = ErrConflict
	case errors.Is(err, protocol.ErrBadTarget):
		p.Kind = ErrInvalid
	}
	for _, r := range rules {
		if errors.Is(err, r) {
			p.Msg = r.Error()
			break
		}
	}
	return p
}

// rules are the room rule violations whose text ruleError shows clients.
var rules = []error{protocol.ErrNotMember, protocol.ErrReadOnly, protocol.ErrNotAdmin, protocol.ErrNotAuthor,
	protocol.ErrNotAuthorOrAdmin, protocol.ErrLastAdmin, protocol.ErrRoomKind, protocol.ErrBadTarget, protocol.ErrAlreadyMember}

// accept checks e against the room rules and, if it is allowed, stores it
// and updates everything derived from it: heads, control state,
// membership, messages, tasks, unread counts and aliases. An event already
// held is a no-op. A *protocol.MissingError means dependencies must come
// first.
func (n *Node) accept(tx *storage.Tx, e *protocol.Signed) error {
	snap, err := n.check(tx, e)
	if err != nil || snap == nil {
		return err
	}
	return n.apply(tx, e, snap)
}

// check runs the room rules on e without writing anything, and returns the
// control snapshot after it; nil and no error if e is already held.
func (n *Node) check(tx *storage.Tx, e *protocol.Signed) (*protocol.Snapshot, error) {
	if ok, err := held(tx, e); err != nil || ok {
		return nil, err
	}
	return protocol.Check(txLog{tx: tx, cache: &n.snapshots}, e)
}

// held reports whether the store holds e. An event on a chain (Seq > 0)
// at a position no event holds is not held, and the event at its position
// is: apply records every such event at its position (position), and a
// position keeps its first event. The position of an origin's next event
// is what the writer's cache knows to be free once the one before is
// stored (storage.Tx.PutPosition), so a run of a partner's new events is
// told new without a read of the store, where looking up each event's ID
// missed through every level of it. Only an event at a position another
// holds (an equivocation) is looked up by its ID.
func held(tx *storage.Tx, e *protocol.Signed) (bool, error) {
	if e.Seq > 0 {
		first, taken, err := tx.Position(e.RoomID(), e.Origin, e.Seq)
		switch {
		case err != nil || !taken:
			return false, err
		case first == e.ID:
			return true, nil
		}
	}
	return tx.HasEvent(e.ID)
}

// apply stores e, which check allowed with snapshot snap, and everything
// derived from it. An error leaves tx half-written: the caller must fail
// the whole Update.
func (n *Node) apply(tx *storage.Tx, e *protocol.Signed, snap *protocol.Snapshot) error {
	log := txLog{tx: tx, cache: &n.snapshots}
	room := e.RoomID()
	var r *storage.Room
	var prev *protocol.Snapshot // the room's control snapshot before e
	var before *protocol.Control
	var beforeKey protocol.SnapshotKey
	var err error
	if e.Type != protocol.TypeRoomCreate {
		if r, err = tx.Room(room); err != nil {
			return err
		}
		if prev, err = log.snapshot(r.Control); err != nil {
			return err
		}
		before, beforeKey = prev.State, r.Control
	}
	t, err := tx.Tip(room)
	if err != nil {
		return err
	}
	heads := t.Heads
	merged := !followsAll(e, heads)
	// Applied in sequence, a control event changes only the entries it
	// names (touched.go); a merge may change any.
	var only []protocol.AccountID
	if !merged && before != nil {
		only = touched(e)
	}
	snapKey, err := n.putSnapshot(log, snap, e, prev, beforeKey, merged, only)
	if err != nil {
		return err
	}
	next, noted, err := n.noteApplied(tx, room, beforeKey, prev, snapKey, snap, e)
	if err != nil {
		return err
	}
	if err := tx.PutEvent(e, snapKey); err != nil {
		return err
	}
	if target, ok := protocol.Ref(e); ok && e.Seq > 0 {
		if err := tx.PutRef(target, e.ID); err != nil {
			return err
		}
	}
	if e.Seq > 0 {
		if err := n.position(tx, e); err != nil {
			return err
		}
	}
	if e.Type == protocol.TypeRoomCreate {
		r = &storage.Room{ID: room, Kind: snap.State.Kind, Control: snapKey, Created: e.Time, Version: e.Version}
		if _, err := tx.Alias(storage.AliasRoom, room[:]); err != nil {
			return err
		}
	}
	t.Version, t.Seq, t.Last = r.Version, r.Seq, r.Last
	if e.Origin == n.id && e.Seq > t.Seq {
		t.Seq, t.Last = e.Seq, e.Order()
	}
	if err := tx.AdvanceHeads(e, t); err != nil {
		return err
	}
	tx.AfterCommit(func() { n.tips.Remove(room) })
	// The room's control state is the merge of its heads' snapshots. When
	// e follows every head, that is e's own snapshot. Otherwise it is the
	// merge of the state before and e's: the heads e follows are in e's
	// past, and the others' sets are in the state before. So a room with
	// many heads costs one merge of two snapshots per event, not one of
	// every head's.
	control := snap
	if merged {
		if control, err = protocol.Merge(log, []*protocol.Snapshot{prev, snap}); err != nil {
			return err
		}
	}
	switch control {
	case snap:
		r.Control = snapKey // stored above
		if noted {
			if err := storeApplied(tx, room, snapKey, next); err != nil {
				return err
			}
		}
	case prev:
		// unchanged
	default:
		if r.Control, err = tx.PutSnapshot(control, storage.SnapshotBase{Key: beforeKey, Snapshot: prev}); err != nil {
			return err
		}
		n.snapshots.add(r.Control, control)
	}
	if control != prev {
		k := r.Control
		tx.AfterCommit(func() { n.snapshots.committed(k, control) })
	}
	if err := n.syncMembers(tx, r, before, control.State, only); err != nil {
		return err
	}
	r.Events++
	if u, ok := e.Content.(*protocol.RoomUpdate); ok && u.Visibility != nil && *u.Visibility == protocol.VisibilityJoined {
		r.Restricted = true
	}
	if e.Seq > 0 {
		if err := n.putAcked(tx, r, e); err != nil {
			return err
		}
		n.markAck(tx, e)
		if err := n.noteReceipt(tx, r, e); err != nil { // receipts.go
			return err
		}
	}
	if e.Origin == n.id && e.Seq > r.Seq {
		r.Seq, r.Last = e.Seq, e.Order()
	}
	revisits := flipped(before, control.State, only)
	if a, ok := storage.Removed(e); ok {
		var reach uint64
		if e.Seq > 0 {
			if reach, err = n.chainReach(tx, e, a.Node()); err != nil {
				return err
			}
			revisits = appendNew(revisits, a)
		}
		if err := tx.PutRemoval(room, e, reach); err != nil {
			return err
		}
	}
	if e.Seq > 0 && merged && r.Control != beforeKey {
		// A merge of concurrent histories can make a removal void, or
		// one that was void stand, without changing who is a member.
		removed, err := tx.RemovedAccounts(room)
		if err != nil {
			return err
		}
		for _, a := range removed {
			revisits = appendNew(revisits, a)
		}
	}
	// Soft-fail (see visibility.go): e is valid (authorized at its
	// causal past), so it is stored like any event, every node holds the
	// same events and sync converges; but if its author is out of the
	// room and no removal saw it, it is hidden from clients, not counted
	// and not relayed.
	hidden, err := n.hides(tx, r, e, control.State)
	if err != nil {
		return err
	}
	if err := noticeAlias(tx, e); err != nil {
		return err
	}
	shown := false
	if hidden {
		if err := tx.Hide(e); err != nil {
			return err
		}
	} else if shown, err = n.applyContent(tx, r, e, control.State, true); err != nil {
		return err
	}
	if e.Seq > 0 {
		// e may change what clients see of others' events: an account
		// that joined or left the room, or a removal that saw further.
		for _, a := range revisits {
			if err := n.revisit(tx, r, a, control.State); err != nil {
				return err
			}
		}
	}
	if shown {
		if err := n.recordShown(tx, e); err != nil {
			return err
		}
	}
	if e.Origin == n.id {
		// Queued before the membership change below, so that an event
		// that changes the room's member nodes goes out on the topic of
		// the nodes that were members before it: a removed node learns
		// of its removal, and the others of the change.
		wire := e.Wire()
		tx.AfterCommit(func() { n.net.queue(outbound{kind: publishEvent, room: room, wire: wire}) })
	}
	if e.Type.IsControl() {
		joined, left, known := nodesChange(before, control.State, only)
		tx.AfterCommit(func() {
			if known {
				n.nodes.change(room, joined, left)
			} else {
				n.nodes.forget(room)
			}
			n.net.queue(outbound{kind: membersChanged, room: room})
		})
		if err := n.checkProfiles(tx, room, before, control.State, only); err != nil {
			return err
		}
	}
	return tx.PutRoom(r)
}

// position records e at its origin's chain position in its room, and
// logs an equivocation if the position was taken: both events are valid,
// signed, and kept; the pair is the proof, which Status counts.
func (n *Node) position(tx *storage.Tx, e *protocol.Signed) error {
	first, forked, err := tx.PutPosition(e)
	if err != nil || !forked {
		return err
	}
	tx.AfterCommit(func() {
		n.log.Warn("equivocation: a node signed two events at one position of its chain",
			"room", e.RoomID(), "origin", e.Origin, "seq", e.Seq, "first", first, "second", e.ID)
	})
	return nil
}

// followsAll reports whether e names every one of heads as a parent.
func followsAll(e *protocol.Signed, heads []protocol.Order) bool {
	for _, h := range heads {
		if !slices.Contains(e.Prev, h.ID) {
			return false
		}
	}
	return true
}

// syncMembers brings the membership index in line with a change of the
// room's control state from before (nil for a new room) to after, looking
// at the entries of only when it is not nil (see changedAccounts).
func (n *Node) syncMembers(tx *storage.Tx, r *storage.Room, before, after *protocol.Control, only []protocol.AccountID) error {
	if before == after {
		return nil // most events change no control state: the same one
	}
	room := r.ID
	for _, a := range changedAccounts(before, after, only) {
		m, in := after.Members.Get(a)
		old, was := memberOf(before, a)
		switch {
		case !in && was:
			if err := tx.RemoveMember(a, room); err != nil {
				return err
			}
			if a.Node() != n.id && old.Name != "" {
				// Shown by name in what it wrote, after it left.
				if err := tx.PutPastName(a, storage.PastName{Name: old.Name, Org: old.Org}); err != nil {
					return err
				}
			}
		case !in || was && old.Role == m.Role:
		default:
			if !was && a.Node() == n.id {
				// A new member has read what came before it joined.
				if err := tx.PutReadMarker(a, room, storage.ReadMarker{Seen: r.Arrived}); err != nil {
					return err
				}
			}
			if _, err := tx.Alias(storage.AliasAccount, []byte(a)); err != nil {
				return err
			}
			if err := tx.SetMember(a, room, m.Role); err != nil {
				return err
			}
		}
	}
	return nil
}

func memberOf(c *protocol.Control, a protocol.AccountID) (protocol.Member, bool) {
	if c == nil {
		return protocol.Member{}, false
	}
	m, ok := c.Members.Get(a)
	return m, ok
}

// appendNew appends a to as unless as holds it.
func appendNew(as []protocol.AccountID, a protocol.AccountID) []protocol.AccountID {
	if slices.Contains(as, a) {
		return as
	}
	return append(as, a)
}

// flipped returns the accounts that are members in exactly one of before
// (nil for a new room) and after, among only when it is not nil (see
// changedAccounts).
func flipped(before, after *protocol.Control, only []protocol.AccountID) []protocol.AccountID {
	if before == nil || before == after {
		return nil
	}
	var out []protocol.AccountID
	for _, a := range changedAccounts(before, after, only) {
		in := after.Members.Has(a)
		if was := before.Members.Has(a); in != was {
			out = append(out, a)
		}
	}
	return out
}

// applyContent updates messages, tasks and unread counts for e. It
// reports false for an edit, deletion or task update of a message or task
// that is hidden (soft-failed), which changes nothing clients see. fresh
// is set when e is applied as it is accepted, not shown again after
// being hidden: a fresh post has no alias yet.
func (n *Node) applyContent(tx *storage.Tx, r *storage.Room, e *protocol.Signed, c *protocol.Control, fresh bool) (shown bool, err error) {
	switch p := e.Content.(type) {
	case *protocol.MessagePost:
		var alias uint64
		if fresh {
			alias, err = tx.NewMessageAlias(e.ID)
		} else {
			alias, err = tx.MessageAlias(e.ID)
		}
		if err != nil {
			return false, err
		}
		r.Arrived++
		m := &storage.Message{Message: *protocol.NewMessage(e), Alias: alias, Arrival: r.Arrived}
		if err := n.putFile(tx, r.ID, e, m); err != nil {
			return false, err
		}
		if err := tx.PutMessage(r.ID, m); err != nil {
			return false, err
		}
		r.Messages++
		r.LastPost = max(r.LastPost, e.Time)
		if n.expiredOnArrival(e, c) {
			if err := tx.PutUncounted(r, storage.Uncounted{Arrival: m.Arrival, Author: m.Author, Gone: true}); err != nil {
				return false, err
			}
			return true, n.expireMessage(tx, e.ID)
		}
		return true, n.countUnread(tx, r, e, p.Body, m, c)
	case *protocol.MessageEdit:
		return n.updateMessage(tx, r, p.Message, e)
	case *protocol.MessageDelete:
		return n.updateMessage(tx, r, p.Message, e)
	case *protocol.TaskCreate:
		if _, err := tx.Alias(storage.AliasTask, e.ID[:]); err != nil {
			return false, err
		}
		// A task is also its own message in the ChatWork API: its
		// message_id (Task.Message).
		if _, err := tx.Alias(storage.AliasMessage, e.ID[:]); err != nil {
			return false, err
		}
		r.Tasks++
		return true, tx.PutTask(nil, &storage.Task{Room: r.ID, Task: *protocol.NewTask(e)})
	case *protocol.NodeAck:
		return false, nil // an acknowledgement: nothing to show
	case *protocol.MessageReact:
		return true, tx.PutReaction(e) // reactions.go
	case *protocol.TaskUpdate:
		old, err := tx.Task(p.Task)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil // a hidden task: the rules checked it was accepted
		}
		if err != nil {
			return false, err
		}
		t := *old
		t.Assignees = slices.Clone(old.Assignees)
		if !t.Apply(e) {
			return true, nil
		}
		return true, tx.PutTask(old, &t)
	}
	return true, nil
}

// updateMessage applies an edit or deletion e to message id. It reports
// false if the message is hidden: the rules checked it was accepted, so
// it is stored, and soft-failed.
func (n *Node) updateMessage(tx *storage.Tx, r *storage.Room, id protocol.EventID, e *protocol.Signed) (shown bool, err error) {
	room, m, err := tx.Message(id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	before, was := m.Edit, *m
	changed := m.Apply(e)
	if err := n.dropText(tx, e, &m.Message, before, changed); err != nil {
		return false, err
	}
	if !changed {
		return true, nil
	}
	// A delete or a winning edit takes a file post's file with its text.
	if err := n.dropFile(tx, id); err != nil {
		return false, err
	}
	if err := tx.PutMessage(room, m); err != nil {
		return false, err
	}
	if room != r.ID {
		return false, fmt.Errorf("%s changes message %s of another room", e.ID, id)
	}
	return true, n.recount(tx, r, &was, m)
}

// mentions reports whether a message body addresses a: [To:a], a reply to
// a ([rp aid=a ...]) or [toall], outside quotes: as in ChatWork since
// 2020, a mention inside [qt]…[/qt] does not notify (unquoted).
func mentions(body string, a protocol.AccountID) bool {
	body = unquoted(body)
	return strings.Contains(body, "[To:"+string(a)+"]") ||
		strings.Contains(body, "[rp aid="+string(a)+" ") ||
		strings.Contains(body, "[toall]")
}

// putSnapshot stores snap, the control snapshot after e, and returns its
// key. A new snapshot is stored as a delta: from prev, the room's control
// snapshot before e, when e follows every head (merged is false), since
// snap then grows prev, and then only the entries of only can differ (nil:
// any); else from the snapshot of a parent of e.
func (n *Node) putSnapshot(log txLog, snap *protocol.Snapshot, e *protocol.Signed, prev *protocol.Snapshot, prevKey protocol.SnapshotKey, merged bool, only []protocol.AccountID) (protocol.SnapshotKey, error) {
	if snap == prev {
		return prevKey, nil
	}
	bases := make([]storage.SnapshotBase, 0, 1+len(e.Prev))
	if prev != nil && !merged {
		bases = append(bases, storage.SnapshotBase{Key: prevKey, Snapshot: prev, Changed: only})
	}
	if merged {
		for _, p := range e.Prev {
			k, err := log.tx.EventSnapshot(p)
			if err != nil {
				return k, err
			}
			s, err := log.snapshot(k)
			if err != nil {
				return k, err
			}
			bases = append(bases, storage.SnapshotBase{Key: k, Snapshot: s})
		}
	}
	k, err := log.tx.PutSnapshot(snap, bases...)
	if err != nil {
		return k, err
	}
	n.snapshots.add(k, snap)
	return k, nil
}

// txLog is the room rules' view of the store inside a transaction.
type txLog struct {
	tx    *storage.Tx
	cache *snapshotCache
}

var _ protocol.Log = txLog{}

func (l txLog) Event(id protocol.EventID) (*protocol.Signed, error) { return l.tx.Event(id) }

func (l txLog) SnapshotAfter(id protocol.EventID) (*protocol.Snapshot, error) {
	k, err := l.tx.EventSnapshot(id)
	if err != nil {
		return nil, err
	}
	return l.snapshot(k)
}

func (l txLog) snapshot(k protocol.SnapshotKey) (*protocol.Snapshot, error) {
	if s, ok := l.cache.get(k); ok {
		return s, nil
	}
	s, err := l.tx.SnapshotFrom(k, l.cache.get)
	if err != nil {
		return nil, err
	}
	l.cache.add(k, s)
	return s, nil
}

// snapshotCache keeps decoded control snapshots: the newest the node
// decoded or made, and, apart from them, rooms' current ones once
// committed. A batch of control events made in one Update (an admin
// emptying a room) pushed the room's current snapshot out of a single
// cache before the node's other goroutines asked for it, and each then
// read it back through thousands of deltas.
type snapshotCache struct {
	recent, current bySnapshot[*protocol.Snapshot]
}

func (c *snapshotCache) get(k protocol.SnapshotKey) (*protocol.Snapshot, bool) {
	if s, ok := c.recent.get(k); ok {
		return s, true
	}
	return c.current.get(k)
}

func (c *snapshotCache) add(k protocol.SnapshotKey, s *protocol.Snapshot) { c.recent.add(k, s) }

// committed keeps s, under k, as a room's current control snapshot: the
// Update that made it current committed.
func (c *snapshotCache) committed(k protocol.SnapshotKey, s *protocol.Snapshot) { c.current.add(k, s) }

// snapshotCacheSize is how many decoded snapshots a node keeps, and
// snapshotCacheBytes about how much memory they may hold in all, counted
// by snapshotBytes. A decoded snapshot of a 5,000-member room takes about
// 1.4 MB, its members' tree nearly all of it: a cache bounded at 512 Ki
// IDs and members, as it was, held 52 of them, 140 MB, more than the Go
// share of the default memory limit, and the garbage collector then ran
// without a pause on an idle node (found by removing members from such a
// room one at a time, each removal reading a snapshot per earlier one).
// The current snapshots of currentSnapshotRooms rooms are kept apart, in
// at most currentSnapshotBytes (most are the same as recent ones).
const (
	snapshotCacheSize    = 4096
	snapshotCacheBytes   = 32 << 20
	currentSnapshotRooms = 64
	currentSnapshotBytes = 16 << 20
)

// snapshotBytes is about how much memory s takes decoded: some 280 bytes
// per member (the entry, its account ID and name, and the tree's nodes;
// measured by a heap profile of a node holding snapshots of a 4,750-member
// room) and 40 per event ID of its history and acks.
func snapshotBytes(s *protocol.Snapshot) int {
	return 40*(s.History.Len()+len(s.Acks)) + 280*s.State.Members.Len()
}

// derivedCacheBytes bounds about how much memory each cache of answers
// derived from snapshots holds (the control events a snapshot applies,
// its members' confirmations, its member lists), counted by entry: some
// 100 bytes an event ID or account in a map, 120 a listed member. Bounded
// at 256 Ki entries each, as they were, they held up to 80 MB together in
// a room of 5,000 members emptied and filled again (27.5 MB of applied
// sets alone in a heap profile): with Badger's pooled table arenas, more
// than the Go share of the default memory limit, and an idle node then
// spent half a core collecting garbage.
const derivedCacheBytes = 8 << 20

// checkProfiles queues a member.profile event for each local member whose
// name or organization in the room differs from its account's, as when a
// partner's admin added it knowing only its ID. It looks only at the
// entries the change from before to c added or changed, among only when it
// is not nil (see changedAccounts).
func (n *Node) checkProfiles(tx *storage.Tx, room protocol.RoomID, before, c *protocol.Control, only []protocol.AccountID) error {
	if before == c {
		return nil
	}
	for _, a := range changedAccounts(before, c, only) {
		m, in := c.Members.Get(a)
		if !in || a.Node() != n.id {
			continue
		}
		if old, ok := memberOf(before, a); ok && old.Name == m.Name && old.Org == m.Org {
			continue // checked when it last changed: a room of 5,000 would read 5,000 accounts per change
		}
		acc, err := tx.Account(a.Handle())
		if errors.Is(err, storage.ErrNotFound) {
			// A ghost: a partner named an account of ours that does
			// not exist. It does not make the node host the room.
			tx.AfterCommit(func() { n.hosting.ghost(n.log, room, a) })
			continue
		}
		if err != nil {
			return err
		}
		if m.Name != acc.Name || m.Org != acc.Org {
			h := a.Handle()
			tx.AfterCommit(func() { n.net.queue(outbound{kind: publishProfile, room: room, profile: h}) })
		}
	}
	return nil
}
