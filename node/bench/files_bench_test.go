package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/nodetest"
	"github.com/horenso/horenso/protocol"
)

// Files (issue 18): a 100 MB file (10 MB under -short) uploaded and
// downloaded over HTTP on one node, next to the disk's raw write speed;
// the same file fetched by a partner's node, next to a raw libp2p stream
// (node/p2p's BenchmarkStreamTransfer); and the node's peak resident set
// while it takes a 1 GB upload (64 MB under -short), which must not grow
// with the file.

func fileBenchBytes() int64 { return shortOr[int64](100<<20, 10<<20) }

// pattern yields n bytes of a repeating pattern, without holding them.
type pattern struct{ left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range n {
		b[i] = byte(i*7 + 13)
	}
	p.left -= int64(n)
	return n, nil
}

// fileNode is a node serving its API on a real HTTP listener, with files
// up to max bytes, and an account "owner" with a token and a room.
type fileNode struct {
	n     *node.Node
	srv   *httptest.Server
	token string
	room  *node.Room
	stop  func()
}

func startFileNode(tb testing.TB, max int64) *fileNode {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "node")
	if _, err := node.Init(dir, "Bench"); err != nil {
		tb.Fatal(err)
	}
	n, err := node.New(node.Config{DataDir: dir, Logger: benchLog, MaxFileSize: max, AccountQuota: -1})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	<-n.Ready()
	srv := httptest.NewServer(api.New(n, api.Config{Logger: benchLog, RateLimit: -1, MaxUploadBytes: max + 64<<10,
		UploadTimeout: time.Hour, WriteTimeout: time.Hour}))
	fn := &fileNode{n: n, srv: srv, stop: func() {
		srv.Close()
		cancel()
		<-done
		n.Close()
	}}
	bg := context.Background()
	if _, err := n.CreateAccount(bg, node.NewAccount{Handle: "owner", Name: "Owner"}); err != nil {
		tb.Fatal(err)
	}
	if fn.token, err = n.CreateToken(bg, "owner", "bench"); err != nil {
		tb.Fatal(err)
	}
	if fn.room, err = n.CreateRoom(bg, "owner", node.NewRoom{Name: "Files"}); err != nil {
		tb.Fatal(err)
	}
	return fn
}

// upload streams size bytes as a multipart upload, as curl -F does, and
// returns the file_id.
func (fn *fileNode) upload(ctx context.Context, size int64) (uint64, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", "big.bin")
		if err == nil {
			_, err = io.Copy(part, &pattern{left: size})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/v2/rooms/%d/files", fn.srv.URL, fn.room.Alias), pr)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-ChatWorkToken", fn.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("upload: %d %s", resp.StatusCode, b)
	}
	var id uint64
	_, err = fmt.Sscanf(strings.TrimSpace(string(b)), `{"file_id":%d}`, &id)
	return id, err
}

// download reads file id whole and returns its length.
func (fn *fileNode) download(ctx context.Context, id uint64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/rooms/%d/files/%d/content?download=1", fn.srv.URL, fn.room.Alias, id), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-ChatWorkToken", fn.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("download: %d", resp.StatusCode)
	}
	return io.Copy(io.Discard, resp.Body)
}

// BenchmarkFileUpload uploads and downloads a 100 MB file over HTTP on one
// node: upload-MB/s until the file is durable and posted, download-MB/s
// until the last byte is read. Each iteration's file differs from the
// last by its size, so no upload finds its bytes stored already.
func BenchmarkFileUpload(b *testing.B) {
	size := fileBenchBytes()
	fn := startFileNode(b, size+1<<20)
	defer fn.stop()
	var up, down time.Duration
	i := int64(0)
	for b.Loop() {
		i++
		start := time.Now()
		id, err := fn.upload(b.Context(), size-i)
		if err != nil {
			b.Fatal(err)
		}
		up += time.Since(start)
		start = time.Now()
		n, err := fn.download(b.Context(), id)
		if err != nil || n != size-i {
			b.Fatalf("downloaded %d of %d bytes: %v", n, size-i, err)
		}
		down += time.Since(start)
	}
	mb := float64(size) / 1e6 * float64(i)
	b.ReportMetric(mb/up.Seconds(), "upload-MB/s")
	b.ReportMetric(mb/down.Seconds(), "download-MB/s")
	b.ReportMetric(float64(size)/1e6, "MB")
}

// BenchmarkDiskWrite is the limit of BenchmarkFileUpload: the same bytes
// written to a new file in the same temporary directory's file system,
// fsynced, in 32 KiB writes (io.Copy's).
func BenchmarkDiskWrite(b *testing.B) {
	size := fileBenchBytes()
	dir := b.TempDir()
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		f, err := os.CreateTemp(dir, "raw-*")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(f, &pattern{left: size}, make([]byte, 32<<10)); err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(f.Sync(), f.Close()); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		os.Remove(f.Name())
	}
	b.ReportMetric(float64(size)/1e6*float64(b.N)/took.Seconds(), "write-MB/s")
}

// BenchmarkPartnerFile: alice posts a 100 MB file on node a; bob's node b
// fetches it over the blob protocol on his first download. transfer-MB/s
// runs from the download's start until b holds the whole file, checked
// against its hash.
func BenchmarkPartnerFile(b *testing.B) {
	size := fileBenchBytes()
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		c := nodetest.NewCluster(b, 2, nodetest.Options{EagerFetchMax: -1, MaxFileSize: size, LogLevel: slog.LevelError})
		na, nb := c.Nodes[0], c.Nodes[1]
		na.User("alice")
		bob := nb.User("bob")
		ctx := b.Context()
		room, err := na.CreateRoom(ctx, "alice", node.NewRoom{Name: "Big", Members: []node.MemberSpec{{Account: bob}}})
		if err != nil {
			b.Fatal(err)
		}
		big := make([]byte, size)
		(&pattern{left: size}).Read(big)
		if _, err := na.PostFile(ctx, "alice", room.ID, node.NewFile{Name: "big.bin", Data: bytes.NewReader(big)}); err != nil {
			b.Fatal(err)
		}
		f := awaitFile(b, nb.Node, room.ID)
		b.StartTimer()
		start := time.Now()
		r, _, err := nb.OpenFile(ctx, "bob", room.ID, f.ID)
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		r.Close()
		b.StopTimer()
		for _, nd := range c.Nodes {
			nd.Stop()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(size)/1e6*float64(b.N)/took.Seconds(), "transfer-MB/s")
	b.ReportMetric(float64(size)/1e6, "MB")
}

func awaitFile(b *testing.B, n *node.Node, room protocol.RoomID) *node.File {
	var f *node.File
	nodetest.Await(b, time.Minute, func() (bool, string) {
		fs, err := n.Files(b.Context(), "bob", room, "")
		if err != nil || len(fs) == 0 {
			return false, fmt.Sprint("b has no file yet: ", err)
		}
		f = fs[0]
		return true, ""
	})
	return f
}

// Environment of TestUploadRSSChild.
const envUploadRSSOut = "HORENSO_BENCH_UPLOAD_RSS_OUT" // where to write the peak and base resident sets, in kB

// BenchmarkUploadRSS: the peak resident set (VmHWM) of a process running a
// node and its HTTP API while it takes a 1 GB upload, in a process of its
// own (the test binary run again as TestUploadRSSChild), next to the same
// process's resident set before the upload: the upload streams, so the
// peak must not grow with the file.
func BenchmarkUploadRSS(b *testing.B) {
	var peak, base int64
	for b.Loop() {
		out := filepath.Join(b.TempDir(), "rss")
		cmd := exec.CommandContext(b.Context(), os.Args[0], "-test.run=^TestUploadRSSChild$", "-test.bench=^$", "-test.count=1")
		cmd.Env = append(os.Environ(), envUploadRSSOut+"="+out)
		if testing.Short() {
			cmd.Args = append(cmd.Args, "-test.short")
		}
		if log, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("upload process: %v\n%s", err, log)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fmt.Sscanf(string(raw), "%d %d", &peak, &base); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
	b.ReportMetric(float64(base)/1024, "base-rss-MB")
	b.ReportMetric(float64(shortOr[int64](1<<30, 64<<20))/1e6, "MB")
}

// TestUploadRSSChild is BenchmarkUploadRSS's process. Run by itself, it
// skips.
func TestUploadRSSChild(t *testing.T) {
	out := os.Getenv(envUploadRSSOut)
	if out == "" {
		t.Skip("run by BenchmarkUploadRSS")
	}
	size := shortOr[int64](1<<30, 64<<20)
	fn := startFileNode(t, size+1<<20)
	defer fn.stop()
	base, err := residentKB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fn.upload(t.Context(), size); err != nil {
		t.Fatal(err)
	}
	peak, err := peakKB()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(strconv.FormatInt(peak, 10)+" "+strconv.FormatInt(base, 10)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// peakKB returns the process's peak resident set size (VmHWM) in kB.
func peakKB() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
