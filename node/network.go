package node

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// network is the node's link to its partners: a p2p.Host, and an outbox
// of work to do on it after commits. Commit hooks must not block, so they
// queue work here and one goroutine owned by Run does it, in commit order.
type network struct {
	host    *p2p.Host
	outbox  chan outbound
	dropped atomic.Uint64 // outbound work dropped because the outbox was full
}

// outboxSize bounds the outbox. Past it, publications are dropped and
// partners get the events by catch-up sync instead.
const outboxSize = 8192

// outbound is one piece of network work: publish wire in room; or tell
// the room the name and organization of local account profile; or, with
// neither, bring the room's topic and partners up to date after a change
// of its membership.
type outbound struct {
	room    protocol.RoomID
	wire    []byte
	profile protocol.Handle
}

func (nw *network) queue(o outbound) {
	select {
	case nw.outbox <- o:
	default:
		nw.dropped.Add(1)
	}
}

func (nw *network) checkAddr(addr string) error {
	_, err := p2p.ParseAddr(addr)
	return err
}

func (nw *network) addPartner(ctx context.Context, p *storage.Partner) {
	for _, a := range p.Addrs {
		// An unreachable partner is redialed with backoff; nothing to do.
		nw.host.AddPartner(ctx, a)
	}
}

func (nw *network) removePartner(id protocol.NodeID) { nw.host.RemovePartner(id) }

func (nw *network) connected(id protocol.NodeID) bool {
	for _, p := range nw.host.Partners() {
		if p.ID == id {
			return p.Connected
		}
	}
	return false
}

// runOutbox does queued network work until ctx ends, then waits for the
// room offers it started.
func (n *Node) runOutbox(ctx context.Context) error {
	var offers sync.WaitGroup
	defer offers.Wait()
	// members remembers, per room, the nodes that shared it at the last
	// change, so that nodes just added can be told at once.
	members := map[protocol.RoomID]map[protocol.NodeID]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case o := <-n.net.outbox:
			if o.profile != "" {
				if err := n.publishProfile(ctx, o.profile, o.room); err != nil && ctx.Err() == nil {
					n.log.Warn("publish member profile", "room", o.room, "account", o.profile, "err", err)
				}
				continue
			}
			if o.wire != nil {
				err := n.net.host.Publish(ctx, o.room, o.wire)
				if errors.Is(err, p2p.ErrNotJoined) {
					if err = n.net.host.Join(o.room); err == nil {
						err = n.net.host.Publish(ctx, o.room, o.wire)
					}
				}
				if err != nil && ctx.Err() == nil {
					n.log.Debug("publish event; partners will get it by sync", "room", o.room, "err", err)
				}
				continue
			}
			nodes, err := n.RoomNodes(o.room)
			if err != nil {
				n.log.Warn("room membership changed", "room", o.room, "err", err)
				continue
			}
			if nodes[n.id] {
				err = n.net.host.Join(o.room)
			} else {
				err = n.net.host.Leave(o.room)
			}
			if err != nil {
				n.log.Warn("update room topic", "room", o.room, "err", err)
			}
			old, known := members[o.room]
			members[o.room] = nodes
			if !nodes[n.id] {
				continue
			}
			for peer := range nodes {
				if peer == n.id || (known && old[peer]) {
					continue
				}
				// A sync request naming the room tells the partner it
				// was added; it then pulls the room.
				offers.Go(func() {
					if err := n.net.host.SyncRoom(ctx, peer, o.room); err != nil && ctx.Err() == nil {
						n.log.Debug("offer room to partner", "room", o.room, "peer", peer, "err", err)
					}
				})
			}
		}
	}
}

// handler is the node as package p2p sees it.
type handler struct{ n *Node }

var _ p2p.Handler = handler{}

func (h handler) Shares(peer protocol.NodeID, room protocol.RoomID) bool {
	return h.n.Shares(peer, room)
}

func (h handler) Nodes(room protocol.RoomID) ([]protocol.NodeID, error) {
	nodes, err := h.n.RoomNodes(room)
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Keys(nodes)), nil
}

func (h handler) Rooms(ctx context.Context) ([]protocol.RoomID, error) { return h.n.HostedRooms(ctx) }

func (h handler) Heads(ctx context.Context, room protocol.RoomID) ([]protocol.EventID, error) {
	return h.n.Have(ctx, room)
}

func (h handler) Held(ctx context.Context, ids []protocol.EventID) []bool {
	held := make([]bool, len(ids))
	err := h.n.store.View(func(tx *storage.Tx) error {
		for i, id := range ids {
			ok, err := tx.HasEvent(id)
			if err != nil {
				return err
			}
			held[i] = ok
		}
		return nil
	})
	if err != nil {
		// Say nothing is held: the events are then checked and offered
		// to Accept, which is safe.
		h.n.log.Warn("look up held events", "err", err)
		clear(held)
	}
	return held
}

func (h handler) Missing(ctx context.Context, room protocol.RoomID, have []protocol.EventID, emit func([]byte) error) error {
	return h.n.Missing(ctx, room, have, emit)
}

func (h handler) Accept(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) []error {
	if len(events) == 0 {
		return nil
	}
	if !h.n.holds(room) && !h.n.invited(events) && events[0].Type != protocol.TypeRoomCreate {
		// A partner offered a room we do not hold. Keep it only if it
		// names one of our accounts, or if this is its beginning: a long
		// room's first frame may end before our account was added.
		return make([]error, len(events))
	}
	errs, err := h.n.acceptDecoded(ctx, from, events)
	if err != nil {
		h.n.log.Error("store partner events", "room", room, "from", from, "err", err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

// publishProfile posts account h's current name and organization to room,
// unless the room already shows them.
func (n *Node) publishProfile(ctx context.Context, h protocol.Handle, room protocol.RoomID) error {
	var p *protocol.MemberProfile
	err := n.store.View(func(tx *storage.Tx) error {
		acc, err := tx.Account(h)
		if err != nil {
			return err
		}
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		if m, ok := c.Members[protocol.NewAccountID(n.id, h)]; ok && (m.Name != acc.Name || m.Org != acc.Org) {
			p = &protocol.MemberProfile{Name: acc.Name, Org: acc.Org}
		}
		return nil
	})
	if err != nil || p == nil {
		return err
	}
	_, err = n.publish(ctx, h, room, p)
	return err
}

// SyncRoomForTest pulls room from partner peer now.
func (n *Node) SyncRoomForTest(ctx context.Context, peer protocol.NodeID, room protocol.RoomID) error {
	return n.net.host.SyncRoom(ctx, peer, room)
}
