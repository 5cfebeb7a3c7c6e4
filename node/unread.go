package node

import (
	"fmt"
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

// recount corrects the unread and mention counts of message was, which an
// edit or deletion made now, for the local members who were counted for
// it (members when it was posted, not its author: countUnread) and have
// not read it yet. A deleted message counts neither as unread nor as a
// mention (uncountUnread takes back what countUnread counted); an edit
// that adds or removes a mention of a member changes that member's
// mention count.
func (n *Node) recount(tx *storage.Tx, room protocol.RoomID, was, now *protocol.Message) error {
	if was.Deleted || (!now.Deleted && was.Body == now.Body) {
		return nil
	}
	s, err := txLog{tx: tx, cache: &n.snapshots}.SnapshotAfter(was.ID)
	if err != nil {
		return fmt.Errorf("recount message %s: members when posted: %w", was.ID, err)
	}
	if now.Deleted {
		post, err := tx.Event(was.ID)
		if err != nil {
			return fmt.Errorf("recount message %s: %w", was.ID, err)
		}
		return n.uncountUnread(tx, room, post, was.Body, was.Order(), s.State)
	}
	for a := range s.State.Members {
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
