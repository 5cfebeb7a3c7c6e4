package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// A node restored from a backup may have made events after the backup,
// which its partners hold and it does not. In a room of version 2 its next
// event would then take a chain position it used already: a fork, and two
// control events of one node on two forks void its control events in the
// room from then on (docs/PROTOCOL.md, "Version 2: chains and
// equivocation"), and even a fork of messages is counted as an
// equivocation. So Restore leaves a marker, and a node that finds it
// refuses its members' events in every room of version 2 it shares with
// another node until it has synced that room with one of them, which
// brings back its own later events and so its chain position. Rooms of
// its own alone, and rooms of version 1, are not held up.

// restoredFile marks a data directory restored from a backup whose rooms
// are not all caught up yet.
const restoredFile = "restored"

// ErrCatchingUp is returned for an event refused because the node was
// restored from a backup and has not yet synced the room with a partner.
// It passes by itself once the node has.
var ErrCatchingUp = errors.New("this node was restored from a backup and is catching up with its partners; try again shortly")

// catchUp tracks, on a node restored from a backup, the rooms of version
// 2 shared with other nodes that it has not synced since. Its zero value
// is a node that was not restored.
type catchUp struct {
	mu      sync.Mutex
	pending map[protocol.RoomID]bool // nil: nothing pending
}

func (c *catchUp) waiting(room protocol.RoomID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[room]
}

// loadCatchUp fills n.catchUp if the data directory is marked restored.
func (n *Node) loadCatchUp() error {
	if _, err := os.Stat(filepath.Join(n.cfg.DataDir, restoredFile)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pending := map[protocol.RoomID]bool{}
	err := n.store.View(func(tx *storage.Tx) error {
		return tx.Rooms(func(r *storage.Room) bool {
			if r.Version < 2 {
				return true
			}
			c, err := n.control(tx, r.ID)
			if err != nil {
				return true
			}
			nodes := nodesOf(c)
			if nodes[n.id] && len(nodes) > 1 {
				pending[r.ID] = true
			}
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("rooms to catch up after a restore: %w", err)
	}
	n.catchUp.pending = pending
	n.log.Warn("restored from a backup: refusing changes in shared rooms until each is synced with a partner",
		"rooms", len(pending))
	return nil
}

// runCatchUp syncs every pending room with one of its other member nodes,
// retrying until each has synced once or ctx ends, then removes the
// restored marker.
func (n *Node) runCatchUp(ctx context.Context) error {
	for wait := 500 * time.Millisecond; ; wait = min(2*wait, 30*time.Second) {
		n.catchUp.mu.Lock()
		rooms := make([]protocol.RoomID, 0, len(n.catchUp.pending))
		for r := range n.catchUp.pending {
			rooms = append(rooms, r)
		}
		n.catchUp.mu.Unlock()
		if len(rooms) == 0 {
			if err := os.Remove(filepath.Join(n.cfg.DataDir, restoredFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("catch up after restore: %w", err)
			}
			n.log.Info("caught up after the restore: every shared room synced")
			return nil
		}
		for _, room := range rooms {
			if n.syncOnce(ctx, room) {
				n.catchUp.mu.Lock()
				delete(n.catchUp.pending, room)
				n.catchUp.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait/2 + rand.N(wait/2+1)):
		}
	}
}

// syncOnce pulls room from one of its other member nodes and reports
// whether one answered.
func (n *Node) syncOnce(ctx context.Context, room protocol.RoomID) bool {
	nodes, err := n.memberNodes(room)
	if err != nil {
		return false
	}
	for peer := range nodes {
		if peer == n.id || !n.net.connected(peer) {
			continue
		}
		if err := n.net.host.SyncRoom(ctx, peer, room); err == nil {
			return true
		}
	}
	return false
}

// markRestored marks dir as restored from a backup, for loadCatchUp.
func markRestored(dir string) error {
	return writeFileSync(filepath.Join(dir, restoredFile), []byte("restored from a backup; removed once every shared room has synced\n"), 0o600)
}
