package p2p

import (
	"log/slog"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Quota bounds what one partner may make this node take in per day, so
// that a buggy or hostile partner cannot fill its disk or keep its store
// writer busy: over quota, the host drops what the partner sends (gossip
// is ignored, a sync pull ends), counts it (Usage.Dropped,
// Stats.QuotaDroppedEvents and QuotaDroppedRooms) and logs it at most once
// a minute per partner. A day starts with the first charge after the
// previous one ended; usage is kept in memory, so a restart starts a new
// day. Zero fields mean their defaults; a negative field, no limit.
type Quota struct {
	// Rooms bounds the rooms this node holds nothing of that the partner
	// may have it pull (by naming them in a sync request: it believes one
	// of this node's accounts was added). Default: 1,000 a day.
	Rooms int64 `json:"rooms_per_day"`
	// Events bounds the events new to this node that the partner may
	// send, by gossip (the partner that relayed an event is charged for
	// it) or by sync; an event two partners, or gossip and sync, deliver
	// at once is charged once, to the first. Default: 1,000,000 a day.
	Events int64 `json:"events_per_day"`
	// Bytes bounds the wire bytes of those events. Default: 4 GiB a day.
	Bytes int64 `json:"bytes_per_day"`
}

// Defaults of Quota: well above what an honest partner sends in a day (a
// thousand people posting hundreds of messages each, with their
// acknowledgements), and well below what fills a disk or a day of a
// 2-core machine's store writer. A first catch-up of a long history may
// need more; raise them for it.
const (
	DefaultQuotaRooms  = 1_000
	DefaultQuotaEvents = 1_000_000
	DefaultQuotaBytes  = 4 << 30
)

// quotaDay is the length of a quota's day.
const quotaDay = 24 * time.Hour

// quotaLogEvery rate-limits the log of a partner over quota.
const quotaLogEvery = time.Minute

// Usage is one partner's use of its Quota in its current day, and what was
// dropped over quota since the host started.
type Usage struct {
	Since   time.Time `json:"since,omitzero"` // when its day started; zero if it has sent nothing
	Rooms   uint64    `json:"rooms"`
	Events  uint64    `json:"events"`
	Bytes   uint64    `json:"bytes"`
	Dropped uint64    `json:"dropped"` // events and rooms dropped over quota
}

// quotas keeps every partner's usage. Lock order: Host.mu, then mu.
type quotas struct {
	limit Quota
	log   *slog.Logger

	// mu guards m, the usage in it, and charged.
	mu sync.Mutex
	m  map[peer.ID]*usage
	// charged holds the events charged last, so that one that gossip and
	// a sync round (or two partners) deliver at once is charged once.
	charged recentIDs
}

// chargedWindow is how many of the events charged last are remembered:
// enough to cover the events in flight at once by gossip and sync.
const chargedWindow = 1 << 14

// recentIDs is a set of the last IDs added to it, at most chargedWindow.
type recentIDs struct {
	set  map[protocol.EventID]struct{}
	ring []protocol.EventID // in the order added; next is the oldest once full
	next int
}

func (r *recentIDs) has(id protocol.EventID) bool {
	_, ok := r.set[id]
	return ok
}

func (r *recentIDs) add(id protocol.EventID) {
	if r.set == nil {
		r.set = make(map[protocol.EventID]struct{})
	}
	if len(r.ring) < chargedWindow {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % chargedWindow
	}
	r.set[id] = struct{}{}
}

type usage struct {
	Usage
	logged time.Time // the last log of it being over quota
}

func newQuotas(q Quota, log *slog.Logger) *quotas {
	setDefault(&q.Rooms, DefaultQuotaRooms)
	setDefault(&q.Events, DefaultQuotaEvents)
	setDefault(&q.Bytes, DefaultQuotaBytes)
	return &quotas{limit: q, log: log, m: map[peer.ID]*usage{}}
}

// usageLocked returns p's usage, starting a new day if the last one is
// over.
func (q *quotas) usageLocked(p peer.ID, now time.Time) *usage {
	u := q.m[p]
	if u == nil {
		u = new(usage)
		q.m[p] = u
	}
	if now.Sub(u.Since) >= quotaDay {
		u.Since, u.Rooms, u.Events, u.Bytes = now, 0, 0, 0
	}
	return u
}

// over reports whether used+n passes limit; a negative limit is none.
func over(used, n uint64, limit int64) bool {
	return limit >= 0 && used+n > uint64(limit)
}

// takeEvents charges p with the events ids, of sizes wire bytes each,
// less those charged already (to p or to another partner: each event is
// charged once), and reports whether they fit in p's quota; if not,
// nothing is charged, they are counted as dropped and the caller must
// drop them.
func (q *quotas) takeEvents(p peer.ID, ids []protocol.EventID, sizes []int, stats *stats) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	var events, bytes uint64
	for i, id := range ids {
		if !q.charged.has(id) {
			events++
			bytes += uint64(sizes[i])
		}
	}
	if events == 0 {
		return true
	}
	now := time.Now()
	u := q.usageLocked(p, now)
	if over(u.Events, events, q.limit.Events) || over(u.Bytes, bytes, q.limit.Bytes) {
		u.Dropped += events
		stats.quotaDroppedEvents.Add(events)
		q.logLocked(p, u, now, "events")
		return false
	}
	u.Events += events
	u.Bytes += bytes
	for _, id := range ids {
		if !q.charged.has(id) {
			q.charged.add(id)
		}
	}
	return true
}

// takeRoom charges p with one room it has this node pull, as takeEvents.
func (q *quotas) takeRoom(p peer.ID, room protocol.RoomID, stats *stats) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	u := q.usageLocked(p, now)
	if over(u.Rooms, 1, q.limit.Rooms) {
		u.Dropped++
		stats.quotaDroppedRooms.Add(1)
		q.logLocked(p, u, now, "rooms", "room", room)
		return false
	}
	u.Rooms++
	return true
}

func (q *quotas) logLocked(p peer.ID, u *usage, now time.Time, what string, args ...any) {
	if now.Sub(u.logged) < quotaLogEvery {
		return
	}
	u.logged = now
	q.log.Warn("partner over its daily quota; dropping what it sends", append([]any{"peer", nodeID(p).Short(),
		"quota", what, "rooms", u.Rooms, "events", u.Events, "bytes", u.Bytes, "dropped", u.Dropped}, args...)...)
}

// get returns p's usage.
func (q *quotas) get(p peer.ID) Usage {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.m[p]
	if u == nil {
		return Usage{}
	}
	if time.Since(u.Since) >= quotaDay {
		return Usage{Dropped: u.Dropped}
	}
	return u.Usage
}

// Quota returns the quota every partner has.
func (h *Host) Quota() Quota { return h.quota.limit }
