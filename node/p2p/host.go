package p2p

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	yamux "github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Handler is what the node engine gives the network layer. Its methods are
// called concurrently, some from pubsub's event loop (see the package
// comment for what they must not do).
type Handler interface {
	// Shares reports whether peer's node hosts a member of room now, so it
	// may receive room's gossip (subscribe to its topic, be grafted, be sent
	// or forwarded its messages) and send it: the validator rejects a
	// message received from a peer whose node does not share the room.
	// Cheap; called on every routing decision.
	Shares(peer protocol.NodeID, room protocol.RoomID) bool
	// Scope says how much of room peer's node may receive by sync: all of
	// it if it hosts a member now (Shares); only the events that removed
	// its accounts and their ancestors if it hosted members before and
	// hosts none now, so that it learns its removal and nothing after; and
	// nothing if it never hosted one. The host serves a sync request
	// accordingly, and lists the room as refused unless Scope.All.
	Scope(ctx context.Context, peer protocol.NodeID, room protocol.RoomID) (Scope, error)
	// Accept validates and durably stores events of room received from
	// peer (by gossip: one event; by sync: a batch in the order the sender
	// sent, parents first). The host has decoded every event with
	// protocol.Decode, which checked its shape and signature, and checked
	// it belongs to room, so Accept need not do either again. It returns one
	// error per event: nil for stored-or-already-had, an error wrapping
	// ErrSoftFailed for an event stored (or already held) that the node
	// hides and must not be relayed, a *protocol.MissingError (errors.As)
	// when the event's parents are unknown (not the peer's fault: the host
	// syncs that room with that peer), an error wrapping one of protocol's
	// decoding or room rule errors (protocol.ErrRule, ErrBadParents, …)
	// or ErrInvalid = the event is invalid (the host rejects it, counts it,
	// and for gossip tells pubsub ValidationReject; for sync, resets the
	// stream), and any other error, ErrNotStored included, = the node
	// could not take it in, which is not the peer's fault (gossip ignores
	// the event, a pull ends without blaming the peer). Accept is also called for a room the node holds
	// nothing of, when a partner named that room in a sync request: the
	// partner believes one of the node's accounts was added to it, and the
	// host pulled the room. The node decides whether to keep it; valid
	// events it declines to keep should get nil, not an error, since the
	// peer did nothing wrong.
	Accept(ctx context.Context, from protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) []error
	// Have returns what the node holds of room, as a sync request names
	// it: the room, its current heads (at most protocol.MaxSyncHeads),
	// possibly followed by other events it holds there, which bound what a
	// partner's Missing resends when it knows none of the heads, and its
	// position on each origin's chain (protocol.SyncWant.Chains), if it has
	// them all within protocol.MaxSyncChains. No heads if it holds no such
	// room. The host sends it in sync requests, without the chains to a
	// partner that speaks only protocol.SyncProtocolV1.
	Have(ctx context.Context, room protocol.RoomID) (protocol.SyncWant, error)
	// Missing calls emit with the wire bytes of every event of have.Room
	// that peer's node, which holds have (its heads and chain positions,
	// from its Have), lacks, parents before children (ascending depth),
	// up to the node's heads, or, if until is not nil, only among the
	// events of until and their ancestors (Scope.Until). Unknown IDs in
	// have and until are ignored. The node may send peer an event in a
	// redacted form (the room's history visibility: peer's node hosted no
	// member when it was made). If emit returns an error, Missing stops
	// and returns it. emit copies wire: Missing may reuse the buffer once
	// emit returns. emit writes to the network, so it may block for up to
	// SyncTimeout.
	Missing(ctx context.Context, peer protocol.NodeID, have protocol.SyncWant, until []protocol.EventID, emit func(wire []byte) error) error
	// Rooms returns the rooms this node hosts members of, each with the
	// nodes that host its members now, this node included: the host
	// subscribes to their topics at start (the nodes name the topic; see
	// protocol.Topic) and syncs each with the partners among its nodes.
	Rooms(ctx context.Context) (map[protocol.RoomID][]protocol.NodeID, error)
	// Held reports, for each of ids, whether the node holds that event.
	// The host skips held events of a sync answer before checking their
	// signatures, and a sync request whose heads are not all held means
	// the requester has events this node lacks: it pulls them back. links,
	// if not nil, has each event's links as its wire form gives them
	// (protocol.PeekLinks; a zero entry where they could not be read):
	// unchecked, the handler may use them only to tell sooner that an
	// event is not held.
	Held(ctx context.Context, ids []protocol.EventID, links []protocol.Links) []bool
}

// Scope is how much of a room a peer's node may receive by sync; see
// Handler.Scope. The zero Scope is nothing.
type Scope struct {
	// All: the peer's node hosts a member of the room now.
	All bool
	// Until, unless All, lists the events that removed the members the
	// peer's node had in the room: it may receive them and their
	// ancestors. Empty: it never hosted a member, and receives nothing.
	Until []protocol.EventID
}

// Config configures a Host. Identity and Handler are required; every other
// field's zero value means its default.
type Config struct {
	// Identity is the node's Ed25519 key. It is the libp2p identity, so
	// the host's ID is protocol.NodeIDFromKey of its public key.
	Identity ed25519.PrivateKey
	// Handler is the node engine.
	Handler Handler
	// Listen lists the multiaddrs to listen on.
	// Default: /ip4/0.0.0.0/tcp/4001 and /ip4/0.0.0.0/udp/4001/quic-v1.
	Listen []string
	// Partners lists the initial partners, each a multiaddr ending in
	// /p2p/<node id>, e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW… or
	// /ip4/192.0.2.7/udp/4001/quic-v1/p2p/12D3KooW…. Several addresses of
	// one partner may be given. The node persists its partners; the host
	// keeps them in memory only. Default: none.
	Partners []string
	// Logger receives the host's logs. Default: slog.Default().
	Logger *slog.Logger

	// SyncInterval is the mean time between two anti-entropy rounds with
	// each partner; every wait is drawn uniformly from ±50% of it.
	// Default: 30s.
	SyncInterval time.Duration
	// SyncTimeout bounds opening a sync stream and the wait for each of
	// its frames, either way. Default: 30s.
	SyncTimeout time.Duration
	// RedialMin and RedialMax bound the backoff between two dials of a
	// partner: it starts at RedialMin, doubles after each dial, is
	// jittered ±50%, and is reset by a successful sync round.
	// Default: 1s and 5m.
	RedialMin, RedialMax time.Duration
	// DialTimeout bounds one dial of a partner. Default: 15s.
	DialTimeout time.Duration

	// OutboundQueueSize is how many pubsub RPCs may wait to be written to
	// one peer before further ones are dropped (and counted). Pubsub's own
	// default of 32 drops messages when a user pastes a burst of messages
	// into a busy room; partners are few, so a deeper queue costs little.
	// Default: 256.
	OutboundQueueSize int
	// ValidateQueueSize is the length of pubsub's queue in front of the
	// validators; a message arriving when it is full is dropped (and
	// counted). Pubsub's default of 32 is meant for many cheap, in-memory
	// validations; ours end in a disk write. Default: 256.
	ValidateQueueSize int
	// ValidateConcurrency bounds the validations running at once, across
	// all rooms; over it, messages are dropped (and counted), and
	// anti-entropy repairs them later. Accept ends in the node's single
	// writer, so more would only queue there. Default: 256.
	ValidateConcurrency int
	// ValidateTimeout bounds one gossip validation (Handler.Accept of one
	// event included). Default: 10s.
	ValidateTimeout time.Duration
	// Quota bounds what each partner may make this node take in per day;
	// see Quota for the defaults of its zero fields.
	Quota Quota

	// OrphanWait is how long a gossip event whose parents are unknown
	// waits for them to arrive by gossip before a sync of its room with
	// the peer it came from is scheduled. Default: 200ms.
	OrphanWait time.Duration
	// SeenTTL is how long pubsub remembers the ID of a message it has
	// seen (published, or received from a peer), to drop copies of it
	// unvalidated and unforwarded. Pubsub keeps two maps of them (seen and
	// delivered), about 100 bytes an event in all, which the host sweeps
	// every 2 s (seen.go; pubsub itself does once a minute), so they hold
	// the node's event rate times SeenTTL plus 2 s: 7–8 MB of a posting
	// node's heap at 1,600 posts/s with 15 s, 11–14 MB with 30 s, where
	// pubsub's own TTL of 2 minutes and sweep once a minute took 43 MB at
	// 1,300 (docs/PERFORMANCE.md, issue 22).
	// A copy arriving after it is validated again (a signature check and
	// a store read; the store keeps one copy of each event, by ID) and
	// forwarded once more to the mesh. Copies come only from peers'
	// forwards, each within ValidateTimeout of receipt, and their message
	// caches, which gossip about 3 s and serve 5 s of messages: so SeenTTL
	// is at least ValidateTimeout plus 5 s. Default: 15s (DefaultSeenTTL),
	// the least that allows with the default ValidateTimeout, or
	// ValidateTimeout plus 5 s if more.
	SeenTTL time.Duration

	// LossForTest, if set, is asked about every gossip message from a peer
	// before it is validated: drop loses it (it is not accepted or
	// forwarded; sync must repair it), duplicate hands it to the Handler
	// twice. Tests use it to make gossip lossy. Default: nil.
	LossForTest func() (drop, duplicate bool)
	// Blobs serves file bytes to partners over blob streams (blob.go).
	// Default: nil, the host serves none.
	Blobs BlobServer
}

// Defaults of Config.
const (
	DefaultSyncInterval        = 30 * time.Second
	DefaultSyncTimeout         = 30 * time.Second
	DefaultRedialMin           = time.Second
	DefaultRedialMax           = 5 * time.Minute
	DefaultDialTimeout         = 15 * time.Second
	DefaultOutboundQueueSize   = 256
	DefaultValidateQueueSize   = 256
	DefaultValidateConcurrency = 256
	DefaultValidateTimeout     = 10 * time.Second
	DefaultOrphanWait          = 200 * time.Millisecond
	DefaultSeenTTL             = 15 * time.Second
)

// DefaultListen is the default of Config.Listen.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"}

// Errors returned by Host methods.
var (
	// ErrNotRunning: the call needs Run to be running.
	ErrNotRunning = errors.New("p2p host not running")
	// ErrNotJoined: Publish in a room the host has not joined.
	ErrNotJoined = errors.New("room not joined")
	// ErrNotPartner: the peer is not a partner.
	ErrNotPartner = errors.New("not a partner")
	// ErrUnreachable: a partner was added but could not be dialed yet;
	// the host keeps redialing it.
	ErrUnreachable = errors.New("partner unreachable")
	// ErrRefused: the peer refused to sync a room with this node.
	ErrRefused = errors.New("sync refused")
	// ErrMisbehaved: the peer sent a bad frame or event on a sync stream,
	// which was reset.
	ErrMisbehaved = errors.New("peer misbehaved")
	// ErrSoftFailed, from Handler.Accept, marks a valid event the node
	// stored (or held already) but hides from its users and does not
	// pass on: its author was not a member of the room when the node
	// applied it. The host counts it as stored, but tells pubsub to
	// ignore it, so that gossip does not forward it.
	ErrSoftFailed = errors.New("event stored but soft-failed")
	// ErrNotStored, from Handler.Accept, marks an event the node could
	// not take in for a reason of its own, such as a full disk: not the
	// peer's fault. Gossip ignores it (no penalty; sync brings it later),
	// and a sync pull ends without blaming the peer. Any error of Accept
	// that does not say the event is invalid is taken the same way.
	ErrNotStored = errors.New("node could not store the event")
	// ErrOverQuota: a pull ended because the peer sent more than its
	// daily Quota allows.
	ErrOverQuota = errors.New("partner over its daily quota")
	// ErrInvalid, from Handler.Accept, marks an event the node finds
	// invalid for a reason of its own, beyond protocol's decoding checks
	// and room rules, which blame the peer already.
	ErrInvalid = errors.New("invalid event")
)

// Host is a node's libp2p host. Make one with New, start it with Run.
type Host struct {
	cfg      Config
	log      *slog.Logger
	handler  Handler
	key      crypto.PrivKey
	self     peer.ID
	id       protocol.NodeID
	listen   []ma.Multiaddr
	stats    stats
	events   inflight
	acceptQs acceptQueues
	sigs     sigChecks
	orphans  orphanage
	slots    slots // sync answers being sent
	pulling  pullGate
	quota    *quotas
	health   healths // per partner: sync rounds, last seen

	blobs blobStats // blob streams (blob.go)

	started   atomic.Bool
	ready     chan struct{} // closed once listening, or when Run returns
	readyOnce sync.Once
	kick      chan struct{} // cap 1: wakes Run to start new partners' loops

	// mu guards the fields below. It is never held while calling libp2p,
	// pubsub or the Handler. Lock order: joinMu, then mu.
	mu       sync.Mutex
	lh       host.Host // while Run runs
	partners map[peer.ID]*partner
	closing  bool           // Run is returning: no new callbacks
	calls    sync.WaitGroup // callbacks from libp2p in flight; see enter

	// joinMu serializes Join, Leave and re-announcements, and guards
	// the fields below.
	joinMu sync.Mutex
	ps     *pubsub.PubSub // while Run runs
	rooms  map[protocol.RoomID]*room
}

// New checks cfg and returns a Host. It starts nothing; see Run.
func New(cfg Config) (*Host, error) {
	if len(cfg.Identity) != ed25519.PrivateKeySize {
		return nil, errors.New("p2p: config: Identity is not an Ed25519 private key")
	}
	if cfg.Handler == nil {
		return nil, errors.New("p2p: config: no Handler")
	}
	if cfg.Listen == nil {
		cfg.Listen = DefaultListen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	setDefault(&cfg.SyncInterval, DefaultSyncInterval)
	setDefault(&cfg.SyncTimeout, DefaultSyncTimeout)
	setDefault(&cfg.RedialMin, DefaultRedialMin)
	setDefault(&cfg.RedialMax, DefaultRedialMax)
	setDefault(&cfg.DialTimeout, DefaultDialTimeout)
	setDefault(&cfg.OutboundQueueSize, DefaultOutboundQueueSize)
	setDefault(&cfg.ValidateQueueSize, DefaultValidateQueueSize)
	setDefault(&cfg.ValidateConcurrency, DefaultValidateConcurrency)
	setDefault(&cfg.ValidateTimeout, DefaultValidateTimeout)
	setDefault(&cfg.OrphanWait, DefaultOrphanWait)
	setDefault(&cfg.SeenTTL, max(DefaultSeenTTL, cfg.ValidateTimeout+gossipHistory()))
	for _, d := range []time.Duration{cfg.SyncInterval, cfg.SyncTimeout, cfg.RedialMin, cfg.RedialMax, cfg.DialTimeout, cfg.ValidateTimeout, cfg.OrphanWait, cfg.SeenTTL} {
		if d < 0 {
			return nil, fmt.Errorf("p2p: config: negative duration %v", d)
		}
	}
	if least := cfg.ValidateTimeout + gossipHistory(); cfg.SeenTTL < least {
		return nil, fmt.Errorf("p2p: config: SeenTTL %v is below ValidateTimeout plus pubsub's message history, %v", cfg.SeenTTL, least)
	}
	if cfg.OutboundQueueSize < 0 || cfg.ValidateQueueSize < 0 || cfg.ValidateConcurrency < 0 {
		return nil, errors.New("p2p: config: negative queue size")
	}
	if cfg.RedialMax < cfg.RedialMin {
		return nil, fmt.Errorf("p2p: config: RedialMax %v is below RedialMin %v", cfg.RedialMax, cfg.RedialMin)
	}

	key, err := crypto.UnmarshalEd25519PrivateKey(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("p2p: config: identity: %w", err)
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("p2p: config: identity: %w", err)
	}
	id := protocol.NodeIDFromKey(cfg.Identity.Public().(ed25519.PublicKey))
	if self.String() != string(id) {
		return nil, fmt.Errorf("p2p: config: libp2p peer ID %s differs from node ID %s", self, id)
	}
	h := &Host{
		cfg: cfg, log: cfg.Logger, handler: cfg.Handler, key: key, self: self, id: id,
		ready: make(chan struct{}), kick: make(chan struct{}, 1),
		partners: map[peer.ID]*partner{}, rooms: map[protocol.RoomID]*room{},
		quota: newQuotas(cfg.Quota, cfg.Logger),
	}
	h.stats.rooms = map[protocol.RoomID]*roomCounters{}
	h.events.m = map[protocol.EventID]*flight{}
	for _, s := range cfg.Listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: config: listen address %q: %w", s, err)
		}
		h.listen = append(h.listen, a)
	}
	for _, s := range cfg.Partners {
		info, err := h.parsePartner(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: config: %w", err)
		}
		h.addPartnerLocked(info)
	}
	return h, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// ID returns the host's node ID, its libp2p peer ID.
func (h *Host) ID() protocol.NodeID { return h.id }

// Ready returns a channel closed once Run listens, or once Run has
// returned without listening (then Addrs is empty).
func (h *Host) Ready() <-chan struct{} { return h.ready }

// Addrs returns the host's listen addresses as full multiaddrs ending in
// /p2p/<node id>, which partners can dial, or nil when Run is not
// listening. An unspecified listen address (0.0.0.0) is expanded to the
// machine's interface addresses.
func (h *Host) Addrs() []string {
	lh := h.host()
	if lh == nil {
		return nil
	}
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.self, Addrs: lh.Addrs()})
	if err != nil {
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func (h *Host) host() host.Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lh
}

// Run listens, joins the topics of Handler.Rooms and of rooms joined
// before, dials the partners and keeps them connected and in sync until
// ctx ends. It returns nil then, after every goroutine it started has
// exited, and an error if the host cannot start. Run may be called once.
func (h *Host) Run(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("p2p: Run called twice")
	}
	defer h.readyOnce.Do(func() { close(h.ready) })
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var loops sync.WaitGroup
	stop, err := h.start(ctx, &loops)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		stop()
	}()
	h.readyOnce.Do(func() { close(h.ready) })
	for {
		h.startPartners(ctx, &loops)
		select {
		case <-ctx.Done():
			return nil
		case <-h.kick:
		}
	}
}

// start is the first half of Run: it starts the libp2p host and pubsub,
// serves sync streams, joins the topics of Handler.Rooms and of rooms
// joined before, and starts the orphan sweeper in loops. On success it
// returns stop, the second half, which Run calls once ctx is cancelled:
// it refuses new callbacks, waits for loops (every goroutine Run started
// with ctx), closes the libp2p host and waits for the callbacks in
// flight. On failure start has undone what it did.
func (h *Host) start(ctx context.Context, loops *sync.WaitGroup) (stop func(), err error) {
	rm, err := newResourceManager()
	if err != nil {
		return nil, err
	}
	lh, err := libp2p.New(
		libp2p.Identity(h.key),
		libp2p.ListenAddrs(h.listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Muxer(yamux.ID, muxer()),
		libp2p.ConnectionGater((*gater)(h)),
		// The gater admits only partners, but a partner may be hostile:
		// each gets a bounded share of streams and memory (limits.go).
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(&connmgr.NullConnMgr{}),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		// Partners are dialed on purpose: never stop dialing UDP or IPv6
		// because other dials failed.
		libp2p.UDPBlackHoleSuccessCounter(nil),
		libp2p.IPv6BlackHoleSuccessCounter(nil),
		libp2p.UserAgent("horenso"),
	)
	if err != nil {
		rm.Close() // libp2p closes it only once the host exists
		return nil, fmt.Errorf("p2p: start host: %w", err)
	}
	// Pubsub and the sync stream handler live until stop, whichever of
	// Run's ctx or a failure below ends them.
	ctx, cancel := context.WithCancel(ctx)
	ps, err := pubsub.NewGossipSub(ctx, lh,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithSeenMessagesTTL(h.cfg.SeenTTL),
		// The origin sends its event to every subscriber it admitted, not
		// only to its mesh: partners are few, and a fresh mesh may still
		// be empty.
		pubsub.WithFloodPublish(true),
		pubsub.WithSubscriptionFilter((*subFilter)(h)),
		pubsub.WithPeerFilter(h.peerFilter),
		pubsub.WithRawTracer((*tracer)(h)),
		pubsub.WithPeerOutboundQueueSize(h.cfg.OutboundQueueSize),
		pubsub.WithValidateQueueSize(h.cfg.ValidateQueueSize),
		pubsub.WithValidateThrottle(h.cfg.ValidateConcurrency),
		pubsub.WithLogger(slog.New(quietTags{h.log.Handler()}).With("component", "pubsub")),
	)
	if err != nil {
		cancel()
		lh.Close()
		return nil, fmt.Errorf("p2p: start pubsub: %w", err)
	}

	undo := func() {
		cancel()
		h.mu.Lock()
		h.closing = true
		h.lh = nil
		h.mu.Unlock()
		loops.Wait()
		lh.RemoveStreamHandler(protocol.SyncProtocolID)
		lh.RemoveStreamHandler(protocol.SyncProtocolV1)
		lh.RemoveStreamHandler(protocol.BlobProtocolID)
		if err := lh.Close(); err != nil {
			h.log.Warn("close libp2p host", "err", err)
		}
		h.calls.Wait()
		h.joinMu.Lock()
		h.ps = nil
		for _, r := range h.rooms {
			r.topic, r.relay = nil, nil
		}
		h.joinMu.Unlock()
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()

	lh.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolID), func(s network.Stream) { h.serveSync(ctx, s) })
	lh.SetStreamHandler(libp2pproto.ID(protocol.SyncProtocolV1), func(s network.Stream) { h.serveSync(ctx, s) })
	lh.SetStreamHandler(libp2pproto.ID(protocol.BlobProtocolID), func(s network.Stream) { h.serveBlob(ctx, s) })
	lh.SetStreamHandler(libp2pproto.ID(protocol.VerifyProtocolID), func(s network.Stream) { h.serveVerify(ctx, s) })
	lh.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			h.health.seen(c.RemotePeer())
			h.connectedPartner(c.RemotePeer())
		},
		DisconnectedF: func(_ network.Network, c network.Conn) {
			h.health.seen(c.RemotePeer())
			h.wakePartner(c.RemotePeer())
		},
	})
	h.mu.Lock()
	h.lh = lh
	for _, p := range h.partners {
		lh.Peerstore().AddAddrs(p.id, p.addrs, peerstore.PermanentAddrTTL)
	}
	h.mu.Unlock()

	rooms, err := h.handler.Rooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("p2p: list rooms: %w", err)
	}
	h.joinMu.Lock()
	h.ps = ps
	for id, nodes := range rooms {
		if h.rooms[id] == nil {
			h.rooms[id] = &room{name: protocol.Topic(id, nodes), alone: h.alone(nodes)}
		}
	}
	for id, r := range h.rooms {
		if r.alone {
			continue
		}
		if err := h.activateLocked(id, r); err != nil {
			h.joinMu.Unlock()
			return nil, err
		}
	}
	h.joinMu.Unlock()
	loops.Go(func() { h.sweepOrphans(ctx) })
	if caches, err := seenCaches(ps); err != nil {
		h.log.Warn("pubsub's seen messages not reached; pubsub sweeps them once a minute", "err", err)
	} else {
		loops.Go(func() { sweepSeen(ctx, caches) })
	}
	h.log.Info("p2p host listening", "id", h.id, "addrs", h.Addrs(), "rooms", len(rooms))
	return undo, nil
}

// enter registers a callback from libp2p (a validator, a stream handler)
// so that Run waits for it; it reports false once Run is returning, and
// the callback must then give up. Every true is paired with leave.
func (h *Host) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || h.lh == nil {
		return false
	}
	h.calls.Add(1)
	return true
}

func (h *Host) leave() { h.calls.Done() }

// jitter returns d scaled by a uniform factor in [0.5, 1.5).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

func nodeID(p peer.ID) protocol.NodeID { return protocol.NodeID(p.String()) }

// quietTags logs pubsub's "error bumping delivery tag" at debug level.
// Pubsub registers a topic's connection-manager tag when a topic is
// subscribed, but rooms are relayed, not subscribed (see gossip.go), so
// every delivered message would otherwise log a warning that means nothing.
type quietTags struct{ slog.Handler }

func (q quietTags) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && r.Message == "error bumping delivery tag" {
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietTags) WithAttrs(as []slog.Attr) slog.Handler { return quietTags{q.Handler.WithAttrs(as)} }
func (q quietTags) WithGroup(g string) slog.Handler       { return quietTags{q.Handler.WithGroup(g)} }
