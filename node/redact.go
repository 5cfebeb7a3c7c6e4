package node

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// dropText redacts, in a room of version 3 or later, the stored events
// whose text message m no longer shows after the edit or delete e was
// applied to it (changed: whether it changed m; before: m's winning edit
// before e). A delete drops the post and its winning edit (the edits it
// beat were dropped when they lost); an edit that wins drops the post (the
// text it replaced first) and the edit it beat; one that loses, or edits
// a deleted message, drops itself. So of an edited message only the
// winning edit keeps its text, and of a deleted message nothing does. Sync then serves the redacted forms, and
// the storage layer sees that the replaced values leave backups (see
// storage.Tx.RedactEvent). In rooms of older versions it does nothing: an
// event's ID there covers its payload.
func (n *Node) dropText(tx *storage.Tx, e *protocol.Signed, m *protocol.Message, before protocol.Order, changed bool) error {
	if e.Version < 3 || e.Redacted() {
		return nil
	}
	var drop []protocol.EventID
	switch e.Content.(type) {
	case *protocol.MessageDelete:
		if changed {
			drop = append(drop, m.ID)
			if before != (protocol.Order{}) {
				drop = append(drop, before.ID)
			}
		}
	case *protocol.MessageEdit:
		switch {
		case !changed:
			drop = append(drop, e.ID)
		case before == (protocol.Order{}):
			drop = append(drop, m.ID)
		default:
			drop = append(drop, before.ID) // the post went with the first edit
		}
	}
	for _, id := range drop {
		ok, err := tx.RedactEvent(id)
		if err != nil {
			return fmt.Errorf("drop text of %s: %w", id, err)
		}
		if ok {
			tx.AfterCommit(func() { n.redacted.Store(true) }) // the retention job purges the store
		}
	}
	return nil
}
