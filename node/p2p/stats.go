package p2p

import (
	"sync"
	"sync/atomic"

	"github.com/horenso/horenso/protocol"
)

// Stats counts what the host did since New. Gossip counts are of messages
// from peers; the host's own publications are not counted.
type Stats struct {
	GossipReceived    uint64 `json:"gossip_received"`     // messages that reached a validator
	GossipAccepted    uint64 `json:"gossip_accepted"`     // … that the Handler stored or already had
	GossipSoftFailed  uint64 `json:"gossip_soft_failed"`  // … that the Handler stored but hides (ErrSoftFailed): not forwarded
	GossipNotMember   uint64 `json:"gossip_not_member"`   // messages rejected because the peer that sent them does not host a member of the room now
	GossipNotStored   uint64 `json:"gossip_not_stored"`   // messages ignored because the node could not store them (ErrNotStored: a full disk); sync brings them later
	GossipRejected    uint64 `json:"gossip_rejected"`     // invalid: too large, undecodable, wrong room, refused by the Handler or by pubsub's checks
	GossipOrphaned    uint64 `json:"gossip_orphaned"`     // … whose parents were unknown: kept a moment (Config.OrphanWait) for them to arrive
	GossipAdopted     uint64 `json:"gossip_adopted"`      // orphans accepted once their parents arrived
	GossipIgnored     uint64 `json:"gossip_ignored"`      // orphans whose parents did not arrive in time (or with too many waiting): a sync was scheduled
	GossipDuplicates  uint64 `json:"gossip_duplicates"`   // messages pubsub dropped as already seen
	GossipDropped     uint64 `json:"gossip_dropped"`      // messages pubsub dropped unvalidated: validation queue full or throttled
	GossipSendDropped uint64 `json:"gossip_send_dropped"` // RPCs pubsub dropped because a peer's outbound queue was full
	GossipBatches     uint64 `json:"gossip_batches"`      // Handler.Accept calls that validated messages were stored in, a batch per room and sender (see acceptq.go)
	GossipSigBatches  uint64 `json:"gossip_sig_batches"`  // batches the signatures of gossip messages were checked in (see sigcheck.go)

	SyncRounds        uint64 `json:"sync_rounds"`         // sync exchanges this host started as requester, one stream each
	SyncRequests      uint64 `json:"sync_requests"`       // request frames it sent: one round trip each
	SyncFrames        uint64 `json:"sync_frames"`         // events frames it received
	SyncEvents        uint64 `json:"sync_events"`         // events received by sync that the Handler stored or already had
	SyncHeld          uint64 `json:"sync_held"`           // of SyncEvents, those the node held already when they arrived
	SyncParked        uint64 `json:"sync_parked"`         // events received by sync whose dependencies were unknown
	SyncRefused       uint64 `json:"sync_refused"`        // rooms responders refused to serve this host
	SyncServed        uint64 `json:"sync_served"`         // requests this host answered
	SyncServedRemoval uint64 `json:"sync_served_removal"` // rooms it served to a node no longer in them, up to that node's removal
	SyncMisbehaved    uint64 `json:"sync_misbehaved"`     // sync streams reset because the peer sent a bad frame or event, or cut a frame short
	SyncStalled       uint64 `json:"sync_stalled"`        // sync streams reset because the peer let a read or write wait past SyncTimeout

	QuotaDroppedEvents uint64 `json:"quota_dropped_events"` // events dropped because the partner that sent them was over its daily quota
	QuotaDroppedRooms  uint64 `json:"quota_dropped_rooms"`  // rooms not pulled because the partner that named them was over its daily quota

	RefusedConns         uint64 `json:"refused_conns"`         // connections and dials refused: not a partner
	RefusedSubscriptions uint64 `json:"refused_subscriptions"` // peers' subscriptions dropped: their node does not share the room
	Reannounced          uint64 `json:"reannounced"`           // subscriptions announced again on a peer's request
	TopicMoves           uint64 `json:"topic_moves"`           // moves to a room's new topic after its member nodes changed

	// Rooms counts, per room joined since New, the gossip of the room's
	// topic that came from peers.
	Rooms map[protocol.RoomID]RoomStats `json:"rooms"`
}

// RoomStats counts one room's gossip from peers.
type RoomStats struct {
	Received  uint64 `json:"received"`  // messages of its topic that arrived, duplicates included
	Validated uint64 `json:"validated"` // messages passed to its validator
	Accepted  uint64 `json:"accepted"`  // … that the Handler stored or already had
}

type stats struct {
	gossipReceived, gossipAccepted, gossipRejected, gossipIgnored       atomic.Uint64
	gossipOrphaned, gossipAdopted, gossipSoftFailed, gossipNotMember    atomic.Uint64
	gossipDuplicates, gossipDropped, gossipSendDropped, gossipNotStored atomic.Uint64
	syncRounds, syncRequests, syncFrames, syncEvents, syncParked        atomic.Uint64
	syncRefused, syncServed, syncMisbehaved, syncServedRemoval          atomic.Uint64
	syncHeld, acceptBatches, sigBatches                                 atomic.Uint64
	syncStalled, quotaDroppedEvents, quotaDroppedRooms                  atomic.Uint64
	refusedConns, refusedSubs, reannounced, topicMoves                  atomic.Uint64

	// mu guards rooms; the counters in it are atomic.
	mu    sync.RWMutex
	rooms map[protocol.RoomID]*roomCounters
}

type roomCounters struct{ received, validated, accepted atomic.Uint64 }

// room returns id's counters, adding them if new.
func (s *stats) room(id protocol.RoomID) *roomCounters {
	if rc := s.lookup(id); rc != nil {
		return rc
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := s.rooms[id]
	if rc == nil {
		rc = new(roomCounters)
		s.rooms[id] = rc
	}
	return rc
}

// lookup returns id's counters, or nil if the room was never joined.
func (s *stats) lookup(id protocol.RoomID) *roomCounters {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rooms[id]
}

// Stats returns a snapshot of the host's counters.
func (h *Host) Stats() Stats {
	s := &h.stats
	out := Stats{
		GossipReceived: s.gossipReceived.Load(), GossipAccepted: s.gossipAccepted.Load(),
		GossipRejected: s.gossipRejected.Load(), GossipIgnored: s.gossipIgnored.Load(),
		GossipOrphaned: s.gossipOrphaned.Load(), GossipAdopted: s.gossipAdopted.Load(),
		GossipDuplicates: s.gossipDuplicates.Load(), GossipDropped: s.gossipDropped.Load(),
		GossipSendDropped: s.gossipSendDropped.Load(), GossipBatches: s.acceptBatches.Load(), GossipSigBatches: s.sigBatches.Load(),
		GossipSoftFailed: s.gossipSoftFailed.Load(), GossipNotMember: s.gossipNotMember.Load(),
		GossipNotStored:   s.gossipNotStored.Load(),
		SyncServedRemoval: s.syncServedRemoval.Load(),
		SyncRounds:        s.syncRounds.Load(), SyncRequests: s.syncRequests.Load(), SyncFrames: s.syncFrames.Load(),
		SyncEvents: s.syncEvents.Load(), SyncHeld: s.syncHeld.Load(), SyncParked: s.syncParked.Load(), SyncRefused: s.syncRefused.Load(),
		SyncServed: s.syncServed.Load(), SyncMisbehaved: s.syncMisbehaved.Load(), SyncStalled: s.syncStalled.Load(),
		QuotaDroppedEvents: s.quotaDroppedEvents.Load(), QuotaDroppedRooms: s.quotaDroppedRooms.Load(),
		RefusedConns: s.refusedConns.Load(), RefusedSubscriptions: s.refusedSubs.Load(),
		Reannounced: s.reannounced.Load(), TopicMoves: s.topicMoves.Load(),
		Rooms: map[protocol.RoomID]RoomStats{},
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, rc := range s.rooms {
		out.Rooms[id] = RoomStats{Received: rc.received.Load(), Validated: rc.validated.Load(), Accepted: rc.accepted.Load()}
	}
	return out
}
