package node

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// A backup is a tar archive of the data directory's identity key and
// settings, a consistent Badger backup of the store, taken while the node
// runs, and then the blobs the node holds, each as blobs/<hex SHA-256>.
// Blobs added while the backup runs may be missing from it: their files
// are then fetched again from partners, or lost if no one else holds them.
//
// A node whose blobs are in an S3 bucket (Config.Blobs) does not copy
// them: the backup names the bucket instead (backupBlobStore), and the
// bucket is the operator's to keep (versioning, replication; see
// docs/OPERATIONS.md). A restored node runs with the same S3 settings.
const backupStore = "store.badger"

// backupBlobStore names, in a backup of a node whose blobs are in S3,
// where they are.
const backupBlobStore = "blobstore.txt"

// backupBlobs prefixes a blob's name in a backup.
const backupBlobs = "blobs/"

// Backup writes a backup of the running node to path (mode 0600), via a
// temporary file renamed into place once complete. It returns the size.
func (n *Node) Backup(ctx context.Context, path string) (int64, error) {
	if !filepath.IsAbs(path) {
		return 0, fmt.Errorf("backup: %w: path %q must be absolute", ErrInvalid, path)
	}
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp)
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, name := range []string{identityFile, settingsFile} {
		b, err := os.ReadFile(filepath.Join(n.cfg.DataDir, name))
		if err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
		if err := writeTarFile(tw, name, b); err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
	}
	// The store's backup streams; its size is unknown until done, so it is
	// spooled to a temporary file first.
	spool, err := os.CreateTemp(filepath.Dir(path), ".horenso-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if err := n.store.Backup(spool); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	size, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupStore, Mode: 0o600, Size: size, ModTime: time.Now()}); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(tw, spool); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := n.backupBlobs(ctx, tw); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	total, _ := f.Seek(0, io.SeekCurrent)
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return total, nil
}

func writeTarFile(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

// Restore creates data directory dir, which must not be initialized, from
// a backup file. The node must not be running on dir.
func Restore(dir, backup string, log *slog.Logger) error {
	if Initialized(dir) {
		return fmt.Errorf("restore: %w: %s is already initialized", ErrConflict, dir)
	}
	f, err := os.Open(backup)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tr := tar.NewReader(f)
	var identity []byte
	haveStore := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: read %s: %w", backup, err)
		}
		switch h.Name {
		case identityFile:
			if identity, err = io.ReadAll(io.LimitReader(tr, 1024)); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		case settingsFile:
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err == nil {
				err = writeFileSync(filepath.Join(dir, settingsFile), b, 0o600)
			}
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		case backupBlobStore:
			b, _ := io.ReadAll(io.LimitReader(tr, 4096))
			log.Warn("restore: the backup holds no blobs; run the restored node with the S3 settings it had",
				"where", strings.TrimSpace(string(b)))
		case backupStore:
			if err := storage.Restore(filepath.Join(dir, storeDir), tr, storage.Options{Logger: log}); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			haveStore = true
		default:
			if strings.HasPrefix(h.Name, backupBlobs) {
				if err := restoreBlob(dir, strings.TrimPrefix(h.Name, backupBlobs), tr); err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				continue
			}
			return fmt.Errorf("restore: %s is not a horenso backup (unexpected %q)", backup, h.Name)
		}
	}
	if identity == nil || !haveStore {
		return fmt.Errorf("restore: %s is not a complete horenso backup", backup)
	}
	if err := markRestored(dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Written last, as in Init: the key marks a complete data directory.
	if err := writeFileSync(filepath.Join(dir, identityFile), identity, 0o600); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// backupBlobs writes every blob the node holds to tw. Collection waits
// meanwhile, so no blob goes between its listing and its copy.
func (n *Node) backupBlobs(ctx context.Context, tw *tar.Writer) error {
	if _, local := n.blobs.store.(dirStore); !local {
		return writeTarFile(tw, backupBlobStore, []byte("blobs are not in this backup: they are in "+n.blobs.store.String()+"\n"))
	}
	n.blobs.mu.RLock()
	defer n.blobs.mu.RUnlock()
	dirs, err := os.ReadDir(n.blobs.dir)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue // tmp/ and partial/ hold no complete blob
		}
		files, err := os.ReadDir(filepath.Join(n.blobs.dir, d.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := copyBlob(tw, filepath.Join(n.blobs.dir, d.Name(), f.Name()), f.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyBlob(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupBlobs + name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// restoreBlob stores a blob of a backup in dir's blob store, if its bytes
// match its name.
func restoreBlob(dir, name string, r io.Reader) error {
	want, err := hex.DecodeString(name)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("blob %q: not a SHA-256", name)
	}
	b, err := newBlobs(dir, BlobConfig{}, nil)
	if err != nil {
		return err
	}
	f, sum, _, err := b.stage(context.Background(), r, protocol.MaxFileSize)
	if err != nil {
		return err
	}
	if !bytes.Equal(sum, want) {
		discard(f)
		return fmt.Errorf("blob %s: bytes do not match the name", name)
	}
	return b.commit(context.Background(), f, sum)
}
