package node

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/horenso/horenso/storage"
)

// A standby follows a primary: same identity, a replica of its store,
// read-only, no libp2p. The design, its fencing and its limits are in
// docs/OPERATIONS.md, "Standby and failover".
//
// The stream. The standby asks the primary's HTTP API for the versions
// after the one it has applied (GET /api/replication/increment?since=V,
// with the shared secret as a bearer token); the primary answers with
// Hold.WriteSince from a Hold it keeps at the version the standby last
// had, so nothing in between is compacted away (storage/pitr.go), and the
// standby applies it (storage.ApplyIncrement). A primary that cannot
// answer from a Hold (it restarted, or the standby is new) sends a full
// copy instead, which the standby converges to (storage.ApplyFull).
//
// Fencing. Each data directory has an epoch (the file epoch, 0 when
// absent). Promote writes the primary's epoch plus one, and only when the
// primary does not answer (or is forced). A primary learns its standby's
// URL from the standby's requests (the file standby); it asks that
// standby's epoch before it starts signing, and every few seconds while it
// runs: a higher epoch means it was replaced, and it stops (ErrFenced).
// A promoted node starts as if restored from a backup (restored.go): it
// syncs each shared room with a partner before it signs there, so it
// continues its chains after whatever the old primary signed last.

// StandbyConfig configures both ends of a standby pair. The zero value is
// a node with no standby.
type StandbyConfig struct {
	// Secret authenticates the replication stream; the primary and its
	// standby set the same. On a primary, "" turns replication off (the
	// endpoints answer 404). Default: "".
	Secret string
	// Of is, on a standby, the primary's HTTP base URL, e.g.
	// http://10.0.0.1:8080. Default: "", the node is not a standby.
	Of string
	// Self is this node's own HTTP base URL as its peer reaches it: a
	// standby sends it to its primary, which asks it for the fencing
	// epoch. Default: "", and the primary cannot fence itself.
	Self string
	// PollEvery is how often a standby that is caught up asks for more:
	// the lag when idle. Default: 200ms.
	PollEvery time.Duration
	// Gone makes a primary that knows a standby start without asking it
	// (it was destroyed; see docs/OPERATIONS.md). Default: false.
	Gone bool
}

// DefaultStandbyPollEvery is StandbyConfig.PollEvery's default.
const DefaultStandbyPollEvery = 200 * time.Millisecond

// Files of the data directory for a standby pair.
const (
	epochFile   = "epoch"   // the fencing epoch, a decimal number
	standbyFile = "standby" // on a primary: its standby's URL
)

var (
	// ErrStandby is returned for a change refused because the node is a
	// standby: it serves reads only.
	ErrStandby = storage.ErrReplica
	// ErrFenced is returned by Run when the node's standby was promoted
	// in its place: it must not sign any more.
	ErrFenced = errors.New("this node's standby was promoted in its place")
	// ErrPromoted is returned by Run on a standby once Promote succeeded:
	// start the node again without StandbyConfig.Of, as a primary.
	ErrPromoted = errors.New("promoted: start again as the primary")
)

// ReplicationStatus shows a standby pair in Status.
type ReplicationStatus struct {
	Role  string `json:"role"` // "primary" or "standby"
	Epoch uint64 `json:"epoch"`
	// On a standby: the primary, the primary version it has applied and
	// the primary's clock when that version was current, the newest
	// primary version it knows of, and the lag: now − AppliedTime.
	Of             string    `json:"of,omitempty"`
	Applied        uint64    `json:"applied,omitempty"`
	AppliedTime    time.Time `json:"applied_time,omitzero"`
	PrimaryVersion uint64    `json:"primary_version,omitempty"`
	// On a primary: its standby's URL, when it last asked, the version it
	// has (acknowledged by asking for what follows) and the lag: now −
	// the moment that version was current. Version is the store's now.
	Standby     string    `json:"standby,omitempty"`
	StandbySeen time.Time `json:"standby_seen,omitzero"`
	Acked       uint64    `json:"acked,omitempty"`
	Version     uint64    `json:"version,omitempty"`
	// Lag is how far behind the standby is, in time ("" when unknown).
	Lag   string `json:"lag,omitempty"`
	Error string `json:"error,omitempty"`
}

// replication is the state of both ends. Lock order: serveMu, then mu.
type replication struct {
	// serveMu serializes the primary's answers and the release of its
	// Holds, so that no Hold an answer reads from is released under it;
	// closed is set by the final release, after which nothing is served.
	serveMu sync.Mutex
	closed  bool

	mu sync.Mutex // guards the rest
	// Primary: acked is the Hold at the version the standby has; pending
	// the one at the end of the increment last sent, which becomes acked
	// when the standby asks for what follows it.
	acked, pending         *storage.Hold
	ackedTime, pendingTime time.Time
	seen                   time.Time
	standby                string
	// Standby.
	applied        uint64
	appliedTime    time.Time
	primaryVersion uint64
	primaryEpoch   uint64
	err            string
	promoted       chan struct{} // closed by Promote
}

func (n *Node) standby() bool { return n.cfg.Standby.Of != "" }

// ReplicationStatus returns the state of the standby pair, or nil when
// the node is not in one.
func (n *Node) ReplicationStatus() *ReplicationStatus {
	r := &n.repl
	r.mu.Lock()
	defer r.mu.Unlock()
	epoch, _ := readEpoch(n.cfg.DataDir)
	if n.standby() {
		st := &ReplicationStatus{Role: "standby", Epoch: epoch, Of: n.cfg.Standby.Of, Applied: r.applied,
			AppliedTime: r.appliedTime, PrimaryVersion: r.primaryVersion, Error: r.err}
		if !r.appliedTime.IsZero() {
			st.Lag = time.Since(r.appliedTime).Round(time.Millisecond).String()
		}
		return st
	}
	if n.cfg.Standby.Secret == "" && r.standby == "" {
		return nil
	}
	st := &ReplicationStatus{Role: "primary", Epoch: epoch, Standby: r.standby, StandbySeen: r.seen, Version: n.store.Version()}
	if r.acked != nil {
		st.Acked = r.acked.Version()
		st.Lag = time.Since(r.ackedTime).Round(time.Millisecond).String()
	}
	return st
}

// ReplicationAuthorized reports whether token is the replication secret;
// always false when replication is off.
func (n *Node) ReplicationAuthorized(token string) bool {
	s := n.cfg.Standby.Secret
	return s != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s)) == 1
}

// ReplicationIdentity is what a new standby takes from its primary: the
// identity key, the settings and the fencing epoch.
type ReplicationIdentity struct {
	Seed     string          `json:"seed"` // base64 of the Ed25519 seed
	Settings json.RawMessage `json:"settings"`
	Epoch    uint64          `json:"epoch"`
}

// Identity returns the node's identity for a new standby. Only for a
// caller that checked ReplicationAuthorized.
func (n *Node) Identity() (*ReplicationIdentity, error) {
	settings, err := os.ReadFile(filepath.Join(n.cfg.DataDir, settingsFile))
	if err != nil {
		return nil, fmt.Errorf("replication identity: %w", err)
	}
	epoch, err := readEpoch(n.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("replication identity: %w", err)
	}
	return &ReplicationIdentity{Seed: base64.StdEncoding.EncodeToString(n.key.Seed()), Settings: settings, Epoch: epoch}, nil
}

// Epoch returns the node's fencing epoch.
func (n *Node) Epoch() (uint64, error) { return readEpoch(n.cfg.DataDir) }

// Increment is an answer to a standby: the store's versions after Since
// (all of it if Full) up to Until, spooled to a temporary file.
type Increment struct {
	Since, Until uint64
	Full         bool
	Time         time.Time // when Until was the store's version
	Epoch        uint64
	Size         int64
	file         *os.File
}

// WriteTo copies the increment to w.
func (inc *Increment) WriteTo(w io.Writer) (int64, error) {
	if _, err := inc.file.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, inc.file)
}

// Close removes the spooled file.
func (inc *Increment) Close() error {
	inc.file.Close()
	return os.Remove(inc.file.Name())
}

// ReplicationIncrement answers a standby at URL standby (may be "") that
// has applied the versions up to since: the versions after it, or a full
// copy if the node holds no Hold at since. Only for a caller that checked
// ReplicationAuthorized. The caller closes the Increment.
func (n *Node) ReplicationIncrement(ctx context.Context, since uint64, standby string) (*Increment, error) {
	if n.standby() {
		return nil, problem(ErrInvalid, "this node is a standby; follow its primary")
	}
	r := &n.repl
	r.serveMu.Lock()
	defer r.serveMu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("replication: %w", storage.ErrClosed)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = time.Now()
	if standby != "" && standby != r.standby {
		if err := writeFileSync(filepath.Join(n.cfg.DataDir, standbyFile), []byte(standby+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("replication: remember the standby: %w", err)
		}
		r.standby = standby
	}
	// The standby asking for what follows the pending Hold has it.
	if r.pending != nil && since == r.pending.Version() {
		if r.acked != nil {
			r.acked.Release()
		}
		r.acked, r.ackedTime, r.pending = r.pending, r.pendingTime, nil
	}
	full := since == 0 || r.acked == nil || r.acked.Version() != since
	if full {
		since = 0
	}
	epoch, err := readEpoch(n.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	// The time first: every change acknowledged before it is in the
	// Hold, which is what the standby's lag promises.
	at := time.Now()
	hold := n.store.Hold()
	inc := &Increment{Since: since, Until: hold.Version(), Full: full, Time: at, Epoch: epoch}
	if full && r.acked != nil {
		r.acked.Release()
		r.acked = nil
	}
	// Written without mu (a full copy takes a while; Status reads under
	// it), under serveMu: acked, which keeps the versions after since,
	// stays.
	r.mu.Unlock()
	f, err := os.CreateTemp("", "horenso-replication-*")
	if err == nil {
		inc.file = f
		_, err = hold.WriteSince(f, since)
	}
	if err == nil {
		inc.Size, err = f.Seek(0, io.SeekCurrent)
	}
	r.mu.Lock()
	if err != nil {
		hold.Release()
		if f != nil {
			inc.Close()
		}
		return nil, fmt.Errorf("replication increment after %d: %w", since, err)
	}
	if r.pending != nil {
		r.pending.Release()
	}
	r.pending, r.pendingTime = hold, inc.Time
	return inc, nil
}

// releaseReplication releases the Holds of a standby that stopped asking
// for longer than staleAfter (or, with staleAfter 0, for good: the node
// is stopping): they keep the store's old versions. The standby then
// gets a full copy.
func (n *Node) releaseReplication(staleAfter time.Duration) {
	r := &n.repl
	r.serveMu.Lock()
	defer r.serveMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if staleAfter == 0 {
		r.closed = true
	}
	if staleAfter > 0 && time.Since(r.seen) < staleAfter {
		return
	}
	for _, h := range []**storage.Hold{&r.acked, &r.pending} {
		if *h != nil {
			(*h).Release()
			*h = nil
		}
	}
}

// replicationStaleAfter is how long a primary keeps its Holds for a
// standby that stopped asking.
const replicationStaleAfter = 5 * time.Minute

// fenceEvery is how often a primary asks its standby's epoch.
const fenceEvery = 3 * time.Second

// runPrimaryReplication releases the Holds of a standby gone quiet, and
// asks the standby's epoch: it returns ErrFenced once the standby was
// promoted. It releases every Hold when ctx ends.
func (n *Node) runPrimaryReplication(ctx context.Context) error {
	defer n.releaseReplication(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(fenceEvery):
		}
		n.releaseReplication(replicationStaleAfter)
		if err := n.checkFence(ctx, false); errors.Is(err, ErrFenced) {
			n.log.Error("stopping: this node's standby was promoted in its place", "err", err)
			return err
		}
	}
}

// checkFence asks the standby this primary knows (if any) for its epoch:
// ErrFenced if it is higher than ours. An unreachable standby is an error
// if strict (before the node starts to sign), and nothing otherwise.
func (n *Node) checkFence(ctx context.Context, strict bool) error {
	b, err := os.ReadFile(filepath.Join(n.cfg.DataDir, standbyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fencing: %w", err)
	}
	standby := strings.TrimSpace(string(b))
	ours, err := readEpoch(n.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("fencing: %w", err)
	}
	theirs, err := askEpoch(ctx, standby, n.cfg.Standby.Secret)
	switch {
	case err != nil && strict:
		return fmt.Errorf("%w? its standby %s does not answer (%v), so this node cannot know whether it was replaced; "+
			"start it when the standby answers, or with --standby-gone if the standby is destroyed", ErrFenced, standby, err)
	case err != nil:
		return nil
	case theirs > ours:
		return fmt.Errorf("%w: the standby %s has epoch %d, this node %d; run this node as a standby of it "+
			"(move this data directory aside first)", ErrFenced, standby, theirs, ours)
	}
	return nil
}

// askEpoch asks the node at base URL for its fencing epoch.
func askEpoch(ctx context.Context, base, secret string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var out struct {
		Epoch uint64 `json:"epoch"`
	}
	resp, err := replicationGet(ctx, base, "/api/replication/epoch", secret, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("ask epoch of %s: %w", base, err)
	}
	return out.Epoch, nil
}

// replicationGet makes an authenticated request to a peer of the pair;
// any status but 200 is an error.
func replicationGet(ctx context.Context, base, path, secret, self string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	if self != "" {
		req.Header.Set("X-Horenso-Standby", self)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s%s: %s %s", base, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

func readEpoch(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, epochFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("epoch file %s: %w", filepath.Join(dir, epochFile), err)
	}
	return v, nil
}

// InitStandby sets up data directory dir, which must not be initialized,
// as a standby of the primary cfg.Of: its identity key, settings and
// epoch, and an empty replica store, which Run fills.
func InitStandby(ctx context.Context, dir string, cfg StandbyConfig) error {
	if Initialized(dir) {
		return fmt.Errorf("init standby: %w: %s is already initialized", ErrConflict, dir)
	}
	if _, err := url.Parse(cfg.Of); err != nil || cfg.Of == "" {
		return fmt.Errorf("init standby: %w: primary URL %q", ErrInvalid, cfg.Of)
	}
	resp, err := replicationGet(ctx, cfg.Of, "/api/replication/identity", cfg.Secret, cfg.Self)
	if err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	defer resp.Body.Close()
	var id ReplicationIdentity
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&id); err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(id.Seed)
	if err != nil {
		return fmt.Errorf("init standby: identity: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, settingsFile), id.Settings, 0o600); err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, epochFile), []byte(strconv.FormatUint(id.Epoch, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	st, err := storage.Open(filepath.Join(dir, storeDir), storage.Options{Replica: true})
	if err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("init standby: %w", err)
	}
	return writeFileSync(filepath.Join(dir, identityFile), seed, 0o600)
}

// runStandby follows the primary until ctx ends or Promote.
func (n *Node) runStandby(ctx context.Context) error {
	cfg := n.cfg.Standby
	wait := cfg.PollEvery
	for {
		more, err := n.follow(ctx)
		n.repl.mu.Lock()
		if err != nil && ctx.Err() == nil {
			if n.repl.err == "" {
				n.log.Warn("standby: cannot follow the primary", "primary", cfg.Of, "err", err)
			}
			n.repl.err = err.Error()
			wait = min(2*wait, 5*time.Second)
		} else {
			if n.repl.err != "" {
				n.log.Info("standby: following the primary again", "primary", cfg.Of)
			}
			n.repl.err, wait = "", cfg.PollEvery
		}
		n.repl.mu.Unlock()
		select {
		case <-n.repl.promoted:
			return ErrPromoted
		default:
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-n.repl.promoted:
			return ErrPromoted
		case <-time.After(wait):
		}
	}
}

// follow fetches and applies one increment, and reports whether the
// primary had anything new (then the next may follow at once).
func (n *Node) follow(ctx context.Context) (bool, error) {
	since, err := n.store.ReplicaVersion()
	if err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	resp, err := replicationGet(rctx, n.cfg.Standby.Of, "/api/replication/increment?since="+strconv.FormatUint(since, 10),
		n.cfg.Standby.Secret, n.cfg.Standby.Self)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	h := resp.Header
	until, err := strconv.ParseUint(h.Get("X-Horenso-Until"), 10, 64)
	if err != nil {
		return false, fmt.Errorf("increment from the primary: bad X-Horenso-Until: %w", err)
	}
	at, _ := time.Parse(time.RFC3339Nano, h.Get("X-Horenso-Time"))
	epoch, _ := strconv.ParseUint(h.Get("X-Horenso-Epoch"), 10, 64)
	if h.Get("X-Horenso-Full") != "" {
		n.log.Info("standby: converging to a full copy of the primary", "primary_version", until)
		_, err = n.store.ApplyFull(ctx, resp.Body, until)
	} else {
		_, err = n.store.ApplyIncrement(ctx, resp.Body, until)
	}
	if err != nil {
		return false, err
	}
	var last uint64
	if err := n.store.View(func(tx *storage.Tx) error {
		last, err = tx.LastChange()
		return err
	}); err != nil {
		return false, err
	}
	n.feed.advance(last) // live clients of the standby see the change
	n.repl.mu.Lock()
	n.repl.applied, n.repl.appliedTime, n.repl.primaryVersion, n.repl.primaryEpoch = until, at, until, epoch
	n.repl.mu.Unlock()
	return until != since, nil
}

// Promote makes a standby the primary: it checks that the primary does
// not answer (unless force), writes the new fencing epoch (the primary's
// plus one) and marks the data directory restored, so that the node syncs
// each shared room with a partner before it signs there. Run then
// returns ErrPromoted; start the node again without StandbyConfig.Of.
func (n *Node) Promote(ctx context.Context, force bool) (uint64, error) {
	if !n.standby() {
		return 0, problem(ErrInvalid, "this node is not a standby")
	}
	if v, err := n.store.ReplicaVersion(); err != nil || v == 0 {
		return 0, problem(ErrConflict, "this standby holds nothing of its primary yet (%v): there is nothing to promote", err)
	}
	theirs, err := askEpoch(ctx, n.cfg.Standby.Of, n.cfg.Standby.Secret)
	if err == nil && !force {
		return 0, problem(ErrConflict, "the primary %s still answers: stop it first (or promote with --force once it cannot sign: powered off)", n.cfg.Standby.Of)
	}
	n.repl.mu.Lock()
	defer n.repl.mu.Unlock()
	select {
	case <-n.repl.promoted:
		return 0, problem(ErrConflict, "already promoted")
	default:
	}
	ours, err := readEpoch(n.cfg.DataDir)
	if err != nil {
		return 0, fmt.Errorf("promote: %w", err)
	}
	epoch := max(ours, n.repl.primaryEpoch, theirs) + 1
	if err := markRestored(n.cfg.DataDir); err != nil {
		return 0, fmt.Errorf("promote: %w", err)
	}
	if err := writeFileSync(filepath.Join(n.cfg.DataDir, epochFile), []byte(strconv.FormatUint(epoch, 10)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("promote: %w", err)
	}
	n.log.Warn("promoted to primary", "epoch", epoch, "applied_primary_version", n.repl.applied, "as_of", n.repl.appliedTime)
	close(n.repl.promoted)
	return epoch, nil
}

// startPrimary runs the fencing check before a primary signs anything,
// and reports whether it has a standby pair to serve.
func (n *Node) startPrimary(ctx context.Context) (bool, error) {
	path := filepath.Join(n.cfg.DataDir, standbyFile)
	if n.cfg.Standby.Gone {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("forget the standby: %w", err)
		}
	}
	if err := n.checkFence(ctx, true); err != nil {
		return false, err
	}
	_, err := os.Stat(path)
	return n.cfg.Standby.Secret != "" || err == nil, nil
}
