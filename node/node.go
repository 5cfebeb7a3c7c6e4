// Package node is a running Horenso node: the engine that keeps an
// organization's accounts, rooms, messages and tasks. Every change becomes
// a signed room event, is checked by the room rules in package protocol,
// and is stored through package storage. Admin tools reach a running node
// through its control socket, which package node/control serves.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/errgroup"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Config configures a Node. Only DataDir is required.
type Config struct {
	// DataDir holds the node's identity key, settings and store (and the
	// control socket, which package node/control serves). It must have
	// been set up by Init.
	DataDir string
	// Logger receives the node's logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock for event times. Default: time.Now.
	Now func() time.Time
	// Listen lists the libp2p multiaddrs partner nodes connect to, e.g.
	// /ip4/0.0.0.0/tcp/4001 and /ip4/0.0.0.0/udp/4001/quic-v1.
	// Default: /ip4/127.0.0.1/tcp/0 (loopback, a free port), so a node
	// embedded in a test never exposes itself; `horenso run` passes its
	// --listen flag.
	Listen []string
	// SyncInterval is the mean time between two catch-up sync rounds with
	// each partner. Default: 30s.
	SyncInterval time.Duration
	// MinFreeDisk is the free space the data directory's disk must keep:
	// below it, the node refuses changes with ErrDiskFull, keeps serving
	// reads, and resumes by itself once space is freed. Default:
	// DefaultMinFreeDisk. Negative: not watched.
	MinFreeDisk int64
	// SessionIdle ends a web session that has not been used for this long.
	// Default: 14 days (DefaultSessionIdle).
	SessionIdle time.Duration
	// SessionMax ends a web session this long after it started, however
	// much it is used. Default: 90 days (DefaultSessionMax). API tokens of
	// bots (tokens not made by a login) never expire.
	SessionMax time.Duration
	// AckInterval is about how long the node waits, after another node's
	// event arrives in a room of version 2, before it acknowledges it
	// with a node.ack, if it has made no event there since that covers
	// it; rounds are jittered by ±1/8. Default: DefaultAckInterval (2s).
	// Negative: the node never sends acknowledgements (its other events
	// still acknowledge their past).
	AckInterval time.Duration
	// GossipSeenTTL is how long the node's gossip remembers the events it
	// has seen, to drop copies of them unvalidated (p2p.Config.SeenTTL:
	// the memory it takes grows with the event rate times this).
	// Default: DefaultGossipSeenTTL (15s).
	GossipSeenTTL time.Duration
	// SyncTimeout bounds each read and write of a sync stream: a partner
	// that sends a frame slower, or reads an answer's frame slower, has
	// its stream reset (counted as sync_stalled). Default: 30s.
	SyncTimeout time.Duration
	// PartnerRoomsPerDay, PartnerEventsPerDay and PartnerBytesPerDay are
	// each partner's daily quota: rooms this node holds nothing of that
	// the partner may have it pull, and events (and their bytes) new to
	// this node it may send. Over quota, what it sends is dropped and
	// counted. Defaults: 1,000 rooms, 1,000,000 events and 4 GiB a day
	// (see p2p.Quota). Negative: no limit.
	PartnerRoomsPerDay, PartnerEventsPerDay, PartnerBytesPerDay int64
	// RetentionInterval is about how long the retention job waits between
	// two rounds (jittered by ±1/8): each drops the text of the messages
	// past their room's retention (see docs/OPERATIONS.md). Default:
	// DefaultRetentionInterval (1h). Negative: never; messages then
	// expire only as they arrive from partners.
	RetentionInterval time.Duration
	// PurgeInterval is the least time between two purges of the store
	// (storage.Store.Purge), which the retention job runs after a delete,
	// edit or expiry dropped text, so that the text leaves the store's
	// files. Default: DefaultPurgeInterval (24h). Negative: never; the
	// text then leaves the files only as Badger compacts on its own.
	PurgeInterval time.Duration
	// Webhooks configures webhook delivery (webhooks.go). Default: the
	// zero WebhookConfig's defaults.
	Webhooks WebhookConfig
	// MaxFileSize bounds a file this node's people post. Default:
	// DefaultMaxFileSize (5 MB, ChatWork's API limit).
	MaxFileSize int64
	// AccountQuota bounds the bytes of the files one local account has
	// posted that still show. Default: DefaultAccountQuota (10 GiB).
	// Negative: no quota.
	AccountQuota int64
	// PartnerFiles is the organization's outbound policy for files in
	// rooms shared with other organizations. Default: the zero
	// FilePolicy, which allows every file the node accepts.
	PartnerFiles FilePolicy
	// EagerFetchMax: a partner's file up to this size is fetched as soon
	// as its post arrives; larger ones on first download. Default:
	// DefaultEagerFetchMax (1 MiB). Negative: every file on first
	// download.
	EagerFetchMax int64
	// MaxFetchSize bounds a file fetched from partners. Default:
	// DefaultMaxFetchSize (4 GiB).
	MaxFetchSize int64
	// Blobs selects where the bytes of files are kept: the data
	// directory, or an S3-compatible bucket (blobstore.go, s3.go,
	// docs/OPERATIONS.md). Default: the data directory.
	Blobs BlobConfig
	// Backup configures continuous backups for point-in-time recovery
	// (pitr.go, docs/OPERATIONS.md). Default: off.
	Backup BackupConfig
	// Standby configures a standby pair: this node's standby, or the
	// primary this node is a standby of (standby.go, docs/OPERATIONS.md).
	// Default: no standby.
	Standby StandbyConfig
	// Memory bounds the node's memory and sizes the store's caches
	// (memory.go). Default: the zero MemoryConfig's defaults, a 200 MiB
	// bound.
	Memory MemoryConfig
	// GossipLossForTest makes incoming gossip lossy (see
	// p2p.Config.LossForTest). Default: nil, no loss.
	GossipLossForTest func() (drop, duplicate bool)
}

// DefaultMinFreeDisk is Config.MinFreeDisk's default, 128 MiB: room for
// what the store writes on its own (see storage.DefaultMinFreeBytes).
const DefaultMinFreeDisk = storage.DefaultMinFreeBytes

// Defaults of Config, documented on its fields.
const (
	DefaultSessionIdle = 14 * 24 * time.Hour
	DefaultSessionMax  = 90 * 24 * time.Hour
)

// Settings are the node's persistent settings, kept in DataDir/node.json.
type Settings struct {
	Org string `json:"org"` // the organization's display name
}

// Files and directories inside a data directory.
const (
	identityFile = "identity.key"
	settingsFile = "node.json"
	storeDir     = "store"
)

// ErrNotInitialized is returned by New for a data directory Init has not
// set up.
var ErrNotInitialized = errors.New("data directory is not initialized")

// Init sets up a new data directory: an Ed25519 identity key (the node's
// libp2p identity and event signing key), settings naming org, and an
// empty store. It returns the node's ID. Init fails with ErrConflict if dir
// is already initialized.
func Init(dir, org string) (protocol.NodeID, error) {
	if org == "" {
		return "", fmt.Errorf("init %s: %w: organization name is empty", dir, ErrInvalid)
	}
	if _, err := os.Stat(filepath.Join(dir, identityFile)); err == nil {
		return "", fmt.Errorf("init %s: %w: data directory is already initialized", dir, ErrConflict)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("init %s: generate key: %w", dir, err)
	}
	settings, err := json.MarshalIndent(Settings{Org: org}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	if err := writeFileSync(filepath.Join(dir, settingsFile), append(settings, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	st, err := storage.Open(filepath.Join(dir, storeDir), storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	if err := st.Close(); err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	// The key is written last: its presence marks a complete data directory.
	if err := writeFileSync(filepath.Join(dir, identityFile), key.Seed(), 0o600); err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	return protocol.NodeIDFromKey(pub), nil
}

// Initialized reports whether Init has set up dir.
func Initialized(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, identityFile))
	return err == nil
}

func writeFileSync(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Node is a Horenso node. Its methods are safe for concurrent use.
type Node struct {
	cfg      Config
	log      *slog.Logger
	key      ed25519.PrivateKey
	id       protocol.NodeID
	settings Settings // guarded by settingsMu, which RenameOrg takes
	store    *storage.Store
	started  time.Time

	// settingsMu guards settings; it also serializes renames.
	settingsMu sync.RWMutex

	snapshots snapshotCache
	ownDepths *lru.Cache[protocol.EventID, uint64] // this node's events' depths, for receipts (receipts.go)
	// redacted is set when text was dropped since the last purge of the
	// store (runRetention).
	redacted        atomic.Bool
	appliedSets     bySnapshot[appliedSet]                   // protocol.Applied, for soft-fail
	chainAuthors    chainAuthors                             // who made each event of a chain, for soft-fail
	chainReads      atomic.Uint64                            // chain positions revisit read from the store
	resolvedApplied atomic.Uint64                            // applied's answers that resolved a whole control history
	memberLists     bySnapshot[[]Member]                     // a snapshot's members as Node.Room lists them
	passwords       *passwordPool                            // password hashing, a few at a time
	publishing      roomCount                                // local events being published, per room
	tips            *lru.Cache[protocol.RoomID, tip]         // rooms' tips after this node's last events, for early signing (events.go)
	aliases         *lru.Cache[aliasKey, []byte]             // room and account aliases resolved lately (aliases.go)
	auths           *lru.Cache[storage.TokenHash, authEntry] // tokens authenticated lately (accounts.go)
	avatars         avatarCache                              // local accounts' avatar versions (avatars.go)
	reaches         *lru.Cache[protocol.EventID, uint64]     // recent events' reach of this node's chain, for receipts (receipts.go)
	removalReaches  *lru.Cache[reachKey, reachAt]            // recent events' reach of removed accounts' chains (removalreach.go)
	reachWalks      atomic.Uint64                            // chainReach's answers that walked a removal's past
	acks            ackQueue                                 // rooms that may need an acknowledgement
	feed            feed
	nodes           roomNodes
	net             network
	catchUp         catchUp      // rooms to sync before changing them, after a restore
	hosting         hosting      // what the hosting rule refused
	hooks           hooks        // webhook delivery (webhookqueue.go)
	search          searcher     // the full-text index and its indexer (search.go)
	busy            atomic.Int64 // partner batches being taken in or served (partnerWork)
	lastBusy        atomic.Int64 // unix ns when the last one ended
	blobs           *blobs       // file bytes (files.go)
	fetcher         fetcher      // blobs to fetch and to collect (fetch.go)
	backups         backups      // continuous backups, for Status
	repl            replication  // the standby pair (standby.go)
	// acceptSplits counts partner batches split because they were too
	// big for one store transaction (acceptBatch).
	acceptSplits atomic.Uint64
	// answers counts the sync answers this node sent, by how it worked
	// out what the partner lacked (Missing).
	answers struct{ chains, walk, whole atomic.Uint64 }
	metrics *metrics // Prometheus instruments (metrics.go)

	closeOnce sync.Once
	closeErr  error
}

// New opens the node in cfg.DataDir: it loads the identity and settings
// and opens the store, which Badger locks until Close. New starts no
// goroutines of its own; Run serves the node.
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("new node: %w: no data directory", ErrInvalid)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionIdle < 0 || cfg.SessionMax < 0 {
		return nil, fmt.Errorf("new node: %w: negative session lifetime", ErrInvalid)
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	if cfg.AckInterval == 0 {
		cfg.AckInterval = DefaultAckInterval
	}
	if cfg.RetentionInterval == 0 {
		cfg.RetentionInterval = DefaultRetentionInterval
	}
	if cfg.PurgeInterval == 0 {
		cfg.PurgeInterval = DefaultPurgeInterval
	}
	cfg.Webhooks.setDefaults()
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.AccountQuota == 0 {
		cfg.AccountQuota = DefaultAccountQuota
	}
	if cfg.EagerFetchMax == 0 {
		cfg.EagerFetchMax = DefaultEagerFetchMax
	}
	if cfg.MaxFetchSize <= 0 {
		cfg.MaxFetchSize = DefaultMaxFetchSize
	}
	if !Initialized(cfg.DataDir) {
		return nil, fmt.Errorf("new node %s: %w", cfg.DataDir, ErrNotInitialized)
	}
	seed, err := os.ReadFile(filepath.Join(cfg.DataDir, identityFile))
	if err != nil {
		return nil, fmt.Errorf("new node: read identity: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("new node: identity key %s is corrupt", filepath.Join(cfg.DataDir, identityFile))
	}
	n := &Node{cfg: cfg, log: cfg.Logger, key: ed25519.NewKeyFromSeed(seed), started: cfg.Now()}
	// lru.New fails only for a size ≤ 0.
	n.tips, _ = lru.New[protocol.RoomID, tip](tipCacheRooms)
	n.aliases, _ = lru.New[aliasKey, []byte](aliasCacheEntries)
	n.auths, _ = lru.New[storage.TokenHash, authEntry](authCacheTokens)
	n.reaches, _ = lru.New[protocol.EventID, uint64](reachCacheEvents)
	n.removalReaches, _ = lru.New[reachKey, reachAt](removalReachEntries)
	n.ownDepths, _ = lru.New[protocol.EventID, uint64](ownDepthEvents)
	n.snapshots.recent.max, n.snapshots.recent.maxWeight = snapshotCacheSize, snapshotCacheBytes
	n.snapshots.current.max, n.snapshots.current.maxWeight = currentSnapshotRooms, currentSnapshotBytes
	n.snapshots.recent.weight, n.snapshots.current.weight = snapshotBytes, snapshotBytes
	n.appliedSets.max, n.appliedSets.maxWeight = 64, derivedCacheBytes
	n.appliedSets.weight = appliedWeight
	n.hosting.confirmations.max, n.hosting.confirmations.maxWeight = 256, derivedCacheBytes
	n.hosting.confirmations.weight = func(m map[protocol.AccountID]bool) int { return 100 * len(m) }
	n.memberLists.max, n.memberLists.maxWeight = 256, derivedCacheBytes
	n.memberLists.weight = func(ms []Member) int { return 120 * len(ms) }
	n.passwords = newPasswordPool()
	n.hooks = hooks{wake: make(chan struct{}, 1), client: newWebhookClient(cfg.Webhooks)}
	n.metrics = newMetrics()
	n.id = protocol.NodeIDFromKey(n.key.Public().(ed25519.PublicKey))
	if err := n.cfg.Backup.validate(n.id); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(cfg.DataDir, settingsFile))
	if err != nil {
		return nil, fmt.Errorf("new node: read settings: %w", err)
	}
	if err := json.Unmarshal(raw, &n.settings); err != nil {
		return nil, fmt.Errorf("new node: read settings: %w", err)
	}
	if n.cfg.Standby.PollEvery <= 0 {
		n.cfg.Standby.PollEvery = DefaultStandbyPollEvery
	}
	n.repl.promoted = make(chan struct{})
	budget, err := cfg.Memory.Budget()
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	storeOpt := budget.storeOptions()
	storeOpt.Logger, storeOpt.MinFreeBytes, storeOpt.Replica, storeOpt.OnCommit = cfg.Logger, cfg.MinFreeDisk, n.standby(), n.metrics.committed
	storeOpt.PageOutDirs = []string{filepath.Join(cfg.DataDir, searchDir)} // its segments are mapped, and grow with the store
	storeOpt.PageOutProgram = true                                         // most of its code serves only the start
	n.store, err = storage.Open(filepath.Join(cfg.DataDir, storeDir), storeOpt)
	if errors.Is(err, storage.ErrLocked) {
		return nil, fmt.Errorf("new node: %w (is another horenso running on %s?)", err, cfg.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.blobs, err = newBlobs(cfg.DataDir, cfg.Blobs, n.log); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("new node: %w", err)
	}
	n.fetcher.init()
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		n.cfg.Listen = cfg.Listen
	}
	if err := n.newNetwork(); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("new node: %w", err)
	}
	n.feed.grown = make(chan struct{})
	if err := n.store.View(func(tx *storage.Tx) error {
		n.feed.last, err = tx.LastChange()
		return err
	}); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.store.Dirty() {
		n.log.Warn("store was not closed cleanly; checking it")
		if err := n.repair(); err != nil {
			n.store.Close()
			return nil, fmt.Errorf("new node: repair: %w", err)
		}
	}
	if err := n.loadCatchUp(); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("new node: %w", err)
	}
	if err := n.openSearch(); err != nil {
		n.store.Close()
		return nil, fmt.Errorf("new node: %w", err)
	}
	return n, nil
}

// ID returns the node's ID, its libp2p peer ID.
func (n *Node) ID() protocol.NodeID { return n.id }

// Org returns the organization's display name.
func (n *Node) Org() string {
	n.settingsMu.RLock()
	defer n.settingsMu.RUnlock()
	return n.settings.Org
}

// Run serves the node until ctx ends, then returns nil once everything it
// started has stopped: the libp2p host (partners, gossip, catch-up sync)
// the network outbox, the acknowledgements, the retention job, webhook
// delivery, the search indexer and the blob fetcher (fetch.go). It returns an error if one of them cannot be
// served. Ready is closed once the node listens.
func (n *Node) Run(ctx context.Context) error {
	if n.standby() {
		// A standby only follows its primary: no libp2p, no jobs, no
		// signing. It returns ErrPromoted once promoted.
		return n.runStandby(ctx)
	}
	replicating, err := n.startPrimary(ctx)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if replicating {
		g.Go(func() error { return n.runPrimaryReplication(gctx) })
	}
	g.Go(func() error { return n.net.host.Run(gctx) })
	g.Go(func() error { return n.runOutbox(gctx) })
	if n.cfg.AckInterval > 0 {
		g.Go(func() error { return n.runAcks(gctx) })
	}
	if n.catchUp.pending != nil {
		g.Go(func() error { return n.runCatchUp(gctx) })
	}
	if n.cfg.RetentionInterval > 0 {
		g.Go(func() error { return n.runRetention(gctx) })
	}
	g.Go(func() error { return n.runWebhooks(gctx) })
	g.Go(func() error { return n.runIndexer(gctx) })
	g.Go(func() error { return n.runFiles(gctx) })
	g.Go(func() error { return n.runPartnerWatch(gctx) })
	g.Go(func() error { return n.runGCWatch(gctx) })
	if n.cfg.Backup.Dir != "" {
		g.Go(func() error { return n.runBackups(gctx) })
	}
	return g.Wait()
}

// Ready is closed once Run listens for partners (or has failed to).
func (n *Node) Ready() <-chan struct{} { return n.net.host.Ready() }

// Addrs returns the full libp2p addresses partners can add this node by
// (each ending in /p2p/<node ID>); empty until Ready.
func (n *Node) Addrs() []string { return n.net.host.Addrs() }

// newNetwork builds the node's libp2p host; it starts nothing.
func (n *Node) newNetwork() error {
	var partners []string
	err := n.store.View(func(tx *storage.Tx) error {
		ps, err := tx.Partners()
		for _, p := range ps {
			partners = append(partners, p.Addrs...)
		}
		return err
	})
	if err != nil {
		return err
	}
	n.net.outbox = make(chan outbound, outboxSize)
	n.net.host, err = p2p.New(p2p.Config{Identity: n.key, Handler: handler{n}, Listen: n.cfg.Listen,
		Partners: partners, Logger: n.log, SyncInterval: n.cfg.SyncInterval, SyncTimeout: n.cfg.SyncTimeout,
		SeenTTL:     n.cfg.GossipSeenTTL,
		Quota:       p2p.Quota{Rooms: n.cfg.PartnerRoomsPerDay, Events: n.cfg.PartnerEventsPerDay, Bytes: n.cfg.PartnerBytesPerDay},
		Blobs:       blobServer{n},
		LossForTest: n.cfg.GossipLossForTest})
	return err
}

// Close closes the search index and the store. Call it after Run has
// returned.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = errors.Join(n.closeSearch(), n.store.Close()) })
	return n.closeErr
}

// repair checks what a crash could have left behind. Every write is one
// atomic, synced transaction, so the store itself is consistent; repair
// verifies each room's heads and control state are present, and logs
// what it checked.
func (n *Node) repair() error {
	rooms := 0
	var bad error
	err := n.store.View(func(tx *storage.Tx) error {
		return tx.Rooms(func(r *storage.Room) bool {
			rooms++
			if _, err := tx.Snapshot(r.Control); err != nil {
				bad = fmt.Errorf("room %s: control state: %w", r.ID, err)
				return false
			}
			hs, err := tx.Heads(r.ID)
			if err == nil && len(hs) == 0 {
				err = errors.New("no heads")
			}
			for _, h := range hs {
				if ok, herr := tx.HasEvent(h.ID); herr != nil || !ok {
					err = fmt.Errorf("head %s missing", h.ID)
				}
			}
			if err != nil {
				bad = fmt.Errorf("room %s: %w", r.ID, err)
				return false
			}
			return true
		})
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return err
	}
	n.log.Info("store checked after unclean shutdown", "rooms", rooms)
	return nil
}
