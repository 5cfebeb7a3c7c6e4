package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// ChangeKind says what a Change is about.
type ChangeKind string

// Change kinds.
const (
	ChangeMessage        ChangeKind = "message"         // a new message; Event is it
	ChangeMessageUpdated ChangeKind = "message_updated" // a message was edited; Event is the message
	ChangeMessageDeleted ChangeKind = "message_deleted" // a message was deleted; Event is the message
	ChangeTask           ChangeKind = "task"            // a task was created or changed; Event is the task
	ChangeRoom           ChangeKind = "room"            // a room was created or its settings changed
	ChangeMembers        ChangeKind = "members"         // membership changed; Account is the member concerned, empty when several were added at once
	ChangeRead           ChangeKind = "read"            // Account's read marker moved
	ChangeNotice         ChangeKind = "notice"          // an event that makes a system message was shown; Event is it (notices.go)
	ChangeReaction       ChangeKind = "reaction"        // a message's reactions changed; Event is the message, Account who reacted (reactions.go)
	ChangePin            ChangeKind = "pin"             // Account pinned or unpinned the room (bookmarks.go); shown to Account only
)

// Change is one entry of the node's change feed, which live clients follow.
// Seq numbers start at 1, grow in commit order and are never reused, so a
// client that remembers the last Seq it saw resumes without a gap.
type Change struct {
	Seq     uint64             `json:"seq"`
	Kind    ChangeKind         `json:"type"`
	Room    protocol.RoomID    `json:"room"`
	Event   protocol.EventID   `json:"event,omitzero"`
	Account protocol.AccountID `json:"account,omitempty"`
}

// feed tells waiting clients when the change feed grows.
type feed struct {
	mu sync.Mutex
	// last is the newest committed sequence number; grown is closed and
	// replaced whenever last grows.
	last  uint64
	grown chan struct{}
}

func (f *feed) advance(seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if seq <= f.last {
		return
	}
	f.last = seq
	close(f.grown)
	f.grown = make(chan struct{})
}

func (f *feed) state() (uint64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.grown
}

// record appends a change to the feed inside tx and wakes waiting clients
// once tx is durable.
func (n *Node) record(tx *storage.Tx, c storage.Change) error {
	seq, err := tx.AppendChange(c)
	if err != nil {
		return err
	}
	tx.AfterCommit(func() { n.feed.advance(seq) })
	return nil
}

// LastChange returns the sequence number of the newest change; 0 if none.
func (n *Node) LastChange() uint64 {
	last, _ := n.feed.state()
	return last
}

// WaitChange blocks until the feed holds a change after seq after, in any
// room, or ctx ends (returning ctx.Err()).
func (n *Node) WaitChange(ctx context.Context, after uint64) error {
	for {
		last, grown := n.feed.state()
		if last > after {
			return nil
		}
		select {
		case <-grown:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changes returns up to limit changes after seq after that as may see: those
// of rooms as is a member of now, and those about as itself (its removal
// from a room, its own read markers). Other accounts' read markers are never
// shown.
func (n *Node) Changes(ctx context.Context, as protocol.Handle, after uint64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	var out []Change
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		member := map[protocol.RoomID]bool{}
		ms, err := tx.RoomsOf(me.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			member[m.Room] = true
		}
		return tx.Changes(after, func(seq uint64, c *storage.Change) bool {
			kind := ChangeKind(c.Kind)
			visible := c.Account == me.ID || member[c.Room] && kind != ChangeRead && kind != ChangePin || kind == ChangePartner
			if visible {
				out = append(out, Change{Seq: seq, Kind: kind, Room: c.Room, Event: c.Event, Account: c.Account})
			}
			return len(out) < limit && ctx.Err() == nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return out, ctx.Err()
}

// changeOf is the feed entry for an accepted event.
func changeOf(e *protocol.Signed) storage.Change {
	c := storage.Change{Room: e.RoomID()}
	switch p := e.Content.(type) {
	case *protocol.RoomCreate, *protocol.RoomUpdate:
		c.Kind = string(ChangeRoom)
	case *protocol.MemberAdd:
		c.Kind = string(ChangeMembers)
		if len(p.More) == 0 {
			c.Account = p.Member.Account
		}
	case *protocol.MemberRole:
		c.Kind, c.Account = string(ChangeMembers), p.Account
	case *protocol.MemberRemove:
		c.Kind, c.Account = string(ChangeMembers), p.Account
	case *protocol.MemberLeave, *protocol.MemberProfile:
		c.Kind, c.Account = string(ChangeMembers), e.AuthorID()
	case *protocol.MessagePost:
		c.Kind, c.Event, c.Depth = string(ChangeMessage), e.ID, e.Depth
	case *protocol.MessageEdit:
		c.Kind, c.Event = string(ChangeMessageUpdated), p.Message
	case *protocol.MessageDelete:
		c.Kind, c.Event = string(ChangeMessageDeleted), p.Message
	case *protocol.TaskCreate:
		c.Kind, c.Event = string(ChangeTask), e.ID
	case *protocol.TaskUpdate:
		c.Kind, c.Event = string(ChangeTask), p.Task
	case *protocol.MessageReact:
		c.Kind, c.Event, c.Account = string(ChangeReaction), p.Message, e.AuthorID()
	}
	return c
}
