package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// PartnerHealth is one partner node as its operator watches it: who it
// is, its link, the rooms this node shares with it, and how far behind it
// is in them.
type PartnerHealth struct {
	Partner
	// Org is the organization name its accounts carry in the rooms shared
	// with it (the most common one); empty while no room is shared.
	Org string `json:"org,omitempty"`
	// Health is what the network saw of its link since the node started:
	// sync rounds, when it was last seen connected.
	Health p2p.Health `json:"health"`
	// Rooms counts the rooms both nodes host members of now.
	Rooms int `json:"rooms_shared"`
	// Acked is the time (unix ms, this node's clock) of the newest of
	// this node's events it has acknowledged, in any shared room; zero if
	// none.
	Acked int64 `json:"acked_time,omitempty"`
	// Unacked counts this node's events it has not acknowledged, over the
	// shared rooms; Behind lists the rooms where it has not, most behind
	// first, at most MaxBehind of them.
	Unacked uint64    `json:"unacked"`
	Behind  []RoomLag `json:"behind,omitempty"`
}

// RoomLag is how far one partner is behind in one room.
type RoomLag struct {
	Room  protocol.RoomID `json:"room"`
	Alias uint64          `json:"room_id"` // the room's number here
	Name  string          `json:"name"`
	// Unacked counts this node's events there the partner has not
	// acknowledged; AckedSeq is the chain position up to which it has,
	// of Seq, ours.
	Unacked  uint64 `json:"unacked"`
	AckedSeq uint64 `json:"acked_seq"`
	Seq      uint64 `json:"seq"`
}

// MaxBehind is the most rooms a PartnerHealth lists in Behind.
const MaxBehind = 10

// PartnerHealth reports every partner's health, by ID. It reads every
// room this node holds, so it costs about what Status does.
func (n *Node) PartnerHealth(ctx context.Context) ([]*PartnerHealth, error) {
	out, err := n.partnerHealth(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range out {
		if len(h.Behind) > MaxBehind {
			h.Behind = h.Behind[:MaxBehind]
		}
	}
	return out, nil
}

// partnerHealth is PartnerHealth with every room behind listed.
func (n *Node) partnerHealth(ctx context.Context) ([]*PartnerHealth, error) {
	ps, err := n.Partners(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*PartnerHealth, 0, len(ps))
	byID := map[protocol.NodeID]*PartnerHealth{}
	orgs := map[protocol.NodeID]map[string]int{}
	for _, p := range ps {
		h := &PartnerHealth{Partner: *p, Health: n.net.host.Health(p.ID)}
		out = append(out, h)
		byID[p.ID] = h
		orgs[p.ID] = map[string]int{}
	}
	err = n.store.View(func(tx *storage.Tx) error {
		var rooms []*storage.Room
		if err := tx.Rooms(func(r *storage.Room) bool { rooms = append(rooms, r); return true }); err != nil {
			return err
		}
		for _, r := range rooms {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c, err := n.control(tx, r.ID)
			if err != nil {
				return fmt.Errorf("room %s: %w", r.ID, err)
			}
			for a, m := range c.Members.All() {
				if o := orgs[a.Node()]; o != nil && m.Org != "" {
					o[m.Org]++
				}
			}
			nodes := nodesOf(c)
			if !nodes[n.id] {
				continue // we host no member: not shared by us
			}
			for m := range nodes {
				h := byID[m]
				if h == nil {
					continue
				}
				h.Rooms++
				rc, err := n.receipt(tx, r.ID, r, m)
				if err != nil {
					return fmt.Errorf("room %s: receipt of %s: %w", r.ID, m, err)
				}
				h.Acked = max(h.Acked, rc.AckedTime)
				if rc.Unacked == 0 {
					continue
				}
				h.Unacked += rc.Unacked
				alias, err := tx.LookupAlias(storage.AliasRoom, r.ID[:])
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				h.Behind = append(h.Behind, RoomLag{Room: r.ID, Alias: alias, Name: c.Name, Unacked: rc.Unacked,
					AckedSeq: rc.AckedSeq, Seq: r.Seq})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("partner health: %w", err)
	}
	for _, h := range out {
		slices.SortFunc(h.Behind, func(a, b RoomLag) int {
			return cmp.Or(cmp.Compare(b.Unacked, a.Unacked), cmp.Compare(a.Alias, b.Alias))
		})
		best := 0
		for _, org := range slices.Sorted(maps.Keys(orgs[h.ID])) {
			if c := orgs[h.ID][org]; c > best {
				h.Org, best = org, c
			}
		}
	}
	return out, nil
}

// RoomStatus is RoomReceipts for the node's operator, who needs no
// account in the room: per other member node, what it has acknowledged
// of this node's events there. Errors: ErrNotFound if the node does not
// hold room.
func (n *Node) RoomStatus(ctx context.Context, room protocol.RoomID) (*Receipts, error) {
	out := &Receipts{Room: room, Nodes: []Receipt{}}
	err := n.store.View(func(tx *storage.Tx) error {
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		out.Seq = r.Seq
		for _, m := range slices.Sorted(maps.Keys(nodesOf(c))) {
			if m == n.id {
				continue
			}
			rc, err := n.receipt(tx, room, r, m)
			if err != nil {
				return err
			}
			out.Nodes = append(out.Nodes, *rc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("room status: %w", err)
	}
	return out, nil
}
