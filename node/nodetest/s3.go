package nodetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// S3 is a real S3-compatible server for tests: versitygw with its posix
// backend, as node/nodetest/testdata/s3-setup.sh installs it (`make
// s3-setup`, which `make test` runs first), listening on a free loopback
// port, with its objects in a temporary directory. The posix backend keeps
// bucket b's object k as the file Root/b/k, so tests look at what the
// server holds on its disk (and need no S3 client of their own: the node
// is the only package that imports one).
type S3 struct {
	// Endpoint is the server's URL, http://127.0.0.1:<port>.
	Endpoint string
	// Root is the server's directory: one directory per bucket.
	Root           string
	access, secret string
}

// S3ServerEnv names the environment variable that overrides where
// StartS3 finds the server binary.
const S3ServerEnv = "HORENSO_S3_SERVER"

// S3ServerPath returns where s3-setup.sh installs the server:
// $HORENSO_S3_SERVER, else <user cache dir>/horenso/s3/versitygw.
func S3ServerPath() string {
	if p := os.Getenv(S3ServerEnv); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "horenso", "s3", "versitygw")
}

// StartS3 starts the S3 server for the test and stops it when the test
// ends. A missing binary fails the test, saying how to install it.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := S3ServerPath()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no S3 server for the S3 blob store tests at %s (%v): install it with `make s3-setup` "+
			"(node/nodetest/testdata/s3-setup.sh), or point %s at a versitygw binary", bin, err, S3ServerEnv)
	}
	dir, meta := t.TempDir(), t.TempDir()
	s := &S3{Root: dir, access: "horenso-test", secret: hex.EncodeToString(randomKey())}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--port", "127.0.0.1:0", "--quiet", "posix", "--sidecar", meta, dir)
	// The credentials go by environment, not argv (which ps shows).
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.access, "ROOT_SECRET_ACCESS_KEY="+s.secret)
	cmd.Stdout, cmd.Stderr = testWriter{t, "s3"}, testWriter{t, "s3"}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start S3 server %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	// It listens on port 0 and does not say which port it got: read it
	// back from the process's listening socket.
	var port int
	Await(t, 30*time.Second, func() (bool, string) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("S3 server exited: %v", err)
		default:
		}
		var err error
		port, err = listeningPort(cmd.Process.Pid)
		return err == nil, fmt.Sprintf("S3 server not listening yet: %v", err)
	})
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	return s
}

func randomKey() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// Bucket creates a bucket (a directory of the server's, which its posix
// backend serves as one) and returns a node configuration for it, with
// objects under prefix.
func (s *S3) Bucket(t testing.TB, name, prefix string) node.BlobConfig {
	t.Helper()
	if err := os.Mkdir(filepath.Join(s.Root, name), 0o755); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	return node.BlobConfig{S3: &node.S3Config{Endpoint: s.Endpoint, Bucket: name, AccessKey: s.access,
		SecretKey: s.secret, PathStyle: true, Prefix: prefix, Region: "us-east-1"}}
}

// Keys lists the keys of the objects the server holds in bucket: its
// files, but for the server's own (hidden) ones.
func (s *S3) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	root := filepath.Join(s.Root, bucket)
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path != root {
			// The server removed it (an object deleted, and its
			// directory with it) while this walked: it is gone.
			return nil
		}
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list bucket %s: %v", bucket, err)
	}
	return out
}

// listeningPort returns the TCP port process pid listens on.
func listeningPort(pid int) (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] { // 0A: LISTEN
			continue
		}
		_, p, _ := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(p, 16, 16)
		if err == nil {
			return int(port), nil
		}
	}
	return 0, errors.New("no listening socket")
}
