package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// RoomCheck is how one member node's events of a room compare with this
// node's, for its operator (VerifyRoom, RepairRoom).
type RoomCheck struct {
	Node protocol.NodeID `json:"node_id"`
	// Result is "same" (the same events), "differ" (see Missing and
	// Lacking) or "unknown" (it could not be asked: see Problem).
	Result string `json:"result"`
	// Compared is the comparison when the node could be asked.
	Compared *p2p.Comparison `json:"compared,omitempty"`
	// Repair is what a repair's pull from the node reported: "" if it
	// succeeded or none was tried.
	Repair string `json:"repair_error,omitempty"`
	// Problem says why the node could not be asked, and Hint what to do
	// about a difference or a problem.
	Problem string `json:"problem,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// Results of a RoomCheck.
const (
	CheckSame    = "same"
	CheckDiffer  = "differ"
	CheckUnknown = "unknown"
)

// VerifyRoom compares this node's heads of room with those of every other
// node hosting a member of it, or of peer alone if it is not empty, and
// names any difference. It asks each partner over the network, waiting
// up to the sync timeout for each. Errors: ErrNotFound if the node does
// not hold room.
func (n *Node) VerifyRoom(ctx context.Context, room protocol.RoomID, peer protocol.NodeID) ([]RoomCheck, error) {
	nodes, err := n.checkedNodes(room, peer)
	if err != nil {
		return nil, fmt.Errorf("verify room: %w", err)
	}
	out := make([]RoomCheck, 0, len(nodes))
	for _, m := range nodes {
		out = append(out, n.verifyWith(ctx, room, m))
	}
	return out, nil
}

// RepairRoom pulls what this node lacks of room from every other node
// hosting a member of it that is a partner, then verifies the room again
// with each (see VerifyRoom). What partners lack of ours they pull
// themselves at their next sync round. Errors: ErrNotFound if the node
// does not hold room.
func (n *Node) RepairRoom(ctx context.Context, room protocol.RoomID) ([]RoomCheck, error) {
	nodes, err := n.checkedNodes(room, "")
	if err != nil {
		return nil, fmt.Errorf("repair room: %w", err)
	}
	out := make([]RoomCheck, 0, len(nodes))
	for _, m := range nodes {
		var pullErr error
		if n.isPartner(m) {
			pullErr = n.net.host.SyncRoom(ctx, m, room)
		}
		c := n.verifyWith(ctx, room, m)
		if pullErr != nil {
			c.Repair = pullErr.Error()
		}
		out = append(out, c)
	}
	return out, nil
}

// checkedNodes returns the nodes VerifyRoom asks: peer, or the room's
// member nodes but this one.
func (n *Node) checkedNodes(room protocol.RoomID, peer protocol.NodeID) ([]protocol.NodeID, error) {
	var nodes []protocol.NodeID
	err := n.store.View(func(tx *storage.Tx) error {
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		for _, m := range slices.Sorted(maps.Keys(nodesOf(c))) {
			if m != n.id {
				nodes = append(nodes, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if peer != "" {
		if peer == n.id {
			return nil, fmt.Errorf("%w: %s is this node", ErrInvalid, peer)
		}
		return []protocol.NodeID{peer}, nil
	}
	return nodes, nil
}

// isPartner reports whether id is a partner node.
func (n *Node) isPartner(id protocol.NodeID) bool {
	return slices.ContainsFunc(n.net.host.Partners(), func(p p2p.Partner) bool { return p.ID == id })
}

// verifyWith compares room with node m.
func (n *Node) verifyWith(ctx context.Context, room protocol.RoomID, m protocol.NodeID) RoomCheck {
	rc := RoomCheck{Node: m, Result: CheckUnknown}
	c, err := n.net.host.VerifyRoom(ctx, m, room)
	switch {
	case err == nil:
		rc.Compared = c
		if c.Same {
			rc.Result = CheckSame
			return rc
		}
		rc.Result = CheckDiffer
		switch {
		case len(c.Missing) > 0 && len(c.Lacking) > 0:
			rc.Hint = "each side lacks events of the other: `horenso room repair` pulls ours; the partner pulls the rest at its next sync round (or run repair on its node)"
		case len(c.Missing) > 0:
			rc.Hint = "this node lacks the partner's events: run `horenso room repair` to pull them"
		case len(c.Lacking) > 0:
			rc.Hint = "the partner lacks this node's events: it pulls them at its next sync round; if it does not, run `horenso room repair` on its node"
		default:
			rc.Hint = "heads differ but each side holds the other's: an event is under way; verify again in a moment"
		}
	case errors.Is(err, p2p.ErrNotPartner):
		rc.Problem = "not a partner of this node: the room cannot reach it"
		rc.Hint = "ask its admin for its address and run `horenso partner add ADDRESS` (they add this node too)"
	case errors.Is(err, p2p.ErrRefused):
		rc.Problem = "it does not share the room with this node (it holds none of it, or saw this node's members removed)"
		rc.Hint = "run `horenso room repair` on its node, or check the room's members there"
	case errors.Is(err, p2p.ErrNoVerify):
		rc.Problem = "it runs a version that cannot be verified"
		rc.Hint = "compare `horenso room status` on both nodes instead"
	default:
		rc.Problem = err.Error()
		rc.Hint = "check `horenso partner list`: is it connected?"
	}
	return rc
}
