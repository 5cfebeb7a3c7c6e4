package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/horenso/horenso/node"
)

// s3Flags are run's flags that put the node's blobs in an S3 bucket. The
// credentials never go on the command line (where ps shows them): they
// come from the environment, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN, or from a file of the same NAME=value lines
// (--s3-credentials-file; a systemd EnvironmentFile works as is).
type s3Flags struct {
	cfg       node.S3Config
	credsFile string
	partMiB   int64
}

func (f *s3Flags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cfg.Endpoint, "s3-endpoint", "",
		`keep files' bytes in an S3-compatible bucket at this URL, e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000 (default: in the data directory)`)
	fs.StringVar(&f.cfg.Bucket, "s3-bucket", "", "the bucket, which must exist (with --s3-endpoint)")
	fs.StringVar(&f.cfg.Region, "s3-region", "", "the bucket's region (default: asked of the server)")
	fs.StringVar(&f.cfg.Prefix, "s3-prefix", "", `put this before every object key, e.g. "horenso/"`)
	fs.BoolVar(&f.cfg.PathStyle, "s3-path-style", false, "address the bucket in the URL path, as MinIO, SeaweedFS and Ceph usually need")
	fs.StringVar(&f.credsFile, "s3-credentials-file", "",
		"file of AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=… lines (default: those environment variables)")
	fs.Int64Var(&f.partMiB, "s3-part-mib", node.DefaultS3PartSize>>20, "MiB of one part of a multipart upload (at least 5)")
}

// config returns the blob configuration the flags ask for.
func (f *s3Flags) config() (node.BlobConfig, error) {
	if f.cfg.Endpoint == "" {
		if f.cfg.Bucket != "" || f.credsFile != "" {
			return node.BlobConfig{}, errors.New("--s3-bucket and --s3-credentials-file need --s3-endpoint")
		}
		return node.BlobConfig{}, nil
	}
	cfg := f.cfg
	cfg.PartSize = f.partMiB << 20
	vars := map[string]string{}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		vars[k] = os.Getenv(k)
	}
	if f.credsFile != "" {
		var err error
		if vars, err = readEnvFile(f.credsFile); err != nil {
			return node.BlobConfig{}, err
		}
	}
	cfg.AccessKey, cfg.SecretKey, cfg.SessionToken = vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], vars["AWS_SESSION_TOKEN"]
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return node.BlobConfig{}, errors.New("--s3-endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the environment or --s3-credentials-file")
	}
	return node.BlobConfig{S3: &cfg}, nil
}

// readEnvFile reads NAME=value lines; blank lines, # comments, an
// "export " before a name and quotes around a value are allowed.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(s, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("read credentials %s:%d: want NAME=value", path, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read credentials %s: %w", path, err)
	}
	return out, nil
}
