package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/horenso/horenso/node"
)

// eventJSON is the data of one /api/events event.
type eventJSON struct {
	Seq       uint64 `json:"seq"`
	Type      string `json:"type"`
	RoomID    uint64 `json:"room_id"`
	AccountID uint64 `json:"account_id,omitempty"` // members and read: the account concerned
	// Role is, in a members change about one account, its role in the
	// room now: "admin", "member", "readonly", or "none" once it is out.
	Role    string       `json:"role,omitempty"`
	Message *messageJSON `json:"message,omitempty"` // message, message_updated, message_deleted, notice
	// MessageID names the message of a message_deleted event that is no
	// longer shown at all (its author's post was soft-failed after the
	// fact: docs/PROTOCOL.md, "Soft-fail"), so that clients take it out.
	MessageID string    `json:"message_id,omitempty"`
	Task      *taskJSON `json:"task,omitempty"` // task
}

// eventBatch is how many changes the stream reads at a time.
const eventBatch = 100

// events streams the node's change feed, as far as the caller may see it,
// as Server-Sent Events. Each event's id is its feed sequence number; a
// client that reconnects with Last-Event-ID (or ?after=N) gets every
// change after it. Without either, the stream starts with the next change.
// A comment line every Config.Heartbeat keeps idle connections open. The
// stream ends when the client goes, the server shuts down, the caller's
// token stops working (logout, a disabled account: at the next event or
// heartbeat, within reauthEvery), or the client falls streamBuffer events
// behind (fanout.go; it resumes with Last-Event-ID and loses nothing).
// What came before the stream joined the fan-out is read from the store
// for this caller; what comes after is rendered once for all streams.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *caller) error {
	after := s.node.LastChange()
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return invalid("Last-Event-ID must be a feed sequence number")
		}
		after = n
	} else {
		p, err := readParams(r)
		if err != nil {
			return err
		}
		if n, ok, err := p.integer("after"); err != nil {
			return err
		} else if ok {
			after = uint64(n)
		}
	}
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.stopped, cancel)()
	// Register with the fan-out first, then read from the store what
	// came before the position it starts at: nothing falls in between.
	// The response starts once the stream is registered, so a client
	// that has the response's headers follows every change made after
	// it: one made before might find the account's rooms read already,
	// or not yet.
	sub, from, err := s.fan.subscribe(ctx, c.acc)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the client went
		}
		return fmt.Errorf("live event stream of %s: %w", c.acc.ID, err)
	}
	defer s.fan.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	if after, err = s.catchUp(ctx, w, rc, c, after, from); err != nil {
		return nil
	}
	authed := time.Now()
	heartbeat := time.NewTimer(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		// The stream lasts as long as the client reads it: each round
		// (one per heartbeat at least) gives it WriteTimeout to take in
		// what the round writes.
		rc.SetWriteDeadline(time.Now().Add(s.cfg.Heartbeat + s.cfg.WriteTimeout))
		var fr *frame
		select {
		case <-ctx.Done():
			return nil
		case <-sub.cut:
			return nil // the client reconnects with Last-Event-ID
		case <-heartbeat.C:
		case fr = <-sub.frames:
		}
		// A revoked token or a disabled account ends the stream at its
		// next heartbeat or event, within reauthEvery.
		if fr == nil || time.Since(authed) >= reauthEvery {
			if _, err := s.node.Authenticate(ctx, c.token); err != nil {
				return nil
			}
			authed = time.Now()
		}
		if fr == nil {
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		}
		// Write what is waiting, then flush once.
		for fr != nil {
			if fr.seq > after {
				if _, err := w.Write(fr.data); err != nil {
					return nil
				}
				after = fr.seq
			}
			select {
			case fr = <-sub.frames:
			default:
				fr = nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		heartbeat.Reset(s.cfg.Heartbeat)
	}
}

// reauthEvery is how often at most a live stream checks that its token
// still works, as it writes events; it checks at each heartbeat too.
const reauthEvery = time.Second

// catchUp writes to a stream the changes after seq after, up to and
// including upTo, that c may see, read from the store, and returns the
// position the stream has reached (upTo, unless it failed).
func (s *Server) catchUp(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, c *caller, after, upTo uint64) (uint64, error) {
	for after < upTo {
		rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := s.node.Authenticate(ctx, c.token); err != nil {
			return after, err
		}
		cs, err := s.node.Changes(ctx, c.handle(), after, eventBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("event stream", "account", c.acc.ID, "err", err)
			}
			return after, err
		}
		c.ids = newResolver(s.node, c.handle()) // names may have changed since the last batch
		for _, ch := range cs {
			if ch.Seq > upTo {
				break
			}
			data, err := json.Marshal(s.eventData(ctx, c, ch))
			if err != nil {
				return after, err
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ch.Seq, ch.Kind, data); err != nil {
				return after, err
			}
			after = ch.Seq
		}
		if len(cs) < eventBatch || cs[len(cs)-1].Seq >= upTo {
			// Nothing else up to upTo is for the caller.
			after = upTo
		}
		if len(cs) > 0 {
			if err := rc.Flush(); err != nil {
				return after, err
			}
		}
	}
	return after, nil
}

// eventData renders a change with the message or task it concerns, as
// the caller sees them now.
func (s *Server) eventData(ctx context.Context, c *caller, ch node.Change) eventJSON {
	e := eventJSON{Seq: ch.Seq, Type: string(ch.Kind)}
	e.RoomID, _ = c.ids.roomAlias(ctx, ch.Room)
	if ch.Account != "" {
		e.AccountID = c.ids.profile(ctx, ch.Account).Alias
	}
	switch ch.Kind {
	case node.ChangeMessage, node.ChangeMessageUpdated, node.ChangeMessageDeleted, node.ChangeNotice:
		if m, err := s.node.Message(ctx, c.handle(), ch.Event); err == nil {
			e.Message = s.decoratedView(ctx, c, ch.Room, m)
		} else if ch.Kind == node.ChangeMessageDeleted {
			if alias, err := s.node.MessageAlias(ctx, ch.Event); err == nil {
				e.MessageID = strconv.FormatUint(alias, 10)
			}
		}
	case node.ChangeReaction:
		if m, err := s.node.Message(ctx, c.handle(), ch.Event); err == nil {
			e.Message = s.decoratedView(ctx, c, ch.Room, m)
		}
	case node.ChangeMembers:
		if ch.Account != "" {
			if role, ok, err := s.node.RoleOf(ctx, ch.Room, ch.Account); err == nil {
				e.Role = "none"
				if ok {
					e.Role = string(role)
				}
			}
		}
	case node.ChangeTask:
		if t, err := s.node.Task(ctx, c.handle(), ch.Event); err == nil {
			v := c.taskView(ctx, t, "")
			e.Task = &v
		}
	}
	return e
}
