package node

import (
	"context"
	"fmt"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Health is what a load balancer and the web app need to know of the
// node: who it is, and that its store answers.
type Health struct {
	NodeID protocol.NodeID
	Org    string
	Role   string // "primary" or "standby"
}

// Health reports the node's identity and role, and an error if its store
// does not answer. Unlike Status it reads nothing in proportion to what
// the node holds: every web app asks for it when it opens, thousands at
// a morning rush (docs/PERFORMANCE.md, "The morning rush").
func (n *Node) Health(ctx context.Context) (*Health, error) {
	if err := n.store.View(func(*storage.Tx) error { return nil }); err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	h := &Health{NodeID: n.id, Org: n.Org(), Role: "primary"}
	if r := n.ReplicationStatus(); r != nil {
		h.Role = r.Role
	}
	return h, ctx.Err()
}
