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

// outbound is one piece of network work, of one of the kinds below.
type outbound struct {
	kind    outboundKind
	room    protocol.RoomID
	wire    []byte          // publishEvent: the event
	profile protocol.Handle // publishProfile: the local account
	peer    protocol.NodeID // pullRoom: the partner
}

type outboundKind uint8

const (
	// publishEvent publishes wire, an event this node made, in room.
	publishEvent outboundKind = iota + 1
	// membersChanged brings room's topic up to date after a change of
	// its control state, and offers the room to nodes just added.
	membersChanged
	// publishProfile tells room the name and organization of local
	// account profile, unless the room shows them already.
	publishProfile
	// pullRoom pulls room from partner peer, which invited an account of
	// this node late in the room (see admit).
	pullRoom
)

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
// room offers and pulls it started.
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
			switch o.kind {
			case publishEvent:
				n.publishEvent(ctx, o.room, o.wire)
			case membersChanged:
				n.membersChanged(ctx, o.room, members, &offers)
			case pullRoom:
				offers.Go(func() {
					if err := n.net.host.SyncRoom(ctx, o.peer, o.room); err != nil && ctx.Err() == nil {
						n.log.Warn("pull a room an account of this node was invited to", "room", o.room, "peer", o.peer, "err", err)
					}
				})
			case publishProfile:
				if err := n.publishProfile(ctx, o.profile, o.room); err != nil && ctx.Err() == nil {
					n.log.Warn("publish member profile", "room", o.room, "account", o.profile, "err", err)
				}
			default:
				n.log.Error("outbound work of unknown kind", "kind", o.kind, "room", o.room)
			}
		}
	}
}

// publishEvent publishes wire, an event of room this node made, joining
// the room's topic first if needed. Failures are logged: partners get the
// event by sync.
func (n *Node) publishEvent(ctx context.Context, room protocol.RoomID, wire []byte) {
	err := n.net.host.Publish(ctx, room, wire)
	if errors.Is(err, p2p.ErrNotJoined) {
		var nodes map[protocol.NodeID]bool
		if nodes, err = n.memberNodes(room); err == nil {
			if err = n.net.host.Join(room, slices.Collect(maps.Keys(nodes))); err == nil {
				err = n.net.host.Publish(ctx, room, wire)
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		n.log.Debug("publish event; partners will get it by sync", "room", room, "err", err)
	}
}

// membersChanged moves the host to room's topic for its current member
// nodes (or off it, if this node hosts no member any more), and offers the
// room to the nodes not in members[room], the nodes at the last change,
// which it then updates. Offers run in offers. The node hosts the room
// only if one of its members is an account that exists here (the hosting
// rule, hosting.go): a partner listing a made-up account of this node
// does not make it join the room's topic.
func (n *Node) membersChanged(ctx context.Context, room protocol.RoomID, members map[protocol.RoomID]map[protocol.NodeID]bool, offers *sync.WaitGroup) {
	nodes, err := n.memberNodes(room)
	if err != nil {
		n.log.Warn("room membership changed", "room", room, "err", err)
		return
	}
	host := nodes[n.id]
	if host {
		if host, err = n.hosts(room); err != nil {
			n.log.Warn("room membership changed", "room", room, "err", err)
			return
		}
	}
	if host {
		err = n.net.host.Join(room, slices.Collect(maps.Keys(nodes)))
	} else {
		err = n.net.host.Leave(room)
	}
	if err != nil {
		n.log.Warn("update room topic", "room", room, "err", err)
	}
	if !host && nodes[n.id] {
		nodes = maps.Clone(nodes) // the cache's: not ours to change
		delete(nodes, n.id)
	}
	old, known := members[room]
	members[room] = nodes
	if !host {
		if !known || old[n.id] {
			// Its last member left or was removed: the node keeps the
			// room's events up to here, shows it to no one (only members
			// see a room) and partners send it nothing more.
			n.log.Info("this node hosts no member of the room any more; left its topic", "room", room)
		}
		return
	}
	for peer := range nodes {
		if peer == n.id || (known && old[peer]) {
			continue
		}
		// A sync request naming the room tells the partner it was
		// added; it then pulls the room.
		offers.Go(func() {
			if err := n.net.host.SyncRoom(ctx, peer, room); err != nil && ctx.Err() == nil {
				n.log.Debug("offer room to partner", "room", room, "peer", peer, "err", err)
			}
		})
	}
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
		if m, ok := c.Members.Get(protocol.NewAccountID(n.id, h)); ok && (m.Name != acc.Name || m.Org != acc.Org) {
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

// FederationForTest returns the node's federation face, what its p2p host
// calls: tests use it to play a partner's side of sync without a network.
func (n *Node) FederationForTest() p2p.Handler { return handler{n} }

// SyncRoomForTest pulls room from partner peer now.
func (n *Node) SyncRoomForTest(ctx context.Context, peer protocol.NodeID, room protocol.RoomID) error {
	return n.net.host.SyncRoom(ctx, peer, room)
}

// DefaultGossipSeenTTL is Config.GossipSeenTTL's default.
const DefaultGossipSeenTTL = p2p.DefaultSeenTTL
