package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// blobs is the node's blob store: a file's bytes, by the SHA-256 of its
// content, kept in a blobStore: by default dirStore, one file per blob in
// DataDir/blobs, or s3Store, objects in an S3-compatible bucket
// (Config.Blobs). Whatever keeps the complete blobs, the data directory's
// blobs/ holds what is in flight: an upload is staged in blobs/tmp, and a
// transfer from a partner grows blobs/partial/<hex>, so an interrupted
// one resumes from the bytes it holds; both go to the store once their
// hash is known and checked. Thumbnails are a local cache in
// blobs/thumbs. A blob that is in the store is complete, and the same
// bytes are stored once.
//
// Everything streams: memory does not grow with a blob's size.
//
// mu orders writes that add a reference to a blob against the collection
// of blobs no file references: a writer holds it shared from storing the
// bytes until its file post is committed, collect holds it exclusively
// while it checks and removes.
type blobs struct {
	dir   string    // DataDir/blobs: tmp/, partial/, thumbs/ (and dirStore's blobs)
	store blobStore // the complete blobs
	mu    sync.RWMutex
}

// Blob store directories inside the data directory.
const (
	blobsDir   = "blobs"
	blobsTmp   = "tmp"
	blobsParts = "partial"
)

// errBlobTooLarge is returned by put for a stream longer than its limit.
var errBlobTooLarge = errors.New("blob too large")

// newBlobs opens the blob store of data directory dataDir: the local
// directory, or the S3 bucket cfg names (which it checks it can reach,
// and into which it moves the blobs the directory still holds; see
// moveIn).
func newBlobs(dataDir string, cfg BlobConfig, log *slog.Logger) (*blobs, error) {
	b := &blobs{dir: filepath.Join(dataDir, blobsDir)}
	for _, d := range []string{blobsTmp, blobsParts} {
		if err := os.MkdirAll(filepath.Join(b.dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	// Temporary files left by a crash are incomplete uploads.
	tmps, _ := os.ReadDir(filepath.Join(b.dir, blobsTmp))
	for _, t := range tmps {
		os.Remove(filepath.Join(b.dir, blobsTmp, t.Name()))
	}
	b.store = dirStore{dir: b.dir}
	if cfg.S3 != nil {
		s, err := newS3Store(*cfg.S3)
		if err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
		b.store = s
		if err := b.moveIn(log); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return b, nil
}

// moveIn uploads to a store other than the data directory the complete
// blobs the directory holds, and deletes each once it is uploaded: those
// of a node that kept its blobs on its disk before, or of a restored
// backup that held blobs. It runs before the node starts, so that no file
// looks missing meanwhile; an upload that fails stops the start, with the
// blobs not yet moved still on disk, and the next start goes on from
// there.
func (b *blobs) moveIn(log *slog.Logger) error {
	local := dirStore{dir: b.dir}
	dirs, err := os.ReadDir(b.dir)
	if err != nil {
		return err
	}
	moved := 0
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue // tmp/, partial/, thumbs/
		}
		files, err := os.ReadDir(filepath.Join(b.dir, d.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			sum, err := hex.DecodeString(f.Name())
			if err != nil || len(sum) != sha256.Size {
				continue
			}
			if err := b.moveOne(local, sum); err != nil {
				return fmt.Errorf("move blob %s into %s: %w", f.Name(), b.store, err)
			}
			if moved++; moved%1000 == 0 {
				log.Info("moving blobs from the data directory", "moved", moved, "to", b.store.String())
			}
		}
	}
	if moved > 0 {
		log.Info("moved blobs from the data directory", "blobs", moved, "to", b.store.String())
	}
	return nil
}

// moveOne uploads one local blob through a hard link in tmp/ (put
// removes what it is given, whatever the outcome), then deletes it.
func (b *blobs) moveOne(local dirStore, sum []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	link := filepath.Join(b.dir, blobsTmp, "move-"+hex.EncodeToString(sum))
	os.Remove(link)
	if err := os.Link(local.path(sum), link); err != nil {
		return err
	}
	f, err := os.Open(link)
	if err != nil {
		os.Remove(link)
		return err
	}
	if err := b.store.put(ctx, f, sum); err != nil {
		return err
	}
	return local.remove(ctx, sum)
}

func (b *blobs) partPath(sum []byte) string {
	return filepath.Join(b.dir, blobsParts, hex.EncodeToString(sum))
}

// blobCheckTimeout bounds has's look-up in a remote store.
const blobCheckTimeout = 30 * time.Second

// has reports whether the blob is stored. It answers from a local stat or
// a cache where it can; a remote look-up is bounded by blobCheckTimeout,
// and one that fails counts as absent (the caller then fetches or
// reports the file as not held, and tries again later).
func (b *blobs) has(sum []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), blobCheckTimeout)
	defer cancel()
	ok, err := b.store.has(ctx, sum)
	return err == nil && ok
}

// open opens a stored blob for reading and returns its size; the error
// wraps fs.ErrNotExist if it is not stored.
func (b *blobs) open(ctx context.Context, sum []byte) (io.ReadSeekCloser, int64, error) {
	r, size, err := b.store.open(ctx, sum)
	if err != nil {
		return nil, 0, fmt.Errorf("open blob: %w", err)
	}
	return r, size, nil
}

// commit hands f, a complete staged file whose bytes hash to sum, to the
// store (which drops it if the blob is stored already); f is closed and
// gone afterwards, whatever the outcome.
func (b *blobs) commit(ctx context.Context, f *os.File, sum []byte) error {
	if err := b.store.put(ctx, f, sum); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	return nil
}

// remove deletes a stored blob, any partial transfer of it and its
// thumbnail.
func (b *blobs) remove(ctx context.Context, sum []byte) error {
	os.Remove(b.partPath(sum))
	for _, ext := range []string{".jpg", ".png"} {
		os.Remove(filepath.Join(b.dir, thumbsDir, hex.EncodeToString(sum)+ext))
	}
	if err := b.store.remove(ctx, sum); err != nil {
		return fmt.Errorf("remove blob: %w", err)
	}
	return nil
}

// ctxReader fails reads once ctx is done, so a long copy stops.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// stage copies what r yields, up to limit bytes (errBlobTooLarge past it),
// into a temporary file, and returns it with its SHA-256 and size. The
// caller commits it (commit) or drops it (discard).
func (b *blobs) stage(ctx context.Context, r io.Reader, limit int64) (f *os.File, sum []byte, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Join(b.dir, blobsTmp), "up-*")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("store blob: %w", err)
	}
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ctxReader{ctx, r}, limit+1))
	switch {
	case err != nil:
		err = fmt.Errorf("store blob: %w", err)
	case size > limit:
		err = fmt.Errorf("store blob: %w (limit %d bytes)", errBlobTooLarge, limit)
	}
	if err != nil {
		discard(tmp)
		return nil, nil, 0, err
	}
	return tmp, h.Sum(nil), size, nil
}

// discard closes and removes a staged file.
func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// partial is a transfer of a blob in progress: the bytes received so far
// are in its file, and its hash state covers them.
type partial struct {
	b    *blobs
	sum  []byte
	f    *os.File
	h    hash.Hash
	size int64 // bytes held
}

// resume opens the partial transfer of blob sum, creating it if there is
// none, and hashes what it holds, so that the transfer can go on from
// there.
func (b *blobs) resume(sum []byte) (*partial, error) {
	f, err := os.OpenFile(b.partPath(sum), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("resume blob: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("resume blob: %w", err)
	}
	return &partial{b: b, sum: sum, f: f, h: h, size: n}, nil
}

// Write appends p to the transfer.
func (p *partial) Write(q []byte) (int, error) {
	n, err := p.f.Write(q)
	p.h.Write(q[:n])
	p.size += int64(n)
	return n, err
}

// finish checks the transfer's bytes against the hash: on a match it moves
// them into the store; otherwise it drops them and returns errBlobCorrupt.
func (p *partial) finish(ctx context.Context) error {
	if got := p.h.Sum(nil); string(got) != string(p.sum) {
		p.f.Close()
		os.Remove(p.f.Name())
		return fmt.Errorf("blob %x: %w", p.sum, errBlobCorrupt)
	}
	return p.b.commit(ctx, p.f, p.sum)
}

// drop discards the transfer's bytes.
func (p *partial) drop() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// close keeps the bytes received so far for a later resume.
func (p *partial) close() error { return p.f.Close() }

// errBlobCorrupt is returned by partial.finish for bytes that do not hash
// to the blob's hash.
var errBlobCorrupt = errors.New("bytes do not match the hash")
