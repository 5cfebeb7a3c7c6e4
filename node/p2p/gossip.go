package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
)

// room is a room whose topic the node wants to be subscribed to. Its
// fields are guarded by Host.joinMu.
type room struct {
	name        string                 // the topic's name, for the room's current member nodes
	alone       bool                   // no other node hosts a member: the host is on no topic
	topic       *pubsub.Topic          // nil until Run joins it, and while alone
	relay       pubsub.RelayCancelFunc // our subscription
	reannounced map[peer.ID]time.Time  // when we last re-announced it, by the peer that asked
}

// reannounceEvery rate-limits re-announcing one room's subscription at one
// peer's request. Per peer, not per room: when several partners learn
// that the node shares a room one after the other (a room made with
// members on several nodes), each dropped its subscription, and each
// needs the announcement after it learned, not the first one's; limited
// per room, the second waited up to a minute for gossip
// (TestResubscribeForEachPeer). An announcement renews the subscription,
// which every peer on the topic hears: a partner can cause one a minute,
// and only partners connect.
const reannounceEvery = time.Minute

// Join subscribes the host to room's topic, so that it receives and relays
// the room's gossip. The topic is named after nodes, the nodes hosting the
// room's members now, this one included (see protocol.Topic). The node
// calls Join when one of its accounts becomes a member of a room, and
// again whenever the room's member nodes change: the host then moves to
// the new topic, leaving the old one. Joining with unchanged member nodes
// does nothing. A room whose member nodes are this one alone is recorded
// but has no topic: nobody would receive its gossip, and pubsub would
// remember every event published to it (its seen-message cache: 21 MB of
// a posting node's heap at 1,700 posts/s). The host joins its topic when
// another node shares the room, and leaves it when none does any more.
// Before Run, the room is recorded and joined when Run starts (after Run
// has returned, it is only recorded). Once running, Join also schedules a
// sync of room with the partners that share it, which fetches what was
// published while the host was not on the room's current topic.
func (h *Host) Join(id protocol.RoomID, nodes []protocol.NodeID) error {
	activated, err := h.join(id, protocol.Topic(id, nodes), h.alone(nodes))
	if activated {
		h.scheduleShared(id)
	}
	return err
}

// alone reports whether nodes, a room's member nodes, are this node's
// only: then no other node has a use for the room's gossip.
func (h *Host) alone(nodes []protocol.NodeID) bool {
	for _, n := range nodes {
		if n != h.id {
			return false
		}
	}
	return true
}

func (h *Host) join(id protocol.RoomID, name string, alone bool) (activated bool, err error) {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	r := h.rooms[id]
	if r == nil {
		r = &room{name: name, alone: alone}
		h.rooms[id] = r
	}
	if r.name != name {
		// The member nodes changed. Leave the old topic first: staying
		// would keep flooding our events to a node no longer in the room.
		if r.topic != nil {
			h.stats.topicMoves.Add(1)
			if err := h.deactivateLocked(id, r); err != nil {
				h.log.Warn("leave the room's old topic", "room", id, "err", err)
			}
		}
		// A new topic: announcing our subscription to it is not limited by
		// announcements on the old one.
		r.name, r.reannounced = name, nil
	}
	r.alone = alone
	if h.ps == nil || r.topic != nil || alone {
		return false, nil
	}
	if err := h.activateLocked(id, r); err != nil {
		return false, err
	}
	return true, nil
}

// activateLocked registers the validator of r's topic, then joins and
// subscribes to it, in that order so that no message passes unvalidated.
// The caller holds joinMu and h.ps is set.
func (h *Host) activateLocked(id protocol.RoomID, r *room) error {
	if r.topic != nil {
		return nil
	}
	h.stats.room(id) // so that Stats shows the room
	err := h.ps.RegisterTopicValidator(r.name, h.validator(id),
		pubsub.WithValidatorTimeout(h.cfg.ValidateTimeout),
		pubsub.WithValidatorConcurrency(h.cfg.ValidateConcurrency))
	if err != nil {
		return fmt.Errorf("p2p: join room %s: validator: %w", id, err)
	}
	t, err := h.ps.Join(r.name)
	if err != nil {
		h.ps.UnregisterTopicValidator(r.name)
		return fmt.Errorf("p2p: join room %s: %w", id, err)
	}
	relay, err := t.Relay()
	if err != nil {
		t.Close()
		h.ps.UnregisterTopicValidator(r.name)
		return fmt.Errorf("p2p: join room %s: subscribe: %w", id, err)
	}
	r.topic, r.relay = t, relay
	return nil
}

// deactivateLocked unsubscribes from r's topic and closes it. The caller
// holds joinMu.
func (h *Host) deactivateLocked(id protocol.RoomID, r *room) error {
	if r.topic == nil {
		return nil
	}
	r.relay()
	var errs []error
	if err := r.topic.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := h.ps.UnregisterTopicValidator(r.name); err != nil {
		errs = append(errs, err)
	}
	r.topic, r.relay = nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("p2p: leave room %s: %w", id, err)
	}
	return nil
}

// Leave unsubscribes the host from room's topic; the node calls it when
// its last account in the room leaves. Leaving a room not joined does
// nothing.
func (h *Host) Leave(id protocol.RoomID) error {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	r := h.rooms[id]
	delete(h.rooms, id)
	if r == nil {
		return nil
	}
	return h.deactivateLocked(id, r)
}

// reannounce announces our subscription to room again (by cancelling and
// renewing it), so that peers whose subscription filter dropped it before
// they knew we share the room see it now; p asked. At most once per
// reannounceEvery per room and asking peer.
func (h *Host) reannounce(id protocol.RoomID, p peer.ID) {
	h.joinMu.Lock()
	defer h.joinMu.Unlock()
	r := h.rooms[id]
	if r == nil || r.topic == nil || time.Since(r.reannounced[p]) < reannounceEvery {
		return
	}
	r.relay()
	relay, err := r.topic.Relay()
	if err != nil {
		h.log.Warn("re-announce room", "room", id, "err", err)
		return
	}
	now := time.Now()
	maps.DeleteFunc(r.reannounced, func(_ peer.ID, at time.Time) bool { return now.Sub(at) >= reannounceEvery })
	if r.reannounced == nil {
		r.reannounced = map[peer.ID]time.Time{}
	}
	r.relay, r.reannounced[p] = relay, now
	h.stats.reannounced.Add(1)
	h.log.Debug("re-announced room subscription", "room", id)
}

// sees reports whether the host is subscribed to room and sees p's
// subscription to it.
func (h *Host) sees(id protocol.RoomID, p peer.ID) (subscribed, seen bool) {
	h.joinMu.Lock()
	r := h.rooms[id]
	var t *pubsub.Topic
	if r != nil {
		t = r.topic
	}
	h.joinMu.Unlock()
	if t == nil {
		return false, false
	}
	return true, slices.Contains(t.ListPeers(), p)
}

// Publish sends wire, the wire form of an event of room id that this node
// made and accepted, to the room's topic. Publish trusts the node: it does
// not decode wire, nor check that the event is of room id (peers'
// validators do). The room must be joined (ErrNotJoined otherwise); in
// a room no other node shares, Publish does nothing. Publish does not
// wait for any peer to receive it: peers that miss it get it by sync.
func (h *Host) Publish(ctx context.Context, id protocol.RoomID, wire []byte) error {
	if len(wire) > protocol.MaxEventSize {
		return fmt.Errorf("p2p: publish: %w: %d bytes", protocol.ErrTooLarge, len(wire))
	}
	h.joinMu.Lock()
	running := h.ps != nil
	var t *pubsub.Topic
	alone := false
	if r := h.rooms[id]; r != nil {
		t, alone = r.topic, r.alone
	}
	h.joinMu.Unlock()
	if !running {
		return fmt.Errorf("p2p: publish: %w", ErrNotRunning)
	}
	if alone {
		return nil // no other node hosts a member of the room
	}
	if t == nil {
		return fmt.Errorf("p2p: publish to room %s: %w", id, ErrNotJoined)
	}
	if err := t.Publish(ctx, wire); err != nil {
		if errors.Is(err, pubsub.ErrTopicClosed) {
			err = ErrNotJoined
		}
		return fmt.Errorf("p2p: publish to room %s: %w", id, err)
	}
	return nil
}

// gossipHistory is how long pubsub's message cache holds a message to
// serve peers that ask for it after gossip about it (IWANT): its heartbeat
// times its history length, 5 s with pubsub's defaults, which the host
// keeps.
func gossipHistory() time.Duration {
	return time.Duration(pubsub.GossipSubHistoryLength) * pubsub.GossipSubHeartbeatInterval
}

// messageID names a pubsub message by the SHA-256 of its data, so one
// event is one message whichever path it takes.
func messageID(m *pb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return string(sum[:])
}

// validator returns the topic validator of room: size, decoding (so the
// signature), room, then Handler.Accept.
func (h *Host) validator(id protocol.RoomID) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == h.self {
			return pubsub.ValidationAccept // our own event: the node made and accepted it
		}
		// Marked in flight by the tracer as pubsub took it (see
		// tracer.ValidateMessage); done here, whatever the outcome. The
		// ID is the decoded event's, or, if the validator returns before
		// decoding it or decoding fails, peeked at.
		data := msg.GetData()
		var e *protocol.Signed
		defer func() {
			if e != nil {
				h.events.done(e.ID)
			} else if id, err := protocol.PeekID(data); err == nil {
				h.events.done(id)
			}
		}()
		if !h.enter() {
			return pubsub.ValidationIgnore
		}
		defer h.leave()
		rc := h.stats.room(id)
		rc.validated.Add(1)
		h.stats.gossipReceived.Add(1)
		fromID := nodeID(from)
		// Built only when something is logged: most events log nothing.
		log := func() *slog.Logger { return h.log.With("room", id, "from", fromID.Short()) }
		// First, because it is cheap and whatever the message holds: a
		// node that is not in the room now (a removed one, which can
		// compute any topic's name) may not send into it. Its events,
		// even valid backdated ones, reach us only by sync, from nodes
		// in the room.
		if !h.handler.Shares(fromID, id) {
			h.stats.gossipNotMember.Add(1)
			log().Info("rejected gossip from a node not in the room")
			return pubsub.ValidationReject
		}

		reject := func(why string, err error) pubsub.ValidationResult {
			h.stats.gossipRejected.Add(1)
			log().Info("rejected gossip", "why", why, "err", err)
			return pubsub.ValidationReject
		}
		if len(data) > protocol.MaxEventSize {
			return reject("too large", fmt.Errorf("%d bytes", len(data)))
		}
		decoded, err := h.decode(data)
		if err != nil {
			return reject("decode", err)
		}
		e = decoded
		if e.RoomID() != id {
			return reject("wrong room", fmt.Errorf("event %s is in room %s", e.ID, e.RoomID()))
		}

		if !h.quota.takeEvents(from, []protocol.EventID{e.ID}, []int{len(data)}, &h.stats) {
			return pubsub.ValidationIgnore // not the event's fault: others may relay it
		}
		if h.cfg.LossForTest != nil {
			drop, dup := h.cfg.LossForTest()
			if drop {
				return pubsub.ValidationIgnore
			}
			if dup {
				h.accept(ctx, from, id, e)
			}
		}
		err = h.accept(ctx, from, id, e)
		var miss *protocol.MissingError
		if errors.As(err, &miss) {
			h.stats.gossipOrphaned.Add(1)
			log().Debug("gossip event misses parents; waiting for them", "event", e.ID, "missing", len(miss.IDs))
			o := &orphan{e: e, from: from, parked: time.Now()}
			if h.events.any(miss.IDs) {
				// A parent is being validated: it is most likely an
				// event sent just before this one, which pubsub's
				// concurrent validation let this one overtake. Wait
				// for the orphan's adoption here, so that it is
				// forwarded once stored. Retrying each such child once
				// its parent was done made a run of them a convoy of
				// durable commits, one per event; adoption takes the
				// run in one.
				o.answer = make(chan error, 1)
			}
			h.orphaned(context.WithoutCancel(ctx), o, miss.IDs)
			if o.answer == nil {
				// Not forwarded: peers get it from their own mesh, or
				// by sync.
				return pubsub.ValidationIgnore
			}
			select {
			case err = <-o.answer:
			case <-ctx.Done():
				return pubsub.ValidationIgnore
			}
			if err == nil {
				return pubsub.ValidationAccept // counted by adopt
			}
			return pubsub.ValidationIgnore
		}
		switch {
		case err == nil:
			h.stats.gossipAccepted.Add(1)
			rc.accepted.Add(1)
			h.adopt(ctx, e.ID)
			return pubsub.ValidationAccept
		case errors.Is(err, ErrSoftFailed):
			// Stored, so its children are not orphans, but not
			// forwarded: the node hides it.
			h.stats.gossipSoftFailed.Add(1)
			h.adopt(ctx, e.ID)
			log().Debug("gossip event soft-failed: stored, hidden, not forwarded", "event", e.ID)
			return pubsub.ValidationIgnore
		case ctx.Err() != nil:
			return pubsub.ValidationIgnore
		case peerFault(err):
			return reject("refused by node", err)
		default:
			// Ours, not the peer's (a full disk, a storage error):
			// ignore it without penalty; sync brings it later.
			h.stats.gossipNotStored.Add(1)
			if !errors.Is(err, ErrNotStored) {
				log().Warn("could not store gossip event", "event", e.ID, "err", err)
			}
			return pubsub.ValidationIgnore
		}
	}
}

// inflight tracks the gossip events being validated, so that a child
// validated concurrently with its parent can wait for it (see orphan.answer). An event is marked as pubsub takes it for validation
// (tracer.ValidateMessage), in the order its peer sent it, not when its
// validator starts: pubsub starts a goroutine per message, and Go's
// scheduler runs the goroutine started last first (a P's runnext), so a
// partner's events, sent in order, reached their validators in reverse
// pairs, a third of them orphans at 1,000 events/s.
type inflight struct {
	mu sync.Mutex
	m  map[protocol.EventID]*flight
}

// flight is one event in flight: marked n times, closed when done as often.
type flight struct {
	n    int
	done chan struct{}
}

// mark marks id in flight; each mark is ended by one done.
func (f *inflight) mark(id protocol.EventID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.m[id]
	if fl == nil {
		fl = &flight{done: make(chan struct{})}
		f.m[id] = fl
	}
	fl.n++
}

// done ends one mark of id; the last wakes those waiting for it.
func (f *inflight) done(id protocol.EventID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.m[id]
	if fl == nil {
		return
	}
	if fl.n--; fl.n == 0 {
		delete(f.m, id)
		close(fl.done)
	}
}

// any reports whether one of ids is in flight.
func (f *inflight) any(ids []protocol.EventID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if _, ok := f.m[id]; ok {
			return true
		}
	}
	return false
}

// subFilter is the subscription filter: we subscribe only to room topics,
// and track a peer's subscription to a room only if its node shares the
// room. Unsubscriptions always pass.
type subFilter Host

var _ pubsub.SubscriptionFilter = (*subFilter)(nil)

func (f *subFilter) CanSubscribe(topic string) bool {
	_, err := protocol.ParseTopic(topic)
	return err == nil
}

func (f *subFilter) FilterIncomingSubscriptions(from peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	h := (*Host)(f)
	kept := subs[:0:0]
	for _, s := range subs {
		id, err := protocol.ParseTopic(s.GetTopicid())
		if err != nil {
			continue
		}
		if s.GetSubscribe() && !h.handler.Shares(nodeID(from), id) {
			h.stats.refusedSubs.Add(1)
			h.log.Debug("refused subscription of a peer not in the room", "peer", nodeID(from).Short(), "room", id)
			continue
		}
		kept = append(kept, s)
	}
	return pubsub.FilterSubscriptions(kept, func(string) bool { return true }), nil
}

// peerFilter keeps pubsub from grafting, gossiping to or answering a peer
// on a topic whose room the peer's node does not share.
func (h *Host) peerFilter(p peer.ID, topic string) bool {
	id, err := protocol.ParseTopic(topic)
	return err == nil && h.handler.Shares(nodeID(p), id)
}

// tracer counts what pubsub does with messages outside our validator,
// and marks the events it takes for validation in flight. Pubsub calls it
// synchronously from its event loop and validation workers.
type tracer Host

var _ pubsub.RawTracer = (*tracer)(nil)

func (t *tracer) RecvRPC(rpc *pubsub.RPC) {
	for _, m := range rpc.GetPublish() {
		if id, err := protocol.ParseTopic(m.GetTopic()); err == nil {
			if rc := t.stats.lookup(id); rc != nil {
				rc.received.Add(1)
			}
		}
	}
}

func (t *tracer) RejectMessage(msg *pubsub.Message, reason string) {
	switch reason {
	case pubsub.RejectValidationFailed, pubsub.RejectValidationIgnored, pubsub.RejectSelfOrigin:
		// Counted by the validator, or not a peer's fault.
	case pubsub.RejectValidationThrottled:
		// Marked in ValidateMessage, and dropped before the validator
		// that would end the mark.
		if msg.ReceivedFrom != t.self {
			if id, err := protocol.PeekID(msg.GetData()); err == nil {
				t.events.done(id)
			}
		}
		t.stats.gossipDropped.Add(1)
	case pubsub.RejectValidationQueueFull:
		t.stats.gossipDropped.Add(1)
	default:
		t.stats.gossipRejected.Add(1)
	}
}

// ValidateMessage marks a peer's event in flight as pubsub hands it to
// validation, in the order the peer sent it (see inflight); the
// validator, or RejectMessage if pubsub throttles it, ends the mark.
func (t *tracer) ValidateMessage(msg *pubsub.Message) {
	if msg.ReceivedFrom == t.self {
		return
	}
	if id, err := protocol.PeekID(msg.GetData()); err == nil {
		t.events.mark(id)
	}
}

func (t *tracer) DuplicateMessage(*pubsub.Message)                     { t.stats.gossipDuplicates.Add(1) }
func (t *tracer) UndeliverableMessage(*pubsub.Message)                 { t.stats.gossipDropped.Add(1) }
func (t *tracer) ThrottlePeer(peer.ID)                                 { t.stats.gossipDropped.Add(1) }
func (t *tracer) DropRPC(*pubsub.RPC, peer.ID)                         { t.stats.gossipSendDropped.Add(1) }
func (t *tracer) AddPeer(peer.ID, libp2pproto.ID)                      {}
func (t *tracer) RemovePeer(peer.ID)                                   {}
func (t *tracer) OnNewOutboundStream(peer.ID, libp2pproto.ID)          {}
func (t *tracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *tracer) Join(string)                                          {}
func (t *tracer) Leave(string)                                         {}
func (t *tracer) Graft(peer.ID, string)                                {}
func (t *tracer) Prune(peer.ID, string)                                {}
func (t *tracer) DeliverMessage(*pubsub.Message)                       {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
