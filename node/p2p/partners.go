package p2p

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// Partner describes one partner node.
type Partner struct {
	ID        protocol.NodeID
	Addrs     []string // the multiaddrs it was added with, without /p2p/
	Connected bool
	Usage     Usage  // of its daily Quota
	Health    Health // of its link since the host started
}

// partner is a partner and the state of its loop. Its fields are guarded
// by Host.mu, but wake.
type partner struct {
	id    peer.ID
	addrs []ma.Multiaddr
	wake  chan struct{} // cap 1: connectedness changed or a sync is due
	// connected, cap 1, is signalled on every new connection: a loop
	// backing off after failed rounds starts again at once, since what
	// failed (the peer restarting, a link cut mid-round) is likely over.
	connected chan struct{}

	running bool               // its loop runs
	stop    context.CancelFunc // stops its loop
	full    bool               // a full sync round is due
	due     map[protocol.RoomID]struct{}
	pulled  map[protocol.RoomID]time.Time // rooms pulled back on its request, and when
}

// pullBackEvery rate-limits pulling back, from one partner, a room this
// node holds nothing of: if the node declined the room, the partner will
// name it again in every round.
const pullBackEvery = 10 * time.Minute

// ParseAddr checks a partner address, a multiaddr naming a transport
// address and ending in /p2p/<node id> (e.g.
// /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW… or
// /ip4/192.0.2.7/udp/4001/quic-v1/p2p/12D3KooW…), and returns the node ID
// in it. It needs no running host.
func ParseAddr(addr string) (protocol.NodeID, error) {
	info, err := parseAddr(addr)
	if err != nil {
		return "", err
	}
	return nodeID(info.ID), nil
}

func parseAddr(addr string) (*peer.AddrInfo, error) {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return nil, fmt.Errorf("partner address %q: %w", addr, err)
	}
	if err := nodeID(info.ID).Validate(); err != nil {
		return nil, fmt.Errorf("partner address %q: %w", addr, err)
	}
	if len(info.Addrs) == 0 {
		return nil, fmt.Errorf("partner address %q: no transport address before /p2p/", addr)
	}
	return info, nil
}

// parsePartner is parseAddr, refusing this node's own ID.
func (h *Host) parsePartner(addr string) (*peer.AddrInfo, error) {
	info, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	if info.ID == h.self {
		return nil, fmt.Errorf("partner address %q: that is this node", addr)
	}
	return info, nil
}

// addPartnerLocked adds info's peer, or its addresses to a known partner.
// The caller holds h.mu (or has not shared h yet).
func (h *Host) addPartnerLocked(info *peer.AddrInfo) *partner {
	p := h.partners[info.ID]
	if p == nil {
		p = &partner{id: info.ID, wake: make(chan struct{}, 1), connected: make(chan struct{}, 1), due: map[protocol.RoomID]struct{}{},
			pulled: map[protocol.RoomID]time.Time{}}
		h.partners[info.ID] = p
	}
	for _, a := range info.Addrs {
		if !slices.ContainsFunc(p.addrs, a.Equal) {
			p.addrs = append(p.addrs, a)
		}
	}
	return p
}

// AddPartner adds the partner at addr (a multiaddr ending in /p2p/<node id>,
// e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…), or adds addr to a known
// partner, and returns its ID. From then on the gater lets it connect. If
// Run is running, AddPartner dials it, waiting until ctx ends at most, and
// returns an error wrapping ErrUnreachable if that fails: the partner is
// still added, and the host keeps redialing it. Before Run, the partner is
// dialed when Run starts.
func (h *Host) AddPartner(ctx context.Context, addr string) (protocol.NodeID, error) {
	info, err := h.parsePartner(addr)
	if err != nil {
		return "", fmt.Errorf("p2p: add partner: %w", err)
	}
	h.mu.Lock()
	h.addPartnerLocked(info)
	lh := h.lh
	h.mu.Unlock()
	select {
	case h.kick <- struct{}{}:
	default:
	}
	id := nodeID(info.ID)
	if lh == nil {
		return id, nil
	}
	lh.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.PermanentAddrTTL)
	ctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	defer cancel()
	err = lh.Connect(ctx, *info)
	// When two partners add each other at once, a dial can fail in the
	// handshake: the other side refused it, not having added this node
	// yet, or the two dials met on one TCP address pair (both dial from
	// their listening port), and the connection that stays may be the
	// other side's. So wait for that a little, and dial again, past the
	// dialer's backoff of failed addresses: 0.1 + 0.2 + 0.4 + 0.8 s.
	for wait := 100 * time.Millisecond; err != nil && wait <= 800*time.Millisecond && ctx.Err() == nil; wait *= 2 {
		if connectedSoon(ctx, lh.Network(), info.ID, wait) {
			return id, nil
		}
		err = lh.Connect(network.WithForceDirectDial(ctx, "add partner: dial again"), *info)
	}
	if err != nil {
		return id, fmt.Errorf("p2p: add partner %s: %w: %w", id.Short(), ErrUnreachable, err)
	}
	return id, nil
}

// connectedSoon reports whether p is connected, or gets connected within
// wait (or before ctx ends).
func connectedSoon(ctx context.Context, nw network.Network, p peer.ID, wait time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for nw.Connectedness(p) != network.Connected {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// RemovePartner removes a partner: its loop stops, its connections are
// closed, and the gater refuses it from then on. It returns an error
// wrapping ErrNotPartner if id is not a partner.
func (h *Host) RemovePartner(id protocol.NodeID) error {
	pid, err := peer.Decode(string(id))
	if err != nil {
		return fmt.Errorf("p2p: remove partner %q: %w", id, err)
	}
	h.mu.Lock()
	p := h.partners[pid]
	delete(h.partners, pid)
	lh := h.lh
	var stop context.CancelFunc
	if p != nil {
		stop = p.stop
	}
	h.mu.Unlock()
	if p == nil {
		return fmt.Errorf("p2p: remove partner %s: %w", id.Short(), ErrNotPartner)
	}
	if stop != nil {
		stop()
	}
	if lh != nil {
		lh.Peerstore().ClearAddrs(pid)
		if err := lh.Network().ClosePeer(pid); err != nil {
			h.log.Debug("close removed partner", "peer", id.Short(), "err", err)
		}
	}
	return nil
}

// Partners returns the partners, sorted by ID.
func (h *Host) Partners() []Partner {
	h.mu.Lock()
	lh := h.lh
	out := make([]Partner, 0, len(h.partners))
	for _, p := range h.partners {
		q := Partner{ID: nodeID(p.id)}
		for _, a := range p.addrs {
			q.Addrs = append(q.Addrs, a.String())
		}
		out = append(out, q)
	}
	h.mu.Unlock()
	for i := range out {
		pid, _ := peer.Decode(string(out[i].ID))
		if lh != nil {
			out[i].Connected = lh.Network().Connectedness(pid) == network.Connected
		}
		out[i].Usage = h.quota.get(pid)
		out[i].Health = h.health.get(pid)
		if out[i].Connected {
			out[i].Health.LastSeen = time.Now()
		}
	}
	slices.SortFunc(out, func(a, b Partner) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Usage returns the partner id's use of its daily Quota.
func (h *Host) Usage(id protocol.NodeID) Usage {
	pid, err := peer.Decode(string(id))
	if err != nil {
		return Usage{}
	}
	return h.quota.get(pid)
}

func (h *Host) isPartner(p peer.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.partners[p] != nil
}

// gater is the connection gater: only partners pass, either way.
type gater Host

var _ connmgr.ConnectionGater = (*gater)(nil)

func (g *gater) InterceptPeerDial(p peer.ID) bool {
	h := (*Host)(g)
	if h.isPartner(p) {
		return true
	}
	h.stats.refusedConns.Add(1)
	h.log.Debug("refused dial to non-partner", "peer", nodeID(p).Short())
	return false
}

func (g *gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

// InterceptAccept lets the handshake run: the peer's ID is known only
// after it, in InterceptSecured.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(dir network.Direction, p peer.ID, addrs network.ConnMultiaddrs) bool {
	h := (*Host)(g)
	if h.isPartner(p) {
		return true
	}
	h.stats.refusedConns.Add(1)
	h.log.Info("refused connection from non-partner", "peer", nodeID(p).Short(), "addr", addrs.RemoteMultiaddr())
	return false
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// connectedPartner makes a full sync round with p due, if p is a
// partner: it has just connected.
func (h *Host) connectedPartner(p peer.ID) {
	h.mu.Lock()
	q := h.partners[p]
	if q != nil {
		q.full = true
	}
	h.mu.Unlock()
	if q != nil {
		h.log.Debug("partner connected", "peer", nodeID(p).Short())
		wake(q.wake)
		wake(q.connected)
	}
}

// wakePartner wakes p's loop, if p is a partner.
func (h *Host) wakePartner(p peer.ID) {
	h.mu.Lock()
	q := h.partners[p]
	h.mu.Unlock()
	if q != nil {
		wake(q.wake)
	}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// schedule makes a sync of rooms with p due, and wakes p's loop.
func (h *Host) schedule(p peer.ID, rooms ...protocol.RoomID) {
	h.mu.Lock()
	q := h.partners[p]
	if q != nil {
		for _, r := range rooms {
			q.due[r] = struct{}{}
		}
	}
	h.mu.Unlock()
	if q != nil {
		wake(q.wake)
	}
}

// schedulePullBack makes a sync of room, which this node holds nothing of,
// with p due, unless one was made due (or refused over p's quota of rooms)
// within pullBackEvery. It reports whether it did.
func (h *Host) schedulePullBack(p peer.ID, room protocol.RoomID) bool {
	h.mu.Lock()
	q := h.partners[p]
	ok := q != nil && time.Since(q.pulled[room]) >= pullBackEvery
	if ok {
		now := time.Now()
		maps.DeleteFunc(q.pulled, func(_ protocol.RoomID, t time.Time) bool { return now.Sub(t) >= pullBackEvery })
		q.pulled[room] = now
		if ok = h.quota.takeRoom(p, room, &h.stats); ok {
			q.due[room] = struct{}{}
		}
	}
	h.mu.Unlock()
	if ok {
		wake(q.wake)
	}
	return ok
}

// scheduleShared makes a sync of room due with every partner that shares
// it.
func (h *Host) scheduleShared(room protocol.RoomID) {
	h.mu.Lock()
	ids := slices.Collect(maps.Keys(h.partners))
	h.mu.Unlock()
	for _, p := range ids {
		if h.handler.Shares(nodeID(p), room) {
			h.schedule(p, room)
		}
	}
}

// takeDue returns and clears what sync is due with p.
func (h *Host) takeDue(p *partner) (full bool, rooms []protocol.RoomID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	full, p.full = p.full, false
	rooms = slices.Collect(maps.Keys(p.due))
	clear(p.due)
	return full, rooms
}

// startPartners starts the loop of every partner that has none. Run calls
// it, so Run owns the loops.
func (h *Host) startPartners(ctx context.Context, loops *sync.WaitGroup) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return
	}
	for _, p := range h.partners {
		if p.running {
			continue
		}
		pctx, stop := context.WithCancel(ctx)
		p.running, p.stop = true, stop
		loops.Go(func() {
			defer stop()
			h.partnerLoop(pctx, p)
		})
	}
}

// partnerLoop keeps p connected and in sync until ctx ends: it dials p
// while disconnected, rate-limited by a jittered exponential backoff; runs
// a full sync round on every new connection (see connectedPartner) and
// every SyncInterval (jittered); and runs the room syncs scheduled for p.
func (h *Host) partnerLoop(ctx context.Context, p *partner) {
	log := h.log.With("peer", nodeID(p.id).Short())
	backoff := h.cfg.RedialMin
	var nextDial time.Time // no dial before then
	timer := time.NewTimer(jitter(h.cfg.SyncInterval))
	defer timer.Stop()
	for ctx.Err() == nil {
		lh := h.host()
		if lh == nil {
			return
		}
		select {
		case <-p.connected:
			// A new connection: whatever backoff dials or failed
			// rounds built up is over.
			backoff, nextDial = h.cfg.RedialMin, time.Time{}
		default:
		}
		if lh.Network().Connectedness(p.id) != network.Connected {
			if wait := time.Until(nextDial); wait > 0 {
				if !sleep(ctx, p.wake, wait) {
					return
				}
				continue
			}
			nextDial = time.Now().Add(jitter(backoff))
			backoff = min(2*backoff, h.cfg.RedialMax)
			dctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
			err := lh.Connect(dctx, peer.AddrInfo{ID: p.id})
			cancel()
			if err != nil && ctx.Err() == nil {
				log.Debug("dial partner", "err", err, "retry", time.Until(nextDial).Round(time.Millisecond))
			}
			continue
		}

		if full, rooms := h.takeDue(p); full || len(rooms) > 0 {
			if err := h.syncWith(ctx, p.id, full, rooms); err != nil {
				if ctx.Err() != nil {
					return
				}
				if !errors.Is(err, ErrOverQuota) { // logged by the quota, once a minute
					log.Info("sync with partner", "err", err)
				}
				// What was due is still due: a pull-back of a room this
				// node does not name in its own rounds is asked for once.
				h.mu.Lock()
				p.full = p.full || full
				for _, r := range rooms {
					p.due[r] = struct{}{}
				}
				h.mu.Unlock()
				// Do not hammer a peer whose rounds fail, but start again
				// at once on a new connection.
				t := time.NewTimer(jitter(backoff))
				backoff = min(2*backoff, h.cfg.RedialMax)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-p.connected:
					backoff, nextDial = h.cfg.RedialMin, time.Time{}
				case <-t.C:
				}
				t.Stop()
			} else {
				backoff = h.cfg.RedialMin
			}
			continue
		}

		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-timer.C:
			h.mu.Lock()
			p.full = true
			h.mu.Unlock()
			timer.Reset(jitter(h.cfg.SyncInterval))
		}
	}
}

// sleep waits for d, or until wake fires (if not nil); it reports false if
// ctx ended first.
func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// syncWith runs one sync round with p: if full, every room this node
// hosts members of that p's node hosts members of too, or did before its
// members were removed (Handler.Scope); and rooms.
//
// Asking a removed node is how two nodes that each saw the other's
// members removed (a partition in which admins on both sides acted)
// converge: neither would otherwise ask the other, and the answer, up to
// our own removal in the peer's view, makes us apply the peer's
// conflicting changes. It costs one room in each full round per room a
// partner was removed from; a node that knows of its removal answers
// with nothing.
func (h *Host) syncWith(ctx context.Context, p peer.ID, full bool, rooms []protocol.RoomID) error {
	want := map[protocol.RoomID]struct{}{}
	for _, r := range rooms {
		want[r] = struct{}{}
	}
	if full {
		all, err := h.handler.Rooms(ctx)
		if err != nil {
			return fmt.Errorf("list rooms: %w", err)
		}
		for r, nodes := range all {
			if slices.Contains(nodes, nodeID(p)) {
				want[r] = struct{}{}
				continue
			}
			scope, err := h.handler.Scope(ctx, nodeID(p), r)
			if err != nil {
				return fmt.Errorf("sync scope of room %s: %w", r, err)
			}
			if len(scope.Until) > 0 {
				want[r] = struct{}{}
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	_, err := h.pull(ctx, p, slices.Collect(maps.Keys(want)))
	return err
}

// SyncRoom pulls what this node lacks of room from the partner peer, and
// returns when done. It returns an error wrapping ErrRefused if peer
// refused (it does not believe this node hosts a member of room, or holds
// nothing of it), ErrMisbehaved if peer sent something bad, ErrNotPartner
// or ErrNotRunning. The host runs such syncs by itself; SyncRoom is for
// when the node knows better, e.g. right after adding a partner's member
// to a room.
func (h *Host) SyncRoom(ctx context.Context, peerID protocol.NodeID, room protocol.RoomID) error {
	pid, err := peer.Decode(string(peerID))
	if err != nil {
		return fmt.Errorf("p2p: sync room: %w", err)
	}
	if !h.isPartner(pid) {
		return fmt.Errorf("p2p: sync room %s with %s: %w", room, peerID.Short(), ErrNotPartner)
	}
	refused, err := h.pull(ctx, pid, []protocol.RoomID{room})
	if err == nil && len(refused) > 0 {
		err = ErrRefused
	}
	if err != nil {
		return fmt.Errorf("p2p: sync room %s with %s: %w", room, peerID.Short(), err)
	}
	return nil
}
