package control

import (
	"context"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Ops of partner and room health and of the organization (see moreOps).
const (
	opPartnerHealth = "partner.health"
	opRoomVerify    = "room.verify"
	opRoomRepair    = "room.repair"
	opOrgRename     = "org.rename"
)

type orgArgs struct {
	Name string `json:"name"`
}

type verifyArgs struct {
	Room uint64          `json:"room_id"`
	Peer protocol.NodeID `json:"node_id,omitempty"` // empty: every member node
}

var healthOps = map[string]opFunc{
	opPartnerHealth: op(func(ctx context.Context, n *node.Node, _ none) ([]*node.PartnerHealth, error) {
		return n.PartnerHealth(ctx)
	}),
	opRoomVerify: op(func(ctx context.Context, n *node.Node, a verifyArgs) ([]node.RoomCheck, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.VerifyRoom(ctx, room, a.Peer)
	}),
	opOrgRename: op(func(ctx context.Context, n *node.Node, a orgArgs) (*node.Status, error) {
		if err := n.RenameOrg(ctx, a.Name); err != nil {
			return nil, err
		}
		return n.Status(ctx)
	}),
	opRoomRepair: op(func(ctx context.Context, n *node.Node, a verifyArgs) ([]node.RoomCheck, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.RepairRoom(ctx, room)
	}),
}

// PartnerHealth lists the partner nodes with their organization, link,
// shared rooms and lag.
func (c *Client) PartnerHealth(ctx context.Context) ([]*node.PartnerHealth, error) {
	return call[[]*node.PartnerHealth](ctx, c, opPartnerHealth, nil)
}

// VerifyRoom compares the room with its other member nodes, or with peer
// alone if not empty.
func (c *Client) VerifyRoom(ctx context.Context, room uint64, peer protocol.NodeID) ([]node.RoomCheck, error) {
	return call[[]node.RoomCheck](ctx, c, opRoomVerify, verifyArgs{Room: room, Peer: peer})
}

// RepairRoom pulls what the node lacks of room from its partners, and
// verifies it again.
func (c *Client) RepairRoom(ctx context.Context, room uint64) ([]node.RoomCheck, error) {
	return call[[]node.RoomCheck](ctx, c, opRoomRepair, verifyArgs{Room: room})
}

// RenameOrg renames the organization and returns the node's status.
func (c *Client) RenameOrg(ctx context.Context, name string) (*node.Status, error) {
	return call[*node.Status](ctx, c, opOrgRename, orgArgs{Name: name})
}
