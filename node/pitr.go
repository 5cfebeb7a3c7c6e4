package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Continuous backups and point-in-time recovery.
//
// With Config.Backup.Dir set, the node writes its store into that
// directory as chains: a chain is a full copy of the store (increment 0)
// followed by increments every Config.Backup.Every, each holding every
// version of every key committed since the previous one (see
// storage/pitr.go). Each increment's manifest records the versions it
// covers and a small index of wall-clock time to store version, sampled
// every Config.Backup.SampleEvery while the store changes. RestoreAt
// rebuilds a data directory as it was at a moment: it takes the last
// sample at or before that moment and loads the chain up to its version.
//
// A chain starts when the node starts (the versions kept between two
// increments are only kept while the process runs), and again every
// Config.Backup.BaseEvery. A chain is deleted once the next one starts
// before the retention window (Config.Backup.Keep), so every moment of
// the window stays restorable.
//
// Layout of the backup directory:
//
//	node_id                         the node whose backups these are
//	blobs/                          copies of DATA/blobs (see backupBlobs)
//	20261203T101500.000Z/           a chain, named by its start (UTC)
//	  identity.key, node.json       the node's key and settings
//	  000000.kv, 000000.json        the full copy and its manifest
//	  000001.kv, 000001.json, …     the increments
//
// An increment's files are written to temporary names, synced and
// renamed, the manifest last: a manifest marks a complete increment.

// BackupConfig configures continuous backups. The zero value is off.
type BackupConfig struct {
	// Dir is the backup directory, an absolute path; it may be on another
	// disk or a network mount. Default: "", no continuous backups.
	Dir string
	// Every is the time between two increments: at most this much is lost
	// when the data directory's disk is. Default: 30s.
	Every time.Duration
	// Keep is the retention window: every moment this far back stays
	// restorable; older chains are deleted. Default: 7 days.
	Keep time.Duration
	// BaseEvery is the time between two full copies (new chains).
	// Default: 24h.
	BaseEvery time.Duration
	// SampleEvery is the resolution of the time → version index: a
	// restore to a moment T gives the store as it was at most this long
	// before T. Default: 1s.
	SampleEvery time.Duration
}

// Defaults of BackupConfig, documented on its fields.
const (
	DefaultBackupEvery       = 30 * time.Second
	DefaultBackupKeep        = 7 * 24 * time.Hour
	DefaultBackupBaseEvery   = 24 * time.Hour
	DefaultBackupSampleEvery = time.Second
)

func (c *BackupConfig) validate(id protocol.NodeID) error {
	if c.Dir == "" {
		return nil
	}
	if !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("%w: backup directory %q must be absolute", ErrInvalid, c.Dir)
	}
	if c.Every < 0 || c.Keep < 0 || c.BaseEvery < 0 || c.SampleEvery < 0 {
		return fmt.Errorf("%w: negative backup interval", ErrInvalid)
	}
	c.Every = cmpOr(c.Every, DefaultBackupEvery)
	c.Keep = cmpOr(c.Keep, DefaultBackupKeep)
	c.BaseEvery = cmpOr(c.BaseEvery, DefaultBackupBaseEvery)
	c.SampleEvery = cmpOr(c.SampleEvery, DefaultBackupSampleEvery)
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	// One directory, one node: chains of two nodes could not be told
	// apart by a restore.
	owner := filepath.Join(c.Dir, "node_id")
	b, err := os.ReadFile(owner)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return writeFileSync(owner, []byte(string(id)+"\n"), 0o600)
	case err != nil:
		return fmt.Errorf("backup directory: %w", err)
	case strings.TrimSpace(string(b)) != string(id):
		return fmt.Errorf("%w: backup directory %s holds the backups of node %s; give each node its own",
			ErrConflict, c.Dir, strings.TrimSpace(string(b)))
	}
	return nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// manifest describes one file of a chain: the full copy (Seq 0, Since 0)
// or an increment.
type manifest struct {
	Node  protocol.NodeID `json:"node_id"`
	Seq   int             `json:"seq"`
	Since uint64          `json:"since"` // versions after this one (0: a full copy)
	Until uint64          `json:"until"` // up to and including this one
	// Points maps wall-clock time to the store's version, oldest first,
	// for the versions in (Since, Until]; the last is the moment Until
	// was read. A point (t, v) says: at t, the last commit was v.
	Points   []backupPoint `json:"points"`
	Versions int           `json:"versions"` // key versions in the file
	Bytes    int64         `json:"bytes"`
}

type backupPoint struct {
	Time    time.Time `json:"t"`
	Version uint64    `json:"v"`
}

// BackupStatus is the state of continuous backups, in Status.
type BackupStatus struct {
	Dir string `json:"dir"`
	// Chain is the current chain's directory name; Increments counts its
	// files, the full copy included.
	Chain      string `json:"chain,omitempty"`
	Increments int    `json:"increments"`
	// Last is the moment the newest increment was taken, the newest
	// moment a restore can reach today, and Version the store version it
	// holds.
	Last    time.Time `json:"last,omitempty"`
	Version uint64    `json:"version"`
	// Oldest is the oldest restorable moment in Dir.
	Oldest time.Time `json:"oldest,omitempty"`
	// Error is the last failure, cleared by the next success.
	Error string `json:"error,omitempty"`
}

// backups is the backup job's state as Status shows it.
type backups struct {
	mu sync.Mutex
	st BackupStatus
}

func (b *backups) status() *BackupStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	return &st
}

func (b *backups) set(f func(*BackupStatus)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.st)
}

// BackupStatus returns the state of continuous backups, or nil when they
// are off.
func (n *Node) BackupStatus() *BackupStatus {
	if n.cfg.Backup.Dir == "" {
		return nil
	}
	return n.backups.status()
}

// chainJob is one chain being written by runBackups.
type chainJob struct {
	dir    string
	seq    int
	start  time.Time
	hold   *storage.Hold // open from the last increment written; nil before the full copy
	points []backupPoint // samples since the last increment
}

// runBackups writes chains until ctx ends. Failures are logged and shown
// in Status, and the increment is tried again at the next tick with the
// same Hold, so nothing is skipped.
func (n *Node) runBackups(ctx context.Context) error {
	cfg := n.cfg.Backup
	n.backups.set(func(st *BackupStatus) { st.Dir = cfg.Dir })
	var c *chainJob
	defer func() {
		if c != nil && c.hold != nil {
			c.hold.Release()
		}
	}()
	sample := time.NewTicker(cfg.SampleEvery)
	defer sample.Stop()
	next := time.Now() // the first increment, a full copy, at once
	for {
		if !time.Now().Before(next) {
			if c == nil || (c.hold != nil && time.Since(c.start) >= cfg.BaseEvery) {
				if c != nil {
					// The old chain's last increment first, so that it
					// reaches the moment the new chain starts.
					if err := n.writeIncrement(c); err != nil {
						n.log.Error("continuous backup: last increment of a chain", "dir", cfg.Dir, "err", err)
					}
					c.hold.Release()
				}
				c = &chainJob{start: time.Now().UTC()}
				c.dir = filepath.Join(cfg.Dir, c.start.Format(chainTimeFormat))
			}
			if err := n.writeIncrement(c); err != nil {
				n.log.Error("continuous backup", "dir", cfg.Dir, "err", err)
				n.backups.set(func(st *BackupStatus) { st.Error = err.Error() })
			} else if err := n.pruneBackups(); err != nil {
				n.log.Error("continuous backup: retention", "dir", cfg.Dir, "err", err)
				n.backups.set(func(st *BackupStatus) { st.Error = err.Error() })
			}
			// Jittered by ±1/8, as the node's other periodic jobs.
			next = time.Now().Add(cfg.Every - cfg.Every/8 + rand.N(cfg.Every/4+1))
		}
		select {
		case <-ctx.Done():
			// A last increment, so that the backup reaches the stop.
			if c != nil && c.hold != nil {
				if err := n.writeIncrement(c); err != nil {
					n.log.Error("continuous backup: last increment", "dir", cfg.Dir, "err", err)
				}
			}
			return nil
		case <-time.After(time.Until(next)):
		case <-sample.C:
			if c != nil && c.hold != nil {
				v := n.store.Version() // then the time: at that time, v was the last commit
				last := c.hold.Version()
				if len(c.points) > 0 {
					last = c.points[len(c.points)-1].Version
				}
				if v > last {
					c.points = append(c.points, backupPoint{Time: time.Now().UTC(), Version: v})
				}
			}
		}
	}
}

// chainTimeFormat names a chain's directory: sortable, and valid on
// every filesystem.
const chainTimeFormat = "20060102T150405.000Z"

// writeIncrement writes c's next file: the full copy if c has no Hold
// yet, else the versions since its Hold.
func (n *Node) writeIncrement(c *chainJob) error {
	if c.seq == 0 {
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return fmt.Errorf("start backup chain: %w", err)
		}
		for _, name := range []string{identityFile, settingsFile} {
			if err := copyFileSync(filepath.Join(n.cfg.DataDir, name), filepath.Join(c.dir, name)); err != nil {
				return fmt.Errorf("start backup chain: %w", err)
			}
		}
	}
	hold := n.store.Hold()
	m := manifest{Node: n.id, Seq: c.seq, Until: hold.Version()}
	if c.hold != nil {
		m.Since = c.hold.Version()
	}
	m.Points = append(slices.Clone(c.points), backupPoint{Time: time.Now().UTC(), Version: m.Until})
	base := filepath.Join(c.dir, fmt.Sprintf("%06d", c.seq))
	err := func() error {
		f, err := os.OpenFile(base+".kv.tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if m.Versions, err = hold.WriteSince(f, m.Since); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if m.Bytes, err = f.Seek(0, io.SeekCurrent); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(base+".kv.tmp", base+".kv"); err != nil {
			return err
		}
		// Blobs a stored event names were written before it, so before
		// the Hold: copied now, they are in the backup with it.
		if err := n.copyBlobsToBackup(); err != nil {
			return err
		}
		// Settings may change (a renamed organization).
		if err := copyFileSync(filepath.Join(n.cfg.DataDir, settingsFile), filepath.Join(c.dir, settingsFile)); err != nil {
			return err
		}
		b, err := json.MarshalIndent(m, "", " ")
		if err != nil {
			return err
		}
		return writeFileSync(base+".json", b, 0o600)
	}()
	if err != nil {
		hold.Release()
		os.Remove(base + ".kv.tmp")
		return fmt.Errorf("back up increment %d of %s: %w", c.seq, c.dir, err)
	}
	if c.hold != nil {
		c.hold.Release()
	}
	c.hold, c.points = hold, nil
	c.seq++
	n.backups.set(func(st *BackupStatus) {
		st.Chain, st.Increments = filepath.Base(c.dir), c.seq
		st.Last, st.Version, st.Error = m.Points[len(m.Points)-1].Time, m.Until, ""
	})
	return nil
}

// pruneBackups deletes the chains that the next chain makes unneeded:
// those followed by a chain that started before the retention window.
func (n *Node) pruneBackups() error {
	chains, err := listChains(n.cfg.Backup.Dir)
	if err != nil {
		return err
	}
	cutoff := time.Now().Add(-n.cfg.Backup.Keep)
	for i := 0; i+1 < len(chains); i++ {
		if chains[i+1].start.After(cutoff) {
			break
		}
		if err := os.RemoveAll(chains[i].dir); err != nil {
			return fmt.Errorf("delete backup chain %s: %w", chains[i].dir, err)
		}
		n.log.Info("deleted backup chain past the retention window", "chain", chains[i].dir)
		chains[i].dir = ""
	}
	for _, c := range chains {
		if c.dir != "" {
			n.backups.set(func(st *BackupStatus) { st.Oldest = c.start })
			break
		}
	}
	return nil
}

// copyBlobsToBackup copies into the backup directory's blobs/ every blob
// under DATA/blobs it does not hold yet. Blobs are immutable once written
// under their final name (content-addressed), so a name present is a file
// complete; a blob deleted from the node stays in the backup, as a
// restore may need it. Only the blob directories are copied (tmp/ and
// partial/ hold no complete blob), and collection waits meanwhile.
//
// Blobs in an S3 bucket are not copied: the bucket is the operator's to
// keep (see Backup).
func (n *Node) copyBlobsToBackup() error {
	if _, local := n.blobs.store.(dirStore); !local {
		return nil
	}
	n.blobs.mu.RLock()
	defer n.blobs.mu.RUnlock()
	dirs, err := os.ReadDir(n.blobs.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy blobs: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		if err := copyMissing(filepath.Join(n.blobs.dir, d.Name()), filepath.Join(n.cfg.Backup.Dir, blobsDir, d.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copyMissing copies every regular file under src missing under dst, by
// the same relative path; temporary files (*.tmp) are skipped.
func copyMissing(src, dst string) error {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasSuffix(path, ".tmp") {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if _, err := os.Stat(to); err == nil {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return err
		}
		return copyFileSync(path, to)
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy blobs: %w", err)
	}
	return nil
}

func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// chain is a chain found in a backup directory.
type chain struct {
	dir       string
	start     time.Time
	manifests []manifest // complete and contiguous, from the full copy on
}

// listChains returns the chains in dir, oldest first, with their
// manifests; a chain without a complete full copy is left out.
func listChains(dir string) ([]chain, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list backup chains: %w", err)
	}
	var chains []chain
	for _, e := range entries {
		start, err := time.Parse(chainTimeFormat, e.Name())
		if !e.IsDir() || err != nil {
			continue
		}
		c := chain{dir: filepath.Join(dir, e.Name()), start: start}
		for seq := 0; ; seq++ {
			b, err := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("%06d.json", seq)))
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("list backup chains: %w", err)
			}
			var m manifest
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("list backup chains: %s: %w", filepath.Join(c.dir, fmt.Sprintf("%06d.json", seq)), err)
			}
			if seq > 0 && m.Since != c.manifests[seq-1].Until {
				return nil, fmt.Errorf("list backup chains: %s: increment %d starts after version %d, the one before ends at %d",
					c.dir, seq, m.Since, c.manifests[seq-1].Until)
			}
			c.manifests = append(c.manifests, m)
		}
		if len(c.manifests) > 0 {
			chains = append(chains, c)
		}
	}
	slices.SortFunc(chains, func(a, b chain) int { return a.start.Compare(b.start) })
	return chains, nil
}

// RestorePoint is the moment RestoreAt restored.
type RestorePoint struct {
	// Time is when the store was last seen in the restored state: the
	// last sample at or before the moment asked for.
	Time time.Time `json:"time"`
	// Version is the store version (Badger commit) restored.
	Version uint64 `json:"version"`
	// Chain is the chain directory restored from, and Increments how many
	// of its files were read (the full copy included).
	Chain      string `json:"chain"`
	Increments int    `json:"increments"`
}

// ErrNoBackup is returned by RestoreAt when the backup directory holds
// nothing at or before the moment asked for.
var ErrNoBackup = errors.New("no backup at or before that moment")

// RestoreAt creates data directory dir, which must not be initialized,
// as the node whose continuous backups are in from was at moment at (see
// BackupConfig). The restored node is marked restored: in rooms it shares
// with other nodes it catches up from them before it changes anything
// (see restored.go), so it learns what it did, and what was done, after
// that moment. The node must not be running on dir.
func RestoreAt(dir, from string, at time.Time, log *slog.Logger) (*RestorePoint, error) {
	if Initialized(dir) {
		return nil, fmt.Errorf("restore: %w: %s is already initialized", ErrConflict, dir)
	}
	chains, err := listChains(from)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	var pick *chain
	var point backupPoint
	files := 0
	for i := len(chains) - 1; i >= 0 && pick == nil; i-- {
		c := &chains[i]
		for k, m := range c.manifests {
			for _, p := range m.Points {
				if !p.Time.After(at) && (pick == nil || p.Version >= point.Version) {
					pick, point, files = c, p, k+1
				}
			}
		}
	}
	if pick == nil {
		if len(chains) == 0 {
			return nil, fmt.Errorf("restore: %w: %s holds no complete backup", ErrNoBackup, from)
		}
		first := chains[0].manifests[0].Points
		return nil, fmt.Errorf("restore: %w: the earliest moment in %s is %s",
			ErrNoBackup, from, first[len(first)-1].Time.Format(time.RFC3339Nano))
	}
	opens := make([]func() (io.ReadCloser, error), files)
	for k := range files {
		path := filepath.Join(pick.dir, fmt.Sprintf("%06d.kv", k))
		opens[k] = func() (io.ReadCloser, error) { return os.Open(path) }
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := storage.RestoreVersions(filepath.Join(dir, storeDir), opens, point.Version, storage.Options{Logger: log}); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := copyFileSync(filepath.Join(pick.dir, settingsFile), filepath.Join(dir, settingsFile)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := copyMissing(filepath.Join(from, blobsDir), filepath.Join(dir, blobsDir)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := markRestored(dir); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	// Written last, as in Init: the key marks a complete data directory.
	if err := copyFileSync(filepath.Join(pick.dir, identityFile), filepath.Join(dir, identityFile)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	rp := &RestorePoint{Time: point.Time, Version: point.Version, Chain: pick.dir, Increments: files}
	log.Info("restored to a point in time", "dir", dir, "asked", at, "time", rp.Time, "version", rp.Version,
		"chain", rp.Chain, "files", rp.Increments)
	return rp, nil
}
