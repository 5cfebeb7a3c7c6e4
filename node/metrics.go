package node

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// metrics are the node's Prometheus instruments that count as things
// happen. Everything the node counts already (Status, p2p.Stats, partner
// usage and health) is read when scraped instead, by collector: the
// counting stays in one place. All of them are safe for concurrent use
// and never block.
type metrics struct {
	publishedByType *prometheus.CounterVec // local events, by type
	posts           prometheus.Counter
	partnerEvents   *prometheus.CounterVec // events partners sent, by partner, result and reason
	commit          prometheus.Histogram   // store commit (fsync included) latency
	commitBatch     prometheus.Histogram   // Updates per commit
	webhooks        *prometheus.CounterVec // webhook deliveries, by result
	webhookTime     prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		publishedByType: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "horenso_events_published_total",
			Help: "Events this node made and stored, by event type."}, []string{"type"}),
		posts: prometheus.NewCounter(prometheus.CounterOpts{Name: "horenso_posts_total",
			Help: "Messages posted by this node's accounts."}),
		partnerEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "horenso_partner_events_total",
			Help: "Events partners sent (gossip or sync), by partner node, result (accepted, soft_failed, missing_parents, not_hosted, not_stored, refused) and, for refused ones, reason."},
			[]string{"partner", "result", "reason"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horenso_store_commit_seconds",
			Help:    "Time of one store commit, its fsync included (group commit: one per batch of Updates).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horenso_store_commit_updates",
			Help:    "Updates carried by one store commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "horenso_webhook_deliveries_total",
			Help: "Webhook deliveries, by result (see Node.ObserveWebhook)."}, []string{"result"}),
		webhookTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horenso_webhook_delivery_seconds",
			Help: "Time of one webhook delivery attempt.", Buckets: prometheus.DefBuckets}),
	}
}

// instruments lists the metrics' collectors.
func (m *metrics) instruments() []prometheus.Collector {
	return []prometheus.Collector{m.publishedByType, m.posts, m.partnerEvents, m.commit, m.commitBatch, m.webhooks, m.webhookTime}
}

// published counts an event the node made and stored.
func (m *metrics) published(e *protocol.Signed) {
	m.publishedByType.WithLabelValues(string(e.Type)).Inc()
	if e.Type == protocol.TypeMessagePost {
		m.posts.Inc()
	}
}

// committed observes one store commit (storage.Options.OnCommit).
func (m *metrics) committed(took time.Duration, updates int) {
	m.commit.Observe(took.Seconds())
	m.commitBatch.Observe(float64(updates))
}

// ObserveWebhook counts one webhook delivery attempt: result is one of a
// few fixed words ("delivered", "failed", "dropped", …; never a URL or
// anything a user chose, which would make a series each) and took its
// time. It never blocks.
func (n *Node) ObserveWebhook(result string, took time.Duration) {
	n.metrics.webhooks.WithLabelValues(result).Inc()
	n.metrics.webhookTime.Observe(took.Seconds())
}

// countPartnerEvents counts the results Accept returns to partner from.
func (m *metrics) countPartnerEvents(from protocol.NodeID, errs []error) {
	for _, err := range errs {
		result, reason := acceptResult(err)
		m.partnerEvents.WithLabelValues(string(from), result, reason).Inc()
	}
}

// acceptResult names the result of one partner event: a result and, for
// refused events, the reason, both from small fixed sets.
func acceptResult(err error) (result, reason string) {
	var miss *protocol.MissingError
	switch {
	case err == nil:
		return "accepted", ""
	case errors.Is(err, p2p.ErrSoftFailed):
		return "soft_failed", ""
	case errors.As(err, &miss):
		return "missing_parents", ""
	case errors.Is(err, p2p.ErrNotStored):
		return "not_stored", ""
	}
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return "refused", r.reason
		}
	}
	return "refused", "other"
}

// refusals name why a partner's event was refused, first match wins.
var refusals = []struct {
	err    error
	reason string
}{
	{protocol.ErrNotMember, "not_member"}, {protocol.ErrReadOnly, "read_only"}, {protocol.ErrNotAdmin, "not_admin"},
	{protocol.ErrNotAuthor, "not_author"}, {protocol.ErrNotAuthorOrAdmin, "not_author_or_admin"}, {protocol.ErrLastAdmin, "last_admin"}, {protocol.ErrRoomKind, "room_kind"},
	{protocol.ErrBadTarget, "bad_target"}, {protocol.ErrAlreadyMember, "already_member"}, {protocol.ErrRule, "rule"},
	{protocol.ErrBadParents, "bad_parents"}, {protocol.ErrWrongOrigin, "wrong_origin"},
	{protocol.ErrWrongVersion, "wrong_version"}, {protocol.ErrBadChain, "bad_chain"},
}

// MaxRoomSeries bounds the per-room series of horenso_room_unacked_events:
// the rooms most behind get one each, the rest are summed in room="other".
// Partners may create rooms at will; a scrape must not grow with them.
const MaxRoomSeries = 20

// Collector returns the node's Prometheus collector: the instruments
// that count as things happen, and, read from the node at each scrape,
// its status, network counters and partners' health. Register it once.
// A scrape reads every room (as Status and PartnerHealth do), bounded by
// scrapeTimeout.
func (n *Node) Collector() prometheus.Collector { return collector{n} }

const scrapeTimeout = 10 * time.Second

type collector struct{ n *Node }

var _ prometheus.Collector = collector{}

// Describe sends nothing: the collector is unchecked, since its partner
// and room series come and go.
func (collector) Describe(chan<- *prometheus.Desc) {}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	dUp            = desc("horenso_node_info", "The node: 1, with its ID and organization.", "node_id", "org")
	dStarted       = desc("horenso_node_start_time_seconds", "When the node started, unix seconds.")
	dAccounts      = desc("horenso_accounts", "Accounts of this node.")
	dRooms         = desc("horenso_rooms", "Rooms this node holds.")
	dEvents        = desc("horenso_events", "Events this node holds, over all rooms.")
	dEquivocations = desc("horenso_equivocations", "Events found to prove their origin signed two histories.")
	dHosting       = desc("horenso_hosting_refused_total", "Rooms and accounts partners named that the hosting rule refused.", "what")
	dDiskFree      = desc("horenso_disk_free_bytes", "Free space of the data directory's disk.")
	dDiskFull      = desc("horenso_disk_full", "1 while free space is below the floor and changes are refused.")
	dStoreSize     = desc("horenso_store_size_bytes", "Size of the store's files, by part (lsm, vlog).", "part")
	dCommits       = desc("horenso_store_commits_total", "Store transactions committed.")
	dWritten       = desc("horenso_store_written_bytes_total", "Keys and values the store wrote.")
	dWriterBusy    = desc("horenso_store_writer_busy_seconds_total", "Time the store's single writer spent running, committing and syncing batches of changes: a rate near 1 means changes queue for it.")
	dTooBig        = desc("horenso_store_too_big_total", "Updates refused as too big for one transaction.")
	dPageOuts      = desc("horenso_store_page_outs_total", "Times the store paged out its tables' data to keep its mapped files under their share of the memory limit.")
	dOverMapped    = desc("horenso_store_over_mapped_total", "Checks that found the mapped files above their share even after paging out the store's tables: a few during compactions; rising steadily, what must stay resident needs a larger memory limit.")
	dBlockCache    = desc("horenso_store_block_cache_reads_total", "Reads of table blocks, by whether the block cache served them (hit) or the block was read and decompressed from its table file (miss).", "result")
	dSplits        = desc("horenso_accept_splits_total", "Batches of partner events split because too big for one transaction.")
	dOutboxDropped = desc("horenso_outbox_dropped_total", "Publications dropped because the network outbox was full (partners get them by sync).")
	dGossip        = desc("horenso_gossip_messages_total", "Gossip messages from peers, by outcome.", "outcome")
	dGossipDropped = desc("horenso_gossip_dropped_total", "Gossip dropped by the pubsub queues, by queue (validate, send).", "queue")
	dOrphans       = desc("horenso_gossip_orphans_total", "Gossip events whose parents were unknown, by fate (parked, adopted, ignored).", "fate")
	dSync          = desc("horenso_sync_total", "Catch-up sync activity, by what was counted.", "what")
	dQuotaDropped  = desc("horenso_quota_dropped_total", "What partners sent over their daily quota and was dropped, by kind.", "kind")
	dRefused       = desc("horenso_refused_total", "Connections and subscriptions refused, by kind.", "kind")
	dPartners      = desc("horenso_partners", "Partner nodes.")
	dConnected     = desc("horenso_partners_connected", "Partner nodes connected now.")

	dPartnerInfo      = desc("horenso_partner_info", "A partner: 1, with its organization name.", "partner", "org")
	dPartnerUp        = desc("horenso_partner_connected", "1 if the partner is connected now.", "partner")
	dPartnerSeen      = desc("horenso_partner_last_seen_timestamp_seconds", "When the partner was last connected (now if it is); 0 if never since start.", "partner")
	dPartnerSynced    = desc("horenso_partner_last_sync_timestamp_seconds", "When the latest successful sync round with the partner ended; 0 if none since start.", "partner")
	dPartnerRounds    = desc("horenso_partner_sync_rounds_total", "Sync rounds this node started with the partner.", "partner")
	dPartnerFailed    = desc("horenso_partner_sync_failures_total", "Sync rounds with the partner that failed.", "partner")
	dPartnerRooms     = desc("horenso_partner_rooms", "Rooms shared with the partner.", "partner")
	dPartnerUnacked   = desc("horenso_partner_unacked_events", "This node's events the partner has not acknowledged, over shared rooms: its lag.", "partner")
	dPartnerAcked     = desc("horenso_partner_acked_timestamp_seconds", "Time of the newest of this node's events the partner acknowledged.", "partner")
	dPartnerQuotaUsed = desc("horenso_partner_quota_events", "Events new to this node the partner sent in its current quota day.", "partner")
	dRoomUnacked      = desc("horenso_room_unacked_events", "This node's events a partner has not acknowledged in one room; the most behind rooms only (MaxRoomSeries), the rest summed in room=\"other\".", "partner", "room")
	dScrapeError      = desc("horenso_scrape_error", "1 if reading the node's state for this scrape failed (see the node's log).", "part")
)

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	for _, m := range n.metrics.instruments() {
		m.Collect(ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st, err := n.Status(ctx)
	gauge(dScrapeError, boolValue(err != nil), "status")
	if err != nil {
		n.log.Warn("metrics: read status", "err", err)
	} else {
		gauge(dUp, 1, string(st.NodeID), st.Org)
		gauge(dStarted, float64(st.Started.Unix()))
		gauge(dAccounts, float64(st.Accounts))
		gauge(dRooms, float64(st.Rooms))
		gauge(dEvents, float64(st.Events))
		gauge(dEquivocations, float64(st.Equivocations))
		gauge(dDiskFree, float64(st.DiskFree))
		gauge(dDiskFull, boolValue(st.DiskFull))
		gauge(dPartners, float64(st.Partners))
		gauge(dConnected, float64(st.Connected))
		counter(dCommits, st.Store.Commits)
		counter(dWritten, st.Store.WrittenBytes)
		ch <- prometheus.MustNewConstMetric(dWriterBusy, prometheus.CounterValue, st.Store.WriterBusy.Seconds())
		counter(dTooBig, st.Store.TooBig)
		counter(dPageOuts, st.Store.PageOuts)
		counter(dOverMapped, st.Store.OverMapped)
		counter(dBlockCache, st.Store.BlockCacheHits, "hit")
		counter(dBlockCache, st.Store.BlockCacheMisses, "miss")
		counter(dSplits, st.AcceptSplits)
		counter(dOutboxDropped, st.OutboxDropped)
		counter(dHosting, st.Hosting.RoomsRefused, "rooms")
		counter(dHosting, st.Hosting.GhostAccounts, "accounts")
		s := st.Network
		for _, o := range []struct {
			name string
			v    uint64
		}{{"received", s.GossipReceived}, {"accepted", s.GossipAccepted}, {"soft_failed", s.GossipSoftFailed},
			{"not_member", s.GossipNotMember}, {"not_stored", s.GossipNotStored}, {"rejected", s.GossipRejected},
			{"duplicate", s.GossipDuplicates}} {
			counter(dGossip, o.v, o.name)
		}
		counter(dGossipDropped, s.GossipDropped, "validate")
		counter(dGossipDropped, s.GossipSendDropped, "send")
		counter(dOrphans, s.GossipOrphaned, "parked")
		counter(dOrphans, s.GossipAdopted, "adopted")
		counter(dOrphans, s.GossipIgnored, "ignored")
		for _, o := range []struct {
			name string
			v    uint64
		}{{"rounds", s.SyncRounds}, {"requests", s.SyncRequests}, {"frames", s.SyncFrames}, {"events", s.SyncEvents}, {"held", s.SyncHeld},
			{"parked", s.SyncParked}, {"refused", s.SyncRefused}, {"served", s.SyncServed},
			{"served_removal", s.SyncServedRemoval}, {"misbehaved", s.SyncMisbehaved}, {"stalled", s.SyncStalled},
			{"reannounced", s.Reannounced}, {"topic_moves", s.TopicMoves}, {"answered_chains", st.SyncAnswers.Chains},
			{"answered_walk", st.SyncAnswers.Walk}, {"answered_whole", st.SyncAnswers.Whole}} {
			counter(dSync, o.v, o.name)
		}
		counter(dQuotaDropped, s.QuotaDroppedEvents, "events")
		counter(dQuotaDropped, s.QuotaDroppedRooms, "rooms")
		counter(dRefused, s.RefusedConns, "connections")
		counter(dRefused, s.RefusedSubscriptions, "subscriptions")
	}
	lsm, vlog := n.store.Size()
	gauge(dStoreSize, float64(lsm), "lsm")
	gauge(dStoreSize, float64(vlog), "vlog")

	hs, err := n.partnerHealth(ctx)
	gauge(dScrapeError, boolValue(err != nil), "partners")
	if err != nil {
		n.log.Warn("metrics: read partner health", "err", err)
		return
	}
	var lags []partnerLag
	for _, h := range hs {
		id := string(h.ID)
		gauge(dPartnerInfo, 1, id, h.Org)
		gauge(dPartnerUp, boolValue(h.Connected), id)
		gauge(dPartnerSeen, unixSeconds(h.Health.LastSeen), id)
		gauge(dPartnerSynced, unixSeconds(h.Health.LastSync), id)
		counter(dPartnerRounds, h.Health.SyncRounds, id)
		counter(dPartnerFailed, h.Health.SyncFailed, id)
		gauge(dPartnerRooms, float64(h.Rooms), id)
		gauge(dPartnerUnacked, float64(h.Unacked), id)
		gauge(dPartnerAcked, float64(h.Acked)/1000, id)
		gauge(dPartnerQuotaUsed, float64(h.Usage.Events), id)
		for _, l := range h.Behind {
			lags = append(lags, partnerLag{id, l})
		}
	}
	top, other := roomSeries(lags, MaxRoomSeries)
	for _, l := range top {
		gauge(dRoomUnacked, float64(l.Unacked), l.partner, l.Room.String())
	}
	for p, v := range other {
		gauge(dRoomUnacked, float64(v), p, "other")
	}
}

// partnerLag is one partner's lag in one room.
type partnerLag struct {
	partner string
	RoomLag
}

// roomSeries picks the at most max lags that get a series of their own,
// the most behind first, and sums the rest per partner.
func roomSeries(lags []partnerLag, max int) (top []partnerLag, other map[string]uint64) {
	slices.SortFunc(lags, func(a, b partnerLag) int {
		return cmp.Or(cmp.Compare(b.Unacked, a.Unacked), cmp.Compare(a.partner, b.partner), cmp.Compare(a.Alias, b.Alias))
	})
	other = map[string]uint64{}
	for i, l := range lags {
		if i < max {
			top = append(top, l)
		} else {
			other[l.partner] += l.Unacked
		}
	}
	return top, other
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
