package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Partner is a partner node as admins see it.
type Partner struct {
	ID        protocol.NodeID `json:"node_id"`
	Addrs     []string        `json:"addrs"`
	Added     int64           `json:"added"` // unix ms
	Connected bool            `json:"connected"`
	// Usage is its use of its daily quota (Status.PartnerQuota), and what
	// was dropped over it since the node started.
	Usage p2p.Usage `json:"usage"`
}

// partnerID returns the node ID an address names: its last /p2p/ part.
func partnerID(addr string) (protocol.NodeID, error) {
	i := strings.LastIndex(addr, "/p2p/")
	if !strings.HasPrefix(addr, "/") || i < 0 {
		return "", problem(ErrInvalid, "partner address %q does not end in /p2p/<node ID>", addr)
	}
	id := protocol.NodeID(addr[i+len("/p2p/"):])
	if _, err := id.PublicKey(); err != nil {
		return "", problem(ErrInvalid, "partner address %q: %v", addr, err)
	}
	return id, nil
}

// AddPartner lets the node at addr (a multiaddr ending in /p2p/<node ID>,
// as `horenso status` prints on the partner) connect, and dials it. Adding
// a known partner again adds the address to it. The partner is kept across
// restarts and redialed while it is unreachable.
func (n *Node) AddPartner(ctx context.Context, addr string) (*Partner, error) {
	id, err := partnerID(addr)
	if err != nil {
		return nil, fmt.Errorf("add partner: %w", err)
	}
	if id == n.id {
		return nil, fmt.Errorf("add partner: %w", problem(ErrInvalid, "%s is this node", id))
	}
	if err := n.net.checkAddr(addr); err != nil {
		return nil, fmt.Errorf("add partner: %w: %w", ErrInvalid, err)
	}
	var p *storage.Partner
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		p, err = tx.Partner(id)
		if errors.Is(err, storage.ErrNotFound) {
			p, err = &storage.Partner{ID: id, Added: n.cfg.Now().UnixMilli()}, nil
		}
		if err != nil {
			return err
		}
		if !slices.Contains(p.Addrs, addr) {
			p.Addrs = append(p.Addrs, addr)
		}
		return tx.PutPartner(p)
	})
	if err != nil {
		return nil, fmt.Errorf("add partner: %w", err)
	}
	n.net.addPartner(ctx, p)
	return n.partnerView(p), nil
}

// RemovePartner forgets a partner and closes its connections; ErrNotFound
// if it is not one. Rooms shared with it stay, and its members with them.
func (n *Node) RemovePartner(ctx context.Context, id protocol.NodeID) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error { return notFound(tx.DeletePartner(id)) })
	if err != nil {
		return fmt.Errorf("remove partner: %w", err)
	}
	n.net.removePartner(id)
	return nil
}

// Partners returns the node's partners, by ID.
func (n *Node) Partners(ctx context.Context) ([]*Partner, error) {
	var ps []*storage.Partner
	err := n.store.View(func(tx *storage.Tx) (err error) {
		ps, err = tx.Partners()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("partners: %w", err)
	}
	out := make([]*Partner, 0, len(ps))
	for _, p := range ps {
		out = append(out, n.partnerView(p))
	}
	return out, nil
}

func (n *Node) partnerView(p *storage.Partner) *Partner {
	return &Partner{ID: p.ID, Addrs: p.Addrs, Added: p.Added, Connected: n.net.connected(p.ID), Usage: n.net.host.Usage(p.ID)}
}
