package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// BlobConfig selects where the node keeps the bytes of files. The zero
// BlobConfig keeps them in the data directory (DataDir/blobs).
type BlobConfig struct {
	// S3, if not nil, keeps them in an S3-compatible bucket instead (AWS
	// S3, MinIO, SeaweedFS, Ceph RGW, versitygw…). The data directory
	// still holds uploads in flight, partial transfers and thumbnails.
	// Default: nil.
	S3 *S3Config
}

// blobStore keeps complete blobs, each named by the SHA-256 of its bytes.
// Blobs are immutable: a put of a blob stored already changes nothing,
// so puts are idempotent and a reader never sees a blob change. Methods
// are safe for concurrent use; blobs.mu orders puts against removals.
// The node has two: dirStore and s3Store.
type blobStore interface {
	// has reports whether blob sum is stored.
	has(ctx context.Context, sum []byte) (bool, error)
	// open opens blob sum and returns its size; the error wraps
	// fs.ErrNotExist if it is not stored. Seeks are cheap (a remote
	// store reads ranges), so HTTP range requests stream.
	open(ctx context.Context, sum []byte) (io.ReadSeekCloser, int64, error)
	// put stores the bytes of f, a complete file in DataDir/blobs/tmp or
	// partial whose bytes hash to sum, and closes and removes f (or
	// moves it into place), whatever the outcome.
	put(ctx context.Context, f *os.File, sum []byte) error
	// remove deletes blob sum; deleting one not stored is no error.
	remove(ctx context.Context, sum []byte) error
	// String describes the store for logs and backups.
	String() string
}

// dirStore keeps blobs as files under dir (DataDir/blobs), each in a
// directory of its hash's first two hex digits. A blob is fsynced and
// renamed into place, so a file there is complete.
type dirStore struct{ dir string }

var _ blobStore = dirStore{}

func (d dirStore) path(sum []byte) string {
	h := hex.EncodeToString(sum)
	return filepath.Join(d.dir, h[:2], h)
}

func (d dirStore) has(_ context.Context, sum []byte) (bool, error) {
	_, err := os.Stat(d.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (d dirStore) open(_ context.Context, sum []byte) (io.ReadSeekCloser, int64, error) {
	f, err := os.Open(d.path(sum))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (d dirStore) put(_ context.Context, f *os.File, sum []byte) error {
	if err := f.Sync(); err != nil {
		discard(f)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	dst := d.path(sum)
	if ok, _ := d.has(context.Background(), sum); ok {
		return os.Remove(f.Name())
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func (d dirStore) remove(_ context.Context, sum []byte) error {
	err := os.Remove(d.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (d dirStore) String() string { return "directory " + d.dir }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
