// Package nodetest runs several real Horenso nodes in one test: each with
// its own Badger store in a temporary directory, a libp2p host on
// 127.0.0.1 and an HTTP API on a loopback port, all partnered with each
// other. Tests stop, restart and cut off nodes, and wait on conditions with
// Await. Only tests import it.
package nodetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/protocol"
)

// Options configure a Cluster. The zero value is the default.
type Options struct {
	// SyncInterval is each node's catch-up sync interval. Default: 2s, so
	// that tests relying on sync to repair loss finish quickly.
	SyncInterval time.Duration
	// SyncTimeout is each node's sync stream timeout (node.Config). Default:
	// the node's default, 30s.
	SyncTimeout time.Duration
	// NoPartners leaves the nodes unlinked; the test links them with Link.
	NoPartners bool
	// API is the HTTP API configuration of every node. Default: api.Config{}.
	API api.Config
	// Drop and Duplicate are the probabilities that a node loses, or
	// handles twice, a gossip message it receives. Default: 0.
	Drop, Duplicate float64
	// Now is every node's clock (node.Config.Now). Default: time.Now.
	Now func() time.Time
	// RetentionInterval and PurgeInterval are every node's retention job
	// intervals (node.Config). Default: the node's defaults.
	RetentionInterval, PurgeInterval time.Duration
	// Webhooks is every node's webhook configuration (node.Config).
	// Default: the node's defaults.
	Webhooks node.WebhookConfig
	// EagerFetchMax is every node's node.Config.EagerFetchMax: files up
	// to it are fetched from partners at once. Default: the node's.
	EagerFetchMax int64
	// MaxFileSize is every node's node.Config.MaxFileSize. Default: the
	// node's (5 MB).
	MaxFileSize int64
	// Backup turns on every node's continuous backups (node.Config.Backup),
	// into Node.BackupDir, with increments every 100ms and samples every
	// 10ms. Default: off.
	Backup bool
	// ReplicationSecret is every node's standby pair secret
	// (node.StandbyConfig.Secret), so that any node can get a standby
	// with Cluster.AddStandby. Default: "", no replication.
	ReplicationSecret string
	// Blobs, if set, gives each node's blob store configuration
	// (node.Config.Blobs) by the node's name (a, b, …); see StartS3.
	// Default: every node keeps its blobs in its data directory.
	Blobs func(name string) node.BlobConfig
	// Memory is every node's memory configuration (node.Config.Memory).
	// Default: the node's.
	Memory node.MemoryConfig
	// LogLevel is the least level of the nodes' logs that reach t.Log.
	// Benchmarks raise it (b.Log output is always printed).
	// Default: slog.LevelInfo.
	LogLevel slog.Level
}

// Cluster is a set of running nodes.
type Cluster struct {
	t     testing.TB
	opt   Options
	Nodes []*Node
}

// Node is one node of a cluster. The embedded *node.Node is replaced by
// Start, so tests must not keep it across restarts.
type Node struct {
	*node.Node
	Name string // a, b, c, …
	Org  string // "Org A", …
	Dir  string
	// BackupDir holds the node's continuous backups (Options.Backup).
	BackupDir string
	// URL is the base URL of the node's HTTP API, e.g. http://127.0.0.1:1234.
	URL string

	c      *Cluster
	listen string // the libp2p address, fixed across restarts
	http   string // the HTTP address, fixed across restarts
	// standbyOf is the primary's URL while the node is a standby.
	standbyOf string
	mu        sync.Mutex
	stop      func()      // stops Run and the HTTP server and closes the node; nil when stopped
	deaf      atomic.Bool // drop every gossip message received; see Deafen
}

// Deafen makes the node lose every gossip message it receives from now on,
// across restarts, as if the network dropped them; its pubsub still counts
// them as received. Catch-up sync still works.
func (nd *Node) Deafen() { nd.deaf.Store(true) }

// NewCluster starts n nodes named a, b, c, … and, unless opt.NoPartners,
// links every pair as partners. Everything is stopped when the test ends.
func NewCluster(t testing.TB, n int, opt Options) *Cluster {
	t.Helper()
	if opt.SyncInterval == 0 {
		opt.SyncInterval = 2 * time.Second
	}
	c := &Cluster{t: t, opt: opt}
	for i := range n {
		name := string(rune('a' + i))
		nd := &Node{Name: name, Org: "Org " + strings.ToUpper(name), Dir: filepath.Join(t.TempDir(), name), c: c,
			listen: "/ip4/127.0.0.1/tcp/0"}
		if opt.Backup {
			nd.BackupDir = filepath.Join(t.TempDir(), name+"-backups")
		}
		if _, err := node.Init(nd.Dir, nd.Org); err != nil {
			t.Fatalf("init node %s: %v", name, err)
		}
		nd.Start()
		c.Nodes = append(c.Nodes, nd)
	}
	t.Cleanup(func() {
		for _, nd := range c.Nodes {
			nd.Stop()
		}
	})
	if !opt.NoPartners {
		for i, x := range c.Nodes {
			for _, y := range c.Nodes[i+1:] {
				c.Link(x, y)
			}
		}
	}
	return c
}

// Unlink makes x and y stop being partners, cutting their connections: a
// partition until Link.
func (c *Cluster) Unlink(x, y *Node) {
	c.t.Helper()
	for _, pair := range [][2]*Node{{x, y}, {y, x}} {
		if err := pair[0].RemovePartner(context.Background(), pair[1].ID()); err != nil {
			c.t.Fatalf("unlink %s from %s: %v", pair[0].Name, pair[1].Name, err)
		}
	}
}

// Link makes x and y partners of each other.
func (c *Cluster) Link(x, y *Node) {
	c.t.Helper()
	for _, pair := range [][2]*Node{{x, y}, {y, x}} {
		if _, err := pair[0].AddPartner(context.Background(), pair[1].Addr()); err != nil {
			c.t.Fatalf("link %s to %s: %v", pair[0].Name, pair[1].Name, err)
		}
	}
}

// Addr returns the node's libp2p address, with its /p2p/ ID.
func (nd *Node) Addr() string {
	nd.c.t.Helper()
	addrs := nd.Addrs()
	if len(addrs) == 0 {
		nd.c.t.Fatalf("node %s has no address", nd.Name)
	}
	return addrs[0]
}

// Start starts a stopped node on its data directory and libp2p address.
func (nd *Node) Start() {
	t := nd.c.t
	t.Helper()
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.stop != nil {
		t.Fatalf("node %s is already running", nd.Name)
	}
	if nd.http == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		nd.http = ln.Addr().String()
		ln.Close()
	}
	ln, err := net.Listen("tcp", nd.http)
	if err != nil && nd.standbyOf == "" && nd.c.opt.ReplicationSecret == "" {
		// The port went to another socket meanwhile (an outgoing
		// connection may take a free port); only a standby pair needs
		// the same one, for its clients.
		t.Logf("node %s: listen on %s again: %v; taking another port", nd.Name, nd.http, err)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			nd.http = ln.Addr().String()
		}
	}
	if err != nil {
		t.Fatalf("node %s: listen on %s again: %v", nd.Name, nd.http, err)
	}
	cfg := nd.Config()
	log := cfg.Logger
	n, err := node.New(cfg)
	if err != nil {
		t.Fatalf("start node %s: %v", nd.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	if nd.standbyOf == "" { // a standby runs no libp2p host
		select {
		case <-n.Ready():
		case err := <-done:
			cancel()
			n.Close()
			ln.Close()
			t.Fatalf("node %s stopped: %v", nd.Name, err)
		}
	}
	// Keep the port across restarts, so partners' stored addresses hold.
	for _, a := range n.Addrs() {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			nd.listen = a[:strings.Index(a, "/p2p/")]
			break
		}
	}
	apiCfg := nd.c.opt.API
	apiCfg.Logger = log
	srv := httptest.NewUnstartedServer(api.New(n, apiCfg))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	nd.Node, nd.URL = n, srv.URL
	nd.stop = func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, node.ErrPromoted) {
			t.Errorf("node %s: run: %v", nd.Name, err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("node %s: close: %v", nd.Name, err)
		}
	}
}

// Config is the node.Config Start runs the node with.
func (nd *Node) Config() node.Config {
	log := slog.New(slog.NewTextHandler(testWriter{nd.c.t, nd.Name}, &slog.HandlerOptions{Level: nd.c.opt.LogLevel}))
	cfg := node.Config{DataDir: nd.Dir, Logger: log, Listen: []string{nd.listen}, SyncInterval: nd.c.opt.SyncInterval,
		SyncTimeout: nd.c.opt.SyncTimeout, Now: nd.c.opt.Now, RetentionInterval: nd.c.opt.RetentionInterval,
		PurgeInterval: nd.c.opt.PurgeInterval, Webhooks: nd.c.opt.Webhooks, EagerFetchMax: nd.c.opt.EagerFetchMax,
		MaxFileSize: nd.c.opt.MaxFileSize, Memory: nd.c.opt.Memory}
	if nd.c.opt.Blobs != nil {
		cfg.Blobs = nd.c.opt.Blobs(nd.Name)
	}
	if nd.BackupDir != "" {
		cfg.Backup = node.BackupConfig{Dir: nd.BackupDir, Every: 100 * time.Millisecond, SampleEvery: 10 * time.Millisecond}
	}
	if s := nd.c.opt.ReplicationSecret; s != "" {
		cfg.Standby = node.StandbyConfig{Secret: s, Of: nd.standbyOf, Self: "http://" + nd.http, PollEvery: 50 * time.Millisecond}
	}
	if o := nd.c.opt; o.Drop > 0 || o.Duplicate > 0 {
		cfg.GossipLossForTest = func() (bool, bool) {
			return nd.deaf.Load() || rand.Float64() < o.Drop, rand.Float64() < o.Duplicate
		}
	} else {
		cfg.GossipLossForTest = func() (bool, bool) { return nd.deaf.Load(), false }
	}
	return cfg
}

// AddStandby sets up and starts a standby of primary (node.InitStandby,
// as `horenso run --standby-of` does), named after it with a quote (a'),
// and adds it to the cluster's nodes. It needs Options.ReplicationSecret.
func (c *Cluster) AddStandby(primary *Node) *Node {
	c.t.Helper()
	if c.opt.ReplicationSecret == "" {
		c.t.Fatal("AddStandby needs Options.ReplicationSecret")
	}
	nd := &Node{Name: primary.Name + "'", Org: primary.Org, Dir: filepath.Join(c.t.TempDir(), primary.Name+"-standby"), c: c,
		listen: "/ip4/127.0.0.1/tcp/0", standbyOf: primary.URL}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	nd.http = ln.Addr().String()
	ln.Close()
	cfg := nd.Config()
	if err := node.InitStandby(c.t.Context(), nd.Dir, cfg.Standby); err != nil {
		c.t.Fatalf("standby of %s: %v", primary.Name, err)
	}
	nd.Start()
	c.Nodes = append(c.Nodes, nd)
	return nd
}

// Promote promotes the standby (node.Node.Promote) and starts it again as
// the primary, on the same HTTP address, as `horenso promote` does, and
// returns its new epoch.
func (nd *Node) Promote(force bool) uint64 {
	t := nd.c.t
	t.Helper()
	epoch, err := nd.Node.Promote(t.Context(), force)
	if err != nil {
		t.Fatalf("node %s: promote: %v", nd.Name, err)
	}
	nd.Stop()
	nd.standbyOf = ""
	nd.Start()
	return epoch
}

// Stop stops the node; its data stays. Stopping a stopped node does nothing.
func (nd *Node) Stop() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.stop != nil {
		nd.stop()
		nd.stop = nil
	}
}

// SaveBackup writes a backup of the running node (node.Node.Backup) to a new
// file in a temporary directory, and returns the file's path.
func (nd *Node) SaveBackup() string {
	t := nd.c.t
	t.Helper()
	path := filepath.Join(t.TempDir(), nd.Name+".backup")
	if _, err := nd.Node.Backup(t.Context(), path); err != nil {
		t.Fatalf("node %s: backup: %v", nd.Name, err)
	}
	return path
}

// Restore stops the node, replaces its data directory with the backup
// file (as `horenso restore` would, with node.Restore) and starts it
// again, as an operator recovering a lost disk from an older backup does.
// Partners it gained or lost since the backup are as they were then.
func (nd *Node) Restore(backup string) {
	t := nd.c.t
	t.Helper()
	nd.Stop()
	if err := os.RemoveAll(nd.Dir); err != nil {
		t.Fatalf("node %s: restore: %v", nd.Name, err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t, nd.Name}, &slog.HandlerOptions{Level: nd.c.opt.LogLevel}))
	if err := node.Restore(nd.Dir, backup, log); err != nil {
		t.Fatalf("node %s: %v", nd.Name, err)
	}
	nd.Start()
}

// User creates a local account with a password equal to its handle
// repeated to the minimum length, and returns its global ID.
func (nd *Node) User(handle protocol.Handle) protocol.AccountID {
	nd.c.t.Helper()
	a, err := nd.CreateAccount(context.Background(), node.NewAccount{Handle: handle,
		Name: strings.ToUpper(string(handle[:1])) + string(handle[1:]), Password: Password(handle)})
	if err != nil {
		nd.c.t.Fatalf("node %s: create account %s: %v", nd.Name, handle, err)
	}
	return a.ID
}

// Password is the password User gives handle's account.
func Password(handle protocol.Handle) string { return string(handle) + "-password" }

// Token creates an API token for a local account.
func (nd *Node) Token(handle protocol.Handle) string {
	nd.c.t.Helper()
	tok, err := nd.CreateToken(context.Background(), handle, "test")
	if err != nil {
		nd.c.t.Fatalf("node %s: token for %s: %v", nd.Name, handle, err)
	}
	return tok
}

// Await waits until cond returns true, polling, and fails the test with
// cond's last explanation if it has not within timeout.
func Await(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, why)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// testWriter sends a node's logs to t.Log, tagged with the node's name.
type testWriter struct {
	t    testing.TB
	name string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("[%s] %s", w.name, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// AwaitBackup waits until the node's continuous backups (Options.Backup)
// reach a moment after t, and returns that moment.
func (nd *Node) AwaitBackup(t time.Time) time.Time {
	tb := nd.c.t
	tb.Helper()
	var last time.Time
	Await(tb, 30*time.Second, func() (bool, string) {
		st := nd.BackupStatus()
		if st == nil {
			tb.Fatalf("node %s has no continuous backups (Options.Backup)", nd.Name)
		}
		last = st.Last
		return last.After(t), fmt.Sprintf("node %s: backups reach %s (error %q), want after %s", nd.Name, last, st.Error, t)
	})
	return last
}

// RestoreAt stops the node and replaces its data directory with its
// continuous backups as they were at moment at (node.RestoreAt, as
// `horenso restore --at` does). The node stays stopped: look at it with
// Offline, then Start it.
func (nd *Node) RestoreAt(at time.Time) *node.RestorePoint {
	t := nd.c.t
	t.Helper()
	nd.Stop()
	if err := os.RemoveAll(nd.Dir); err != nil {
		t.Fatalf("node %s: restore: %v", nd.Name, err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t, nd.Name}, &slog.HandlerOptions{Level: nd.c.opt.LogLevel}))
	p, err := node.RestoreAt(nd.Dir, nd.BackupDir, at, log)
	if err != nil {
		t.Fatalf("node %s: %v", nd.Name, err)
	}
	return p
}

// Offline opens the stopped node's data directory without running it (no
// network, no jobs), calls f with it, and closes it.
func (nd *Node) Offline(f func(*node.Node)) {
	t := nd.c.t
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t, nd.Name}, &slog.HandlerOptions{Level: nd.c.opt.LogLevel}))
	n, err := node.New(node.Config{DataDir: nd.Dir, Logger: log})
	if err != nil {
		t.Fatalf("node %s: open offline: %v", nd.Name, err)
	}
	defer n.Close()
	f(n)
}
