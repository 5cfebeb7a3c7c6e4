package nodetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
)

// uploadV2 posts content as a file named name with message through the
// ChatWork API's multipart upload, as clients send it, and returns the
// file_id.
func uploadV2(t *testing.T, nd *Node, token string, room uint64, name, message string, content []byte) uint64 {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.WriteField("message", message)
	mw.Close()
	req, err := http.NewRequest("POST", fmt.Sprintf("%s/v2/rooms/%d/files", nd.URL, room), &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		FileID uint64 `json:"file_id"`
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.FileID == 0 {
		t.Fatalf("upload %s to node %s: %d %s", name, nd.Name, resp.StatusCode, b)
	}
	return out.FileID
}

// downloadV2 gets file fid's download_url through the ChatWork API and
// fetches it, with a Range header if rng is not empty; it returns the
// status and the bytes.
func downloadV2(t *testing.T, nd *Node, token string, room, fid uint64, rng string) (int, []byte) {
	t.Helper()
	var f struct {
		URL string `json:"download_url"`
	}
	if st := v2(t, nd, token, "GET", fmt.Sprintf("/rooms/%d/files/%d?create_download_url=1", room, fid), nil, &f); st != 200 || f.URL == "" {
		t.Fatalf("file %d on node %s: %d %+v", fid, nd.Name, st, f)
	}
	req, err := http.NewRequest("GET", f.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// blobKey is the object key of content in a bucket under prefix.
func blobKey(prefix string, content []byte) string {
	h := sha256.Sum256(content)
	x := hex.EncodeToString(h[:])
	return prefix + x[:2] + "/" + x
}

// TestS3BlobStore runs node a with its blobs in a bucket of a real S3
// server (versitygw) and node b on its own disk: files uploaded through
// /v2 land in the bucket under a's prefix and nowhere in a's data
// directory; they download whole and by range; the same bytes are
// stored once; a large file goes up in parts; b fetches a's files from
// it, eagerly and on download, and a puts the file it fetches from b in
// the bucket; after a restart a still serves them; deleting a file's
// last post deletes its object.
func TestS3BlobStore(t *testing.T) {
	s3 := StartS3(t)
	const bucket, prefix = "horenso-files", "org-a/"
	cfgA := s3.Bucket(t, bucket, prefix)
	cfgA.S3.PartSize = 5 << 20 // S3's least: a 12 MiB file goes in 3 parts
	c := NewCluster(t, 2, Options{EagerFetchMax: 64 << 10, MaxFileSize: 16 << 20,
		API: api.Config{MaxUploadBytes: 17 << 20},
		Blobs: func(name string) node.BlobConfig {
			if name == "a" {
				return cfgA
			}
			return node.BlobConfig{}
		}})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitRoom(room)
	token := a.Token("alice")
	alias := alice.Room(room).Alias
	keys := func() []string { return s3.Keys(t, bucket) }
	if st := a.FileStats().Store; !strings.HasPrefix(st, "s3 bucket "+bucket+" at "+s3.Endpoint) {
		t.Fatalf("status says the blobs are in %q", st)
	}

	small, large := randomBytes(t, 40<<10), randomBytes(t, 12<<20)
	sf := uploadV2(t, a, token, alias, "small.bin", "the contract", small)
	lf := uploadV2(t, a, token, alias, "large.bin", "", large)
	if got, want := keys(), []string{blobKey(prefix, small), blobKey(prefix, large)}; !sameSet(got, want) {
		t.Fatalf("bucket holds %q, want %q", got, want)
	}
	if holdsBlob(a, small) || holdsBlob(a, large) {
		t.Fatal("a keeps a blob in its data directory as well as in the bucket")
	}
	if tmp, _ := os.ReadDir(filepath.Join(a.Dir, "blobs", "tmp")); len(tmp) != 0 {
		t.Fatalf("a's blobs/tmp holds %d staged files after the uploads", len(tmp))
	}

	// Whole and by range, from the bucket.
	if st, got := downloadV2(t, a, token, alias, lf, ""); st != 200 || !bytes.Equal(got, large) {
		t.Fatalf("download of the large file: %d, %d bytes", st, len(got))
	}
	if st, got := downloadV2(t, a, token, alias, lf, "bytes=7000000-7000099"); st != http.StatusPartialContent || !bytes.Equal(got, large[7000000:7000100]) {
		t.Fatalf("range of the large file: %d, %d bytes", st, len(got))
	}

	// The same bytes again: a second file, one object.
	again := uploadV2(t, a, token, alias, "copy.bin", "", small)
	if n := len(keys()); n != 2 {
		t.Fatalf("bucket holds %d objects after the same bytes were posted again, want 2", n)
	}

	// b fetches the small file from a at once, the large one on download.
	bob.AwaitFile(room, "small.bin", true)
	if !holdsBlob(b, small) {
		t.Fatal("b does not hold the small file it fetched from a")
	}
	bl := bob.AwaitFile(room, "large.bin", false)
	if got := bob.Download(room, bl.ID); !bytes.Equal(got, large) {
		t.Fatalf("bob downloaded %d bytes from a's bucket, not the file", len(got))
	}

	// a fetches b's file into the bucket.
	fromBob := randomBytes(t, 8<<10)
	bob.PostFile(room, "from-bob.bin", fromBob)
	alice.AwaitFile(room, "from-bob.bin", true)
	if !slices.Contains(keys(), blobKey(prefix, fromBob)) || holdsBlob(a, fromBob) {
		t.Fatalf("a's fetched file is not in the bucket alone: bucket %q", keys())
	}

	// After a restart the files are still there (the node's cache of
	// what the bucket holds is gone with it).
	a.Stop()
	a.Start()
	alias = alice.Room(room).Alias
	if st, got := downloadV2(t, a, token, alias, sf, ""); st != 200 || !bytes.Equal(got, small) {
		t.Fatalf("download after restart: %d, %d bytes", st, len(got))
	}
	if f := alice.AwaitFile(room, "large.bin", true); f.Size != int64(len(large)) {
		t.Fatalf("large file after restart: %+v", f)
	}

	// Deleting the large file's post deletes its object; the small
	// bytes stay while one of their two files does.
	files, err := a.Files(t.Context(), "alice", room, "")
	if err != nil {
		t.Fatal(err)
	}
	post := map[uint64]*node.File{}
	for _, f := range files {
		post[f.ID] = f
	}
	alice.Delete(post[lf].Post)
	alice.Delete(post[again].Post)
	Await(t, 20*time.Second, func() (bool, string) {
		k := keys()
		return !slices.Contains(k, blobKey(prefix, large)), fmt.Sprintf("bucket still holds the deleted file: %q", k)
	})
	if !slices.Contains(keys(), blobKey(prefix, small)) {
		t.Fatal("the small file's object went while a file still has it")
	}
	alice.Delete(post[sf].Post)
	Await(t, 20*time.Second, func() (bool, string) {
		k := keys()
		return !slices.Contains(k, blobKey(prefix, small)), fmt.Sprintf("bucket still holds the deleted file: %q", k)
	})
	Await(t, 20*time.Second, func() (bool, string) {
		return !holdsBlob(b, small) && !holdsBlob(b, large), "b still holds the deleted files"
	})
	for _, k := range keys() {
		if !strings.HasPrefix(k, prefix) {
			t.Fatalf("object %q outside the node's prefix %q", k, prefix)
		}
	}
}

// TestS3Unreachable: a node whose bucket cannot be reached, or does not
// exist, refuses to start, saying so.
func TestS3Unreachable(t *testing.T) {
	s3 := StartS3(t)
	cfg := s3.Bucket(t, "present", "")
	dir := filepath.Join(t.TempDir(), "n")
	if _, err := node.Init(dir, "Org"); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(c *node.S3Config){
		"no such bucket": func(c *node.S3Config) { c.Bucket = "absent" },
		"wrong secret":   func(c *node.S3Config) { c.SecretKey = "wrong" },
		"no credentials": func(c *node.S3Config) { c.AccessKey = "" },
	} {
		t.Run(name, func(t *testing.T) {
			s := *cfg.S3
			mod(&s)
			n, err := node.New(node.Config{DataDir: dir, Blobs: node.BlobConfig{S3: &s}})
			if err == nil {
				n.Close()
				t.Fatal("node started with a bucket it cannot use")
			}
			if !strings.Contains(err.Error(), "s3") {
				t.Fatalf("error %q does not name the S3 store", err)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestS3Thumbnail: the node makes an image's thumbnail from the bucket
// (decoding seeks in the object) and keeps it in its data directory.
func TestS3Thumbnail(t *testing.T) {
	s3 := StartS3(t)
	cfg := s3.Bucket(t, "images", "")
	c := NewCluster(t, 1, Options{Blobs: func(string) node.BlobConfig { return cfg }})
	a := c.Nodes[0]
	a.User("alice")
	alice := a.As("alice")
	room := alice.CreateRoom("Photos")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 1000, 500))); err != nil {
		t.Fatal(err)
	}
	f := alice.PostFile(room, "wide.png", buf.Bytes())
	r, typ, err := a.Thumbnail(t.Context(), "alice", room, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	th, err := png.Decode(r)
	if err != nil || typ != "image/png" || th.Bounds().Dx() != node.ThumbSize || th.Bounds().Dy() != node.ThumbSize/2 {
		t.Fatalf("thumbnail %s %v: %v", typ, th.Bounds(), err)
	}
}

// TestS3Backup: the backup of a node whose blobs are in a bucket names
// the bucket and holds none of the bytes; restored, and run with the same
// bucket, the node serves its files from it again.
func TestS3Backup(t *testing.T) {
	s3 := StartS3(t)
	cfg := s3.Bucket(t, "backed-up", "")
	c := NewCluster(t, 1, Options{Backup: true, Blobs: func(string) node.BlobConfig { return cfg }})
	a := c.Nodes[0]
	a.User("alice")
	alice := a.As("alice")
	room := alice.CreateRoom("Notes")
	content := randomBytes(t, 32<<10)
	f := alice.PostFile(room, "notes.bin", content)

	// Continuous backups copy no blobs either.
	a.AwaitBackup(time.Now())
	if held, _ := filepath.Glob(filepath.Join(a.BackupDir, "blobs", "*", "*")); len(held) > 0 {
		t.Fatalf("the continuous backups hold blobs: %q", held)
	}

	backup := a.SaveBackup()
	if containsAny(t, backup, [][]byte{content[1000:1032]}) {
		t.Fatal("the backup holds the file's bytes, which are in the bucket")
	}
	names := tarNames(t, backup)
	if !slices.Contains(names, "blobstore.txt") {
		t.Fatalf("the backup does not name the bucket: entries %q", names)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "blobs/") {
			t.Fatalf("the backup holds blob %s", n)
		}
	}

	a.Restore(backup)
	if got := alice.Download(room, f.ID); !bytes.Equal(got, content) {
		t.Fatalf("the restored node read %d bytes from the bucket, not the file", len(got))
	}
}

// tarNames lists the entries of a tar file.
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		out = append(out, h.Name)
	}
}

// TestS3MoveIn: a node that kept its blobs on its disk and starts with a
// bucket moves them into the bucket first, and serves them from there.
func TestS3MoveIn(t *testing.T) {
	s3 := StartS3(t)
	var blobs node.BlobConfig // first the data directory
	c := NewCluster(t, 1, Options{Blobs: func(string) node.BlobConfig { return blobs }})
	a := c.Nodes[0]
	a.User("alice")
	alice := a.As("alice")
	room := alice.CreateRoom("Archive")
	content := randomBytes(t, 64<<10)
	f := alice.PostFile(room, "old.bin", content)
	if !holdsBlob(a, content) {
		t.Fatal("the node does not keep the file on its disk")
	}

	a.Stop()
	blobs = s3.Bucket(t, "moved", "p/")
	a.Start()
	if holdsBlob(a, content) {
		t.Fatal("the blob is still in the data directory")
	}
	if got := s3.Keys(t, "moved"); !slices.Equal(got, []string{blobKey("p/", content)}) {
		t.Fatalf("bucket holds %q", got)
	}
	if got := alice.Download(room, f.ID); !bytes.Equal(got, content) {
		t.Fatalf("read %d bytes from the bucket, not the file", len(got))
	}
}
