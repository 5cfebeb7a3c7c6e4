package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// System messages (notices). ChatWork posts a system message into a room's
// timeline when a task is added, edited or done, a member is added,
// removed or leaves, or the room's name or description changes, and bots
// watch for them. Horenso does not sign a message for them: every member
// node derives the same notices from the room's task and control events,
// which it applies anyway, so they need no new event type and converge as
// the events do.
//
// They are merged into the timeline at read time rather than stored in it
// (pTimeline): a notice sits in display order at its event's place (depth,
// then ID), so paging cursors work over both; it is never counted as
// unread nor as a mention; and its body, ChatWork notation with global
// account IDs like a stored message's, is rendered from the event (and,
// for a task update, the task) when it is read. An event gets a message_id
// alias when the node applies it (noticeAlias), so a notice's message_id
// is stable and orders it by when the node took its event in, as posts
// are. A notice of a soft-failed event (visibility.go) is hidden, as the
// event is.
//
// The cost of merging: a page of messages also scans the room's notice
// events between its first and last message (an index of their own,
// storage pNotice) and decodes those.

// Notice kinds: the dtext key of ChatWork's system message.
const (
	NoticeTaskAdded     = "task_added"
	NoticeTaskEdited    = "task_edited"
	NoticeTaskDone      = "task_done"
	NoticeMemberAdded   = "chatroom_added"
	NoticeMemberJoined  = "chatroom_chat_joined"
	NoticeMemberLeft    = "chatroom_leaved"
	NoticeMemberRemoved = "chatroom_deleted"
	NoticeRoomChanged   = "chatroom_changed"
)

// isNotice reports whether e is an event that makes a system message.
func isNotice(e *protocol.Signed) bool {
	switch p := e.Content.(type) {
	case *protocol.TaskCreate, *protocol.TaskUpdate, *protocol.MemberAdd, *protocol.MemberRemove, *protocol.MemberLeave:
		return true
	case *protocol.RoomUpdate:
		return p.Name != nil || p.Description != nil
	}
	return false
}

// noticeAlias gives e, if it makes a system message, its message_id. It is
// called as the event is applied, hidden or not (a hidden event may be
// shown later, see revisit).
func noticeAlias(tx *storage.Tx, e *protocol.Signed) error {
	if !isNotice(e) {
		return nil
	}
	if _, err := tx.Alias(storage.AliasMessage, e.ID[:]); err != nil {
		return err
	}
	return tx.PutNotice(e)
}

// notice returns the system message event id makes, or nil if it makes
// none, is hidden, or has no alias yet.
func notice(tx *storage.Tx, id protocol.EventID) (*Message, error) {
	e, err := tx.Event(id)
	if err != nil || e == nil || !isNotice(e) {
		return nil, err
	}
	if hidden, err := tx.Hidden(id); err != nil || hidden {
		return nil, err
	}
	alias, err := tx.LookupAlias(storage.AliasMessage, id[:])
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	kind, body, err := noticeBody(tx, e)
	if err != nil || kind == "" {
		return nil, err
	}
	return &Message{ID: id, Alias: alias, Room: e.RoomID(), Author: e.AuthorID(), Body: body, Time: e.Time,
		Notice: kind, Order: e.Order()}, nil
}

// noticeBody renders e's system message in ChatWork notation, with global
// account IDs. kind is "" if e makes none (an update of a hidden task).
func noticeBody(tx *storage.Tx, e *protocol.Signed) (kind, body string, err error) {
	var b strings.Builder
	b.WriteString("[info]")
	switch p := e.Content.(type) {
	case *protocol.TaskCreate:
		kind = NoticeTaskAdded
		writeTasks(&b, kind, p.Assignees, protocol.TaskOpen, p.Due, p.Limit, p.Body)
	case *protocol.TaskUpdate:
		t, err := tx.Task(p.Task)
		if errors.Is(err, storage.ErrNotFound) {
			return "", "", nil // a hidden task
		}
		if err != nil {
			return "", "", err
		}
		kind = NoticeTaskEdited
		st, as, due, limit, text := t.Status, t.Assignees, t.Due, t.Limit, t.Body
		if p.Status != nil {
			st = *p.Status
			if st == protocol.TaskDone {
				kind = NoticeTaskDone
			}
		}
		if p.Assignees != nil {
			as = *p.Assignees
		}
		if p.Due != nil {
			due = *p.Due
		}
		if p.Limit != nil {
			limit = *p.Limit
		}
		if p.Body != nil {
			text = *p.Body
		}
		writeTasks(&b, kind, as, st, due, limit, text)
	case *protocol.MemberAdd:
		kind = NoticeMemberAdded
		if p.Member.Account == e.AuthorID() {
			kind = NoticeMemberJoined
			fmt.Fprintf(&b, "[piconname:%s][dtext:%s]", p.Member.Account, kind)
			break
		}
		// One notice for an addition of several, naming each, as
		// ChatWork's does.
		b.WriteString("[dtext:chatroom_member_is]")
		for _, m := range p.All() {
			fmt.Fprintf(&b, "[piconname:%s]", m.Account)
		}
		fmt.Fprintf(&b, "[dtext:%s]", kind)
	case *protocol.MemberRemove:
		kind = NoticeMemberRemoved
		fmt.Fprintf(&b, "[dtext:chatroom_member_is][piconname:%s][dtext:%s]", p.Account, kind)
	case *protocol.MemberLeave:
		kind = NoticeMemberLeft
		fmt.Fprintf(&b, "[dtext:chatroom_member_is][piconname:%s][dtext:%s]", e.AuthorID(), kind)
	case *protocol.RoomUpdate:
		kind = NoticeRoomChanged
		if p.Name != nil {
			fmt.Fprintf(&b, "[dtext:chatroom_chatname_is]%s[dtext:chatroom_changed]", *p.Name)
		}
		if p.Description != nil {
			if p.Name != nil {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "[dtext:chatroom_description_is]%s[dtext:chatroom_changed]", *p.Description)
		}
	default:
		return "", "", nil
	}
	b.WriteString("[/info]")
	return kind, b.String(), nil
}

func writeTasks(b *strings.Builder, kind string, as []protocol.AccountID, st protocol.TaskStatus, due int64, limit protocol.LimitType, body string) {
	fmt.Fprintf(b, "[title][dtext:%s][/title]", kind)
	for _, a := range as {
		fmt.Fprintf(b, "[task aid=%s st=%s lt=%d ltype=%s]%s[/task]", a, st, due, limit, body)
	}
}

// withNotices merges into ms, a page of room's messages in display order
// as tx.Messages returned it for (cursor, forward, limit), the notices
// that belong to the same page, and trims the result to limit: the page
// of the room's timeline of messages and notices. A full page of messages
// bounds the notices to look at by its first (backward) or last (forward)
// message; a short one reaches the room's start (end).
func (n *Node) withNotices(tx *storage.Tx, as protocol.Handle, room protocol.RoomID, out []*Message, cursor protocol.Order, forward bool, limit int) ([]*Message, error) {
	reverse := !forward || cursor == (protocol.Order{})
	var lo, hi protocol.Order // notices strictly between; zero: unbounded
	if reverse {
		hi = cursor
		if len(out) >= limit {
			lo = out[0].Order
		}
	} else {
		lo = cursor
		if len(out) >= limit {
			hi = out[len(out)-1].Order
		}
	}
	var ns []*Message
	var err error
	scanErr := tx.Notices(room, lo.Depth, func(depth uint64, id protocol.EventID) bool {
		o := protocol.Order{Depth: depth, ID: id}
		if hi != (protocol.Order{}) && o.Compare(hi) >= 0 {
			return false
		}
		if lo != (protocol.Order{}) && o.Compare(lo) <= 0 {
			return true
		}
		var m *Message
		if m, err = notice(tx, id); err != nil {
			return false
		}
		if m != nil {
			ns = append(ns, m)
		}
		return true
	})
	if err = errors.Join(scanErr, err); err != nil || len(ns) == 0 {
		return out, err
	}
	if ns, err = n.dropVoid(tx, room, ns); err != nil || len(ns) == 0 {
		return out, err
	}
	if err := n.hideNotices(tx, as, room, ns); err != nil {
		return nil, err
	}
	all := append(slices.Clone(out), ns...)
	slices.SortFunc(all, func(a, b *Message) int { return a.Order.Compare(b.Order) })
	if len(all) > limit {
		if reverse {
			all = all[len(all)-limit:]
		} else {
			all = all[:limit]
		}
	}
	return all, nil
}

// hideNotices applies the room's history visibility to notices as to
// messages: a viewer of a "joined" room does not read the tasks and
// changes made before it joined.
func (n *Node) hideNotices(tx *storage.Tx, as protocol.Handle, room protocol.RoomID, ns []*Message) error {
	r, err := tx.Room(room)
	if err != nil || r.Version < 3 || !r.Restricted {
		return err
	}
	viewer := protocol.NewAccountID(n.id, as)
	memo := map[protocol.SnapshotKey]bool{}
	for _, m := range ns {
		if _, err := n.hideUnreadable(tx, r.Version, viewer, m, protocol.Order{}, memo); err != nil {
			return fmt.Errorf("history visibility of %s: %w", m.ID, err)
		}
	}
	return nil
}

// noticeInRoom returns the notice event id makes in room, as as may read
// it, or ErrNotFound wrapping ErrNoMessage.
func (n *Node) noticeInRoom(tx *storage.Tx, as protocol.Handle, room protocol.RoomID, id protocol.EventID) (*Message, error) {
	m, err := notice(tx, id)
	if err != nil {
		return nil, err
	}
	if m == nil || m.Room != room {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage)
	}
	if err := n.canRead(tx, as, room); err != nil {
		return nil, err
	}
	ns, err := n.dropVoid(tx, room, []*Message{m})
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, ErrNoMessage)
	}
	return m, n.hideNotices(tx, as, room, []*Message{m})
}

// dropVoid drops from ns, notices of room, those of control events that
// do not take effect in the room's current control state
// (protocol.Applied): a removal that a concurrent revocation of its
// author's rights made void removed nobody, and its notice would say it
// did. Every node decides this from the events alone, so all show the
// same notices. (A live client was told of the notice when the event
// arrived; it is gone when the client reads the room again.)
//
// A read does not resolve a long control history for it: when the node
// has not kept the room's answer (after the upgrade that started keeping
// it, until a member is next removed) and the history holds more than
// noticeResolveMax control events, the notices are left as they are.
func (n *Node) dropVoid(tx *storage.Tx, room protocol.RoomID, ns []*Message) ([]*Message, error) {
	var applied *appliedSet
	out := ns[:0]
	for _, m := range ns {
		switch m.Notice {
		case NoticeMemberAdded, NoticeMemberJoined, NoticeMemberLeft, NoticeMemberRemoved, NoticeRoomChanged:
			if applied == nil {
				a, ok, err := n.noticeApplied(tx, room)
				if err != nil || !ok {
					return ns, err
				}
				applied = &a
			}
			if !applied.Has(m.ID) {
				continue
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// noticeResolveMax bounds the control history a read of notices resolves
// (dropVoid): resolving one of 45,000 events took half a gigabyte.
const noticeResolveMax = 4096

// noticeApplied returns the control events that take effect in room's
// current control state, if the node keeps them or the history is short
// enough to resolve for a read.
func (n *Node) noticeApplied(tx *storage.Tx, room protocol.RoomID) (appliedSet, bool, error) {
	r, err := tx.Room(room)
	if err != nil {
		return appliedSet{}, false, err
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
	if err != nil {
		return appliedSet{}, false, err
	}
	if s.History.Len() > noticeResolveMax {
		return n.knownApplied(tx, r.ID, r.Control, s)
	}
	a, err := n.applied(tx, r)
	return a, err == nil, err
}

// recordShown appends to the change feed the change e makes, now that
// clients can see e, and, if e makes a system message, a ChangeNotice
// naming e, so that live clients show the notice as the event arrives
// instead of when they next read the room. The notice is rendered when
// the change is read, like the message of a ChangeMessage.
func (n *Node) recordShown(tx *storage.Tx, e *protocol.Signed) error {
	if err := n.record(tx, changeOf(e)); err != nil {
		return err
	}
	if !isNotice(e) {
		return nil
	}
	return n.record(tx, storage.Change{Kind: string(ChangeNotice), Room: e.RoomID(), Event: e.ID})
}

// retractNotice tells live clients that the system message of e, which
// is hidden now, is gone: a ChangeMessageDeleted naming e, which no longer
// reads as a message, so clients take its message_id out of the timeline.
func (n *Node) retractNotice(tx *storage.Tx, e *protocol.Signed) error {
	if !isNotice(e) {
		return nil
	}
	return n.record(tx, storage.Change{Kind: string(ChangeMessageDeleted), Room: e.RoomID(), Event: e.ID})
}
