package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket for the node's blobs
// (BlobConfig.S3). The bucket must exist; the node creates, reads and
// deletes objects under Prefix and touches nothing else in it.
type S3Config struct {
	// Endpoint is the URL of the S3 API, e.g.
	// "https://s3.eu-central-1.amazonaws.com" or "http://127.0.0.1:9000";
	// its scheme picks TLS. Required.
	Endpoint string
	// Bucket is the bucket's name. Required.
	Bucket string
	// Region is the bucket's region. Default: "" (the client asks the
	// server, or us-east-1).
	Region string
	// AccessKey and SecretKey are the credentials; SessionToken is
	// needed only with temporary credentials. Required (but for
	// SessionToken). `horenso run` reads them from the environment or a
	// file, never from its command line.
	AccessKey, SecretKey, SessionToken string
	// PathStyle puts the bucket in the URL's path
	// (http://host/bucket/key) rather than the host name: MinIO,
	// SeaweedFS, Ceph and versitygw usually need it. Default: false,
	// which picks virtual-host style for AWS and path style elsewhere.
	PathStyle bool
	// Prefix is put before every object key, e.g. "horenso/", so that
	// nodes can share a bucket. Default: "" (keys are
	// <2 hex digits>/<hex SHA-256>).
	Prefix string
	// PartSize is the size of one part of a multipart upload: files
	// larger are uploaded in parts of this size, two at a time, so an
	// upload holds no more than that much in flight. Default: 16 MiB
	// (the least is 5 MiB, S3's rule).
	PartSize int64
}

// DefaultS3PartSize is S3Config.PartSize's default.
const DefaultS3PartSize = 16 << 20

// s3Timeout bounds the check that the bucket is reachable when the node
// starts.
const s3Timeout = 30 * time.Second

// s3Store keeps blobs as objects <Prefix><2 hex>/<hex SHA-256> in an S3
// bucket, through minio-go. Uploads stream from the staged file (a
// multipart upload past PartSize); reads are ranged GETs.
type s3Store struct {
	c      *minio.Client
	bucket string
	prefix string
	part   uint64
	desc   string

	// held caches the blobs known to be stored, so that listing files
	// does not ask the bucket once per file. A blob is immutable and only
	// this node removes it (remove drops it from the cache), so a cached
	// yes stays true; a no is never cached.
	held sync.Map // string(sum) → struct{}
}

var _ blobStore = (*s3Store)(nil)

func newS3Store(cfg S3Config) (*s3Store, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("s3: endpoint %q is not an http:// or https:// URL", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("s3: no credentials (access key and secret key)")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultS3PartSize
	}
	if cfg.PartSize < 5<<20 {
		return nil, fmt.Errorf("s3: part size %d is below S3's least, 5 MiB", cfg.PartSize)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &s3Store{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix, part: uint64(cfg.PartSize),
		desc: fmt.Sprintf("s3 bucket %s at %s, prefix %q", cfg.Bucket, u.Redacted(), cfg.Prefix)}
	// Fail at start, not at the first upload, on a wrong endpoint,
	// bucket or key.
	ctx, cancel := context.WithTimeout(context.Background(), s3Timeout)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: check bucket %s at %s: %w", cfg.Bucket, u.Redacted(), err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: bucket %s does not exist at %s", cfg.Bucket, u.Redacted())
	}
	return s, nil
}

func (s *s3Store) key(sum []byte) string {
	h := hex.EncodeToString(sum)
	return s.prefix + h[:2] + "/" + h
}

func s3NotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

func (s *s3Store) has(ctx context.Context, sum []byte) (bool, error) {
	if _, ok := s.held.Load(string(sum)); ok {
		return true, nil
	}
	_, err := s.c.StatObject(ctx, s.bucket, s.key(sum), minio.StatObjectOptions{})
	if s3NotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3 stat %s: %w", s.key(sum), err)
	}
	s.held.Store(string(sum), struct{}{})
	return true, nil
}

// open returns a *minio.Object: it GETs the range a read needs from where
// the last seek left it, so serving an HTTP range reads only that range.
func (s *s3Store) open(ctx context.Context, sum []byte) (io.ReadSeekCloser, int64, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(sum), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("s3 get %s: %w", s.key(sum), err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if s3NotFound(err) {
			return nil, 0, fmt.Errorf("s3 get %s: %w", s.key(sum), fs.ErrNotExist)
		}
		return nil, 0, fmt.Errorf("s3 get %s: %w", s.key(sum), err)
	}
	return obj, st.Size, nil
}

// put uploads f from its start. minio-go reads an *os.File with ReadAt,
// in sections: a single PUT up to the part size, a multipart upload of
// part-size parts, two at a time, past it; nothing is buffered whole.
func (s *s3Store) put(ctx context.Context, f *os.File, sum []byte) error {
	defer discard(f)
	if ok, err := s.has(ctx, sum); err != nil {
		return err
	} else if ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = s.c.PutObject(ctx, s.bucket, s.key(sum), f, st.Size(), minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s.part,
		NumThreads:  2,
	})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", s.key(sum), err)
	}
	s.held.Store(string(sum), struct{}{})
	return nil
}

func (s *s3Store) remove(ctx context.Context, sum []byte) error {
	s.held.Delete(string(sum))
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(sum), minio.RemoveObjectOptions{}); err != nil && !s3NotFound(err) {
		return fmt.Errorf("s3 delete %s: %w", s.key(sum), err)
	}
	return nil
}

func (s *s3Store) String() string { return s.desc }
