package api

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The live event stream's fan-out. A node of a large organization has
// thousands of /api/events streams open; reading the change feed, checking
// membership and rendering each change once per stream made every post
// cost thousands of store reads and JSON encodings (docs/PERFORMANCE.md,
// "Live fan-out"). Instead one goroutine, the pump, follows the feed for
// all of them: it reads each change once, finds the streams that may see
// it from the rooms each stream's account is in (kept in memory, reloaded
// when that account's membership changes), renders the SSE frame once (or
// once per viewer in a room whose history is restricted, where members
// see different things), and hands the same bytes to every stream's
// buffer.
//
// Slow consumers: each stream has a buffer of streamBuffer frames. The
// pump never waits for a stream: when a buffer is full, the stream is cut
// off (its connection ends); the client reconnects with Last-Event-ID, as
// EventSource does by itself, and reads what it missed from the store.
// So a slow client loses nothing and delays no one else.

// streamBuffer is how many frames a live stream may have waiting before
// it is cut off.
const streamBuffer = 512

// frame is one SSE event, encoded, shared by every stream it goes to.
type frame struct {
	seq  uint64
	data []byte
}

// subscriber is one live stream as the pump sees it.
type subscriber struct {
	acc *node.Account
	// frames receives the stream's frames in feed order; never closed.
	frames chan *frame
	// cut is closed when the pump cut the stream off for not keeping up.
	cut chan struct{}

	// Guarded by fanout.mu.
	rooms map[protocol.RoomID]bool // rooms acc is a member of
}

// fanout follows the change feed for every live stream of a Server.
type fanout struct {
	s *Server
	// buffer is each stream's buffer, in frames: streamBuffer, or less
	// in tests.
	buffer int

	// mu guards the fields below and subscribers' rooms. The pump holds
	// it while it hands a batch of frames out.
	mu   sync.Mutex
	subs map[*subscriber]bool
	// pos is the feed position the pump has handed out: every change up
	// to it went to the streams registered then.
	pos     uint64
	started bool
}

func newFanout(s *Server) *fanout {
	return &fanout{s: s, buffer: streamBuffer, subs: map[*subscriber]bool{}}
}

// subscribe registers a live stream of acc and returns it with the feed
// position from which the pump hands it frames: changes after from
// arrive in sub.frames; the stream reads those up to from itself. The
// first subscription starts the pump, which runs until Server.Shutdown.
func (f *fanout) subscribe(ctx context.Context, acc *node.Account) (sub *subscriber, from uint64, err error) {
	sub = &subscriber{acc: acc, frames: make(chan *frame, f.buffer), cut: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.started = true
		f.pos = f.s.node.LastChange()
		// Owned by the Server: Shutdown cancels stopped, which ends it.
		go f.pump(f.s.stopped)
	}
	// Read under mu, so that no membership change is handed out between
	// this read and the registration.
	if err := f.loadRoomsLocked(ctx, sub); err != nil {
		return nil, 0, err
	}
	f.subs[sub] = true
	return sub, f.pos, nil
}

// unsubscribe removes sub; the stream has ended.
func (f *fanout) unsubscribe(sub *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, sub)
}

// loadRoomsLocked reads the rooms sub's account is a member of now into
// sub.rooms.
func (f *fanout) loadRoomsLocked(ctx context.Context, sub *subscriber) error {
	rooms, err := f.s.node.MemberRooms(ctx, sub.acc.Handle)
	if err != nil {
		return err
	}
	sub.rooms = make(map[protocol.RoomID]bool, len(rooms))
	for _, r := range rooms {
		sub.rooms[r] = true
	}
	return nil
}

// pump follows the feed until ctx ends.
func (f *fanout) pump(ctx context.Context) {
	f.mu.Lock()
	pos := f.pos
	f.mu.Unlock()
	for {
		if err := f.s.node.WaitChange(ctx, pos); err != nil {
			return // ctx ended
		}
		last := f.s.node.LastChange()
		cs, err := f.s.node.FeedAfter(ctx, pos, eventBatch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.s.log.Error("live event fan-out", "err", err)
			select { // the store is failing: retry in a while
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		f.mu.Lock()
		for _, ch := range cs {
			f.dispatchLocked(ctx, ch)
			pos = ch.Seq
		}
		if len(cs) < eventBatch {
			pos = max(pos, last) // every change up to last has been read
		}
		f.pos = pos
		f.mu.Unlock()
	}
}

// dispatchLocked hands ch to the streams that may see it: those of its
// account for a read marker or a pin; a partner's state to every stream;
// for other changes, those of the room's members and of the account
// concerned (a member removed sees its removal), as node.Changes decides
// for one account.
func (f *fanout) dispatchLocked(ctx context.Context, ch node.Change) {
	var to []*subscriber
	switch {
	case ch.Kind == node.ChangeMembers && ch.Account != "":
		for sub := range f.subs {
			if sub.acc.ID == ch.Account {
				if err := f.loadRoomsLocked(ctx, sub); err != nil {
					f.s.log.Warn("live event fan-out: rooms of a stream's account", "account", sub.acc.ID, "err", err)
				}
			}
		}
	case ch.Kind == node.ChangeRoom, ch.Kind == node.ChangeMembers:
		// A new room's first members, and the accounts an addition of
		// several brought in, get no members change of their own: ask,
		// in one read, which of the streams' accounts not yet in the
		// room are.
		var outside []protocol.AccountID
		for sub := range f.subs {
			if !sub.rooms[ch.Room] {
				outside = append(outside, sub.acc.ID)
			}
		}
		if len(outside) > 0 {
			in, err := f.s.node.MembersAmong(ctx, ch.Room, outside)
			if err != nil {
				f.s.log.Warn("live event fan-out: members of a room", "room", ch.Room, "err", err)
			}
			for sub := range f.subs {
				if in[sub.acc.ID] {
					sub.rooms[ch.Room] = true
				}
			}
		}
	}
	for sub := range f.subs {
		if sub.acc.ID == ch.Account || sub.rooms[ch.Room] && ch.Kind != node.ChangeRead && ch.Kind != node.ChangePin || ch.Kind == node.ChangePartner {
			to = append(to, sub)
		}
	}
	if len(to) == 0 {
		return
	}
	// A reaction's message says which reactions are the viewer's own.
	perViewer := ch.Kind == node.ChangeRead || ch.Kind == node.ChangeReaction
	if !perViewer {
		var err error
		if perViewer, err = f.s.node.ViewerDependent(ctx, ch.Room); err != nil {
			f.s.log.Warn("live event fan-out: room", "room", ch.Room, "err", err)
			perViewer = true
		}
	}
	var shared *frame
	for _, sub := range to {
		fr := shared
		if fr == nil {
			c := &caller{acc: sub.acc, ids: newResolver(f.s.node, sub.acc.Handle)}
			e := f.s.eventData(ctx, c, ch)
			data, err := json.Marshal(e)
			if err != nil {
				f.s.log.Error("live event fan-out: encode", "seq", ch.Seq, "err", err)
				return
			}
			fr = &frame{seq: ch.Seq, data: fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", ch.Seq, ch.Kind, data)}
			// A rendering without the message or task it is about failed
			// for this viewer (say, its account was just disabled): the
			// next one renders again.
			if !perViewer && rendered(ch.Kind, e) && !personal(e) {
				shared = fr
			}
		}
		f.sendLocked(sub, fr)
	}
}

// sendLocked puts fr in sub's buffer, or cuts sub off if it is full.
func (f *fanout) sendLocked(sub *subscriber, fr *frame) {
	select {
	case sub.frames <- fr:
	default:
		delete(f.subs, sub)
		close(sub.cut)
		f.s.metrics.streamsCut.Inc()
		f.s.log.Info("live event stream cut off: its client did not keep up", "account", sub.acc.ID, "seq", fr.seq)
	}
}

// personal reports whether e shows the viewer's own marks: reactions
// (which say which are the viewer's) or a bookmark on its message.
func personal(e eventJSON) bool {
	return e.Message != nil && (len(e.Message.Reactions) > 0 || e.Message.Bookmarked)
}

// rendered reports whether e carries what a change of kind is about.
func rendered(kind node.ChangeKind, e eventJSON) bool {
	switch kind {
	case node.ChangeMessage, node.ChangeMessageUpdated, node.ChangeNotice:
		return e.Message != nil
	case node.ChangeMessageDeleted:
		return e.Message != nil || e.MessageID != ""
	case node.ChangeTask:
		return e.Task != nil
	}
	return true
}
