package node

import (
	"fmt"
	"slices"
	"strings"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Quote tags of ChatWork notation.
const (
	quoteOpen  = "[qt]"
	quoteClose = "[/qt]"
)

// unquoted returns body without its quotes: the text of every outermost
// [qt]…[/qt] (with any quotes nested in it) is left out. A [/qt] with no
// [qt] before it is kept as text, and so is a [qt] never closed: ChatWork
// shows neither as a quote.
func unquoted(body string) string {
	if !strings.Contains(body, quoteOpen) {
		return body
	}
	var b strings.Builder
	depth, start, i := 0, 0, 0 // start: where the outermost open quote began
	for i < len(body) {
		switch {
		case strings.HasPrefix(body[i:], quoteOpen):
			if depth == 0 {
				start = i
			}
			depth++
			i += len(quoteOpen)
			continue
		case strings.HasPrefix(body[i:], quoteClose) && depth > 0:
			depth--
			i += len(quoteClose)
			continue
		}
		if depth == 0 {
			b.WriteByte(body[i])
		}
		i++
	}
	if depth > 0 {
		b.WriteString(body[start:]) // an unclosed quote is text
	}
	return b.String()
}

// Unread counts. A post writes nothing for the members who merely have
// not read it: each message gets the room's next arrival number
// (storage.Room.Arrived), and a member's unread count is the arrivals
// after its read marker's Seen, less its own and those gone since
// (deleted, or hidden by the room rules), which the room records as
// storage.Uncounted (unreadOf). A post writes the read marker of its
// author (its own message) and of the local members it addresses by
// [To:] or a reply; one to all ([toall]) writes one Uncounted record, and
// counts as a mention for every member who has not read it. Messages
// stored before schema 9 have no arrival (0): their edits and deletions
// correct the counts of markers of that time as before (legacyRecount,
// legacyUncount).

// unreadOf returns the unread and mention counts of local account a in
// room r, whose read marker is mk. It does not see Uncounted records
// written by the transaction tx.
func unreadOf(tx *storage.Tx, r *storage.Room, a protocol.AccountID, mk storage.ReadMarker) (unread, mentions uint64, err error) {
	un := int64(mk.Unread) + int64(r.Arrived) - int64(mk.Seen) - int64(mk.Own)
	men := int64(mk.Mentions)
	if r.Uncounted > mk.Seen {
		err = tx.UncountedAfter(r.ID, mk.Seen, func(u storage.Uncounted) bool {
			switch {
			case u.Author == a:
			case u.Gone:
				un--
			case u.ToAll:
				men++
			}
			return true
		})
	}
	return uint64(max(un, 0)), uint64(max(men, 0)), err
}

// addressed returns the local members of c other than author whom body
// addresses by [To:] or a reply, outside quotes, and whether it is
// addressed to all ([toall]), in which case it returns no members: a
// message to all is one mention for everyone, counted from the room's
// Uncounted record, whoever else it names.
func (n *Node) addressed(body string, author protocol.AccountID, c *protocol.Control) (to []protocol.AccountID, all bool) {
	body = unquoted(body)
	if strings.Contains(body, "[toall]") {
		return nil, true
	}
	for _, tag := range []struct{ open, end string }{{"[To:", "]"}, {"[rp aid=", " "}} {
		for rest := body; ; {
			i := strings.Index(rest, tag.open)
			if i < 0 {
				break
			}
			rest = rest[i+len(tag.open):]
			j := strings.Index(rest, tag.end)
			if j < 0 {
				break
			}
			a := protocol.AccountID(rest[:j])
			if c.Members.Has(a) && a.Node() == n.id && a != author && !slices.Contains(to, a) {
				to = append(to, a)
			}
		}
	}
	return to, false
}

// countUnread counts post e, message m just taken in as the room's latest
// arrival, for the room's local members: a mention for those it
// addresses, and nothing unread for its author.
func (n *Node) countUnread(tx *storage.Tx, r *storage.Room, e *protocol.Signed, body string, m *storage.Message, c *protocol.Control) error {
	author := e.AuthorID()
	to, all := n.addressed(body, author, c)
	if all {
		if err := tx.PutUncounted(r, storage.Uncounted{Arrival: m.Arrival, Author: author, ToAll: true}); err != nil {
			return err
		}
	}
	for _, a := range to {
		if err := n.addMentions(tx, r.ID, a, m.Arrival, 1); err != nil {
			return err
		}
	}
	if author.Node() != n.id {
		return nil
	}
	mk, err := tx.ReadMarker(author, r.ID)
	if err != nil {
		return err
	}
	if mk.Unread == 0 && mk.Seen+mk.Own == m.Arrival-1 {
		mk.Seen, mk.Own = m.Arrival, 0 // everything since it read is its own: it has read this too
	} else {
		mk.Own++
	}
	return tx.PutReadMarker(author, r.ID, mk)
}

// addMentions adds by (1 or -1) to a's mention count in room for a
// message of arrival arrival, if a has not read it.
func (n *Node) addMentions(tx *storage.Tx, room protocol.RoomID, a protocol.AccountID, arrival uint64, by int) error {
	mk, err := tx.ReadMarker(a, room)
	if err != nil || mk.Seen >= arrival {
		return err
	}
	switch {
	case by > 0:
		mk.Mentions++
	case mk.Mentions > 0:
		mk.Mentions--
	default:
		return nil
	}
	return tx.PutReadMarker(a, room, mk)
}

// uncount takes message m of room r, post e with body, out of the counts:
// it was deleted or hidden. c is the room's control state.
func (n *Node) uncount(tx *storage.Tx, r *storage.Room, e *protocol.Signed, body string, m *storage.Message, c *protocol.Control) error {
	if m.Arrival == 0 {
		return n.legacyUncount(tx, r.ID, e, body, m.Order(), c)
	}
	u, err := tx.UncountedOf(r.ID, m.Arrival)
	if err != nil {
		return err
	}
	u.Author, u.Gone = m.Author, true
	if err := tx.PutUncounted(r, u); err != nil {
		return err
	}
	to, _ := n.addressed(body, m.Author, c)
	for _, a := range to {
		if err := n.addMentions(tx, r.ID, a, m.Arrival, -1); err != nil {
			return err
		}
	}
	return nil
}

// recount corrects the counts for message was of room r, which an edit or
// deletion made now: a deleted message counts neither as unread nor as a
// mention, and an edit may address other members than before.
func (n *Node) recount(tx *storage.Tx, r *storage.Room, was, now *storage.Message) error {
	if was.Deleted || (!now.Deleted && was.Body == now.Body) {
		return nil
	}
	if was.Arrival == 0 {
		return n.legacyRecount(tx, r.ID, &was.Message, &now.Message)
	}
	c, err := n.controlOf(tx, r)
	if err != nil {
		return err
	}
	if now.Deleted {
		post, err := tx.Event(was.ID)
		if err != nil {
			return fmt.Errorf("recount message %s: %w", was.ID, err)
		}
		return n.uncount(tx, r, post, was.Body, was, c)
	}
	wasTo, wasAll := n.addressed(was.Body, was.Author, c)
	nowTo, nowAll := n.addressed(now.Body, now.Author, c)
	if wasAll != nowAll {
		u, err := tx.UncountedOf(r.ID, was.Arrival)
		if err != nil {
			return err
		}
		u.Author, u.ToAll = was.Author, nowAll
		if err := tx.PutUncounted(r, u); err != nil {
			return err
		}
	}
	for _, a := range nowTo {
		if !slices.Contains(wasTo, a) {
			if err := n.addMentions(tx, r.ID, a, was.Arrival, 1); err != nil {
				return err
			}
		}
	}
	for _, a := range wasTo {
		if !slices.Contains(nowTo, a) {
			if err := n.addMentions(tx, r.ID, a, was.Arrival, -1); err != nil {
				return err
			}
		}
	}
	return nil
}

// controlOf returns room r's current control state.
func (n *Node) controlOf(tx *storage.Tx, r *storage.Room) (*protocol.Control, error) {
	s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
	if err != nil {
		return nil, err
	}
	return s.State, nil
}

// legacyRecount is recount for a message stored before schema 9, counted
// in the Unread of the markers of that time: for the local members who
// were counted for it (members when it was posted, not its author) and
// have not read it yet.
func (n *Node) legacyRecount(tx *storage.Tx, room protocol.RoomID, was, now *protocol.Message) error {
	s, err := txLog{tx: tx, cache: &n.snapshots}.SnapshotAfter(was.ID)
	if err != nil {
		return fmt.Errorf("recount message %s: members when posted: %w", was.ID, err)
	}
	if now.Deleted {
		post, err := tx.Event(was.ID)
		if err != nil {
			return fmt.Errorf("recount message %s: %w", was.ID, err)
		}
		return n.legacyUncount(tx, room, post, was.Body, was.Order(), s.State)
	}
	for a := range s.State.Members.All() {
		if a.Node() != n.id || a == was.Author {
			continue
		}
		before, after := mentions(was.Body, a), mentions(now.Body, a)
		if before == after {
			continue
		}
		mk, err := tx.ReadMarker(a, room)
		if err != nil {
			return err
		}
		if mk.Read.Compare(was.Order()) >= 0 || mk.Unread == 0 {
			continue
		}
		switch {
		case after:
			mk.Mentions++
		case mk.Mentions > 0:
			mk.Mentions--
		}
		if err := tx.PutReadMarker(a, room, mk); err != nil {
			return err
		}
	}
	return nil
}
