package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Defaults of Config's retention fields, documented there.
const (
	DefaultRetentionInterval = time.Hour
	DefaultPurgeInterval     = 24 * time.Hour
)

// expireBatch is how many expired messages one Update drops.
const expireBatch = 256

// runRetention is the retention job: every RetentionInterval (jittered by
// ±1/8) it drops the text of messages past their room's retention
// (expire), and, at most once a PurgeInterval and only after it or a
// delete dropped something, purges the store so the text leaves its files
// (storage.Store.Purge). Run owns it; it returns when ctx ends.
func (n *Node) runRetention(ctx context.Context) error {
	var lastPurge time.Time
	for {
		d := n.cfg.RetentionInterval
		d += time.Duration(rand.Int64N(int64(d)/4+1)) - d/8
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
		dropped, err := n.expire(ctx)
		if err != nil && ctx.Err() == nil {
			n.log.Warn("retention: drop expired messages", "err", err)
		}
		if dropped > 0 {
			n.log.Info("retention: dropped the text of expired messages", "messages", dropped)
		}
		if n.cfg.PurgeInterval > 0 && n.redacted.Load() && time.Since(lastPurge) >= n.cfg.PurgeInterval {
			n.redacted.Store(false)
			lastPurge = time.Now()
			if err := n.store.Purge(); err != nil {
				n.redacted.Store(true)
				n.log.Warn("retention: purge the store", "err", err)
			}
		}
	}
}

// expire drops, in every room of version 3 or later with a retention, the
// text of each message posted (by its time) longer ago than the retention:
// its post and winning edit become their redacted forms, and the message
// shows as deleted. It returns how many messages it dropped. Every member
// node does the same by the same rule, so the room converges on each node
// by its own clock.
func (n *Node) expire(ctx context.Context) (int, error) {
	type room struct {
		id     protocol.RoomID
		cutoff int64
	}
	var rooms []room
	now := n.cfg.Now()
	err := n.store.View(func(tx *storage.Tx) error {
		var err error
		scanErr := tx.Rooms(func(r *storage.Room) bool {
			if r.Version < 3 {
				return true
			}
			var c *protocol.Control
			if c, err = n.control(tx, r.ID); err != nil {
				return false
			}
			if c.Retention > 0 {
				rooms = append(rooms, room{r.ID, retentionCutoff(now, c.Retention)})
			}
			return ctx.Err() == nil
		})
		return errors.Join(err, scanErr, ctx.Err())
	})
	if err != nil {
		return 0, fmt.Errorf("expire messages: %w", err)
	}
	total := 0
	for _, r := range rooms {
		for {
			var ids []protocol.EventID
			err := n.store.View(func(tx *storage.Tx) error {
				var err error
				ids, err = tx.ExpiredMessages(r.id, r.cutoff, expireBatch)
				return err
			})
			if err == nil && len(ids) > 0 {
				err = n.store.Update(ctx, func(tx *storage.Tx) error {
					for _, id := range ids {
						if err := n.expireMessage(tx, id); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err != nil {
				return total, fmt.Errorf("expire messages of %s: %w", r.id, err)
			}
			total += len(ids)
			if len(ids) < expireBatch {
				break
			}
		}
	}
	return total, nil
}

// retentionCutoff returns the unix milliseconds before which a message
// posted is past a retention of days.
func retentionCutoff(now time.Time, days uint32) int64 {
	return now.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
}

// expireMessage drops the text of message id, a post of a room of
// version 3 or later, and shows it as deleted, unless it is already.
func (n *Node) expireMessage(tx *storage.Tx, id protocol.EventID) error {
	room, m, err := tx.Message(id)
	if err != nil || m.Deleted {
		return err
	}
	for _, e := range []protocol.EventID{m.ID, m.Edit.ID} {
		if e == (protocol.EventID{}) {
			continue
		}
		if _, err := tx.RedactEvent(e); err != nil {
			return fmt.Errorf("expire message %s: %w", id, err)
		}
	}
	tx.AfterCommit(func() { n.redacted.Store(true) })
	if err := n.dropFile(tx, id); err != nil {
		return err
	}
	m.Deleted, m.Body, m.Edit, m.EditedAt = true, "", protocol.Order{}, 0
	if err := tx.PutMessage(room, m); err != nil {
		return err
	}
	return n.record(tx, storage.Change{Kind: string(ChangeMessageDeleted), Room: room, Event: id})
}

// expiredOnArrival reports whether post, just applied in a room with
// control state c, is already past the room's retention by this node's
// clock, as a post that a partner sends a node that joins late may be:
// then it is dropped at once rather than at the next retention round.
func (n *Node) expiredOnArrival(post *protocol.Signed, c *protocol.Control) bool {
	return post.Version >= 3 && c.Retention > 0 && post.Time < retentionCutoff(n.cfg.Now(), c.Retention)
}
