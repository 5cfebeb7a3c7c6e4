package nodetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// holdsBlob reports whether node nd's blob store holds content.
func holdsBlob(nd *Node, content []byte) bool {
	h := sha256.Sum256(content)
	x := hex.EncodeToString(h[:])
	_, err := os.Stat(filepath.Join(nd.Dir, "blobs", x[:2], x))
	return err == nil
}

// containsAny reports which of the marks (distinctive slices of file
// contents) the file at path holds; false if it is gone (a running
// node's store removes files as it compacts).
func containsAny(t *testing.T, path string, marks [][]byte) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// TestFilesAcrossOrganizations: alice (node a) shares files with bob
// (node b) in a room; carol (node c) is a partner of both and shares
// another room with alice, but not this one. b fetches a small file as
// soon as its post arrives and a large one when bob first downloads it,
// and gets a file posted while it was down once it is back; c gets none of
// the bytes, even when it asks a for them, and neither its data directory
// nor its backup holds any. A deleted file's bytes leave every member
// node.
func TestFilesAcrossOrganizations(t *testing.T) {
	c := NewCluster(t, 3, Options{EagerFetchMax: 8 << 10})
	a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cn.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cn.As("carol")
	room := alice.CreateRoom("Deal", bob.ID())
	other := alice.CreateRoom("Other", carol.ID())
	bob.AwaitRoom(room)
	carol.AwaitRoom(other)

	small, large, late := randomBytes(t, 4<<10), randomBytes(t, 256<<10), randomBytes(t, 2<<10)
	marks := [][]byte{small[100:132], large[1000:1032], large[200000:200032], late[500:532]}

	f1 := alice.PostFile(room, "small.bin", small)
	got := bob.AwaitFile(room, "small.bin", true) // eager: nobody asked
	if got.Size != int64(len(small)) || got.Author != alice.ID() || !holdsBlob(b, small) {
		t.Fatalf("bob's small file %+v", got)
	}

	alice.PostFile(room, "large.bin", large)
	lf := bob.AwaitFile(room, "large.bin", false)
	if lf.Held || holdsBlob(b, large) {
		t.Fatalf("b holds the large file before anyone downloaded it: %+v", lf)
	}
	if data := bob.Download(room, lf.ID); !bytes.Equal(data, large) {
		t.Fatalf("bob downloaded %d bytes, not the file", len(data))
	}
	if !holdsBlob(b, large) {
		t.Fatal("b does not keep the large file after the download")
	}

	// c is a partner, and a member node of another room of alice's: a
	// serves it nothing of this room's, and nothing of other's either, as
	// no file post there names the hash.
	for _, r := range []protocol.RoomID{room, other} {
		n, err := cn.FetchBlobForTest(t.Context(), a.ID(), r, f1.Hash)
		if !errors.Is(err, p2p.ErrNoBlob) || n != 0 {
			t.Fatalf("c fetched %d bytes of the file for room %s: %v, want ErrNoBlob", n, r, err)
		}
	}

	// b is down while alice posts; it fetches the file once back.
	b.Stop()
	alice.PostFile(room, "late.bin", late)
	b.Start()
	bob.AwaitFile(room, "late.bin", true)
	if !holdsBlob(b, late) {
		t.Fatal("b does not hold the file posted while it was down")
	}

	// c holds none of the bytes, in its data directory or its backup.
	if holdsBlob(cn, small) || holdsBlob(cn, large) || holdsBlob(cn, late) {
		t.Fatal("c's blob store holds a file of a room it is not in")
	}
	backup := cn.SaveBackup()
	filepath.WalkDir(cn.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && containsAny(t, path, marks) {
			t.Errorf("c's %s holds bytes of a file of a room it is not in", path)
		}
		return nil
	})
	if containsAny(t, backup, marks) {
		t.Error("c's backup holds bytes of a file of a room it is not in")
	}

	// Deleting the small file's message takes its bytes from a and b.
	alice.Delete(f1.Post)
	Await(t, awaitTimeout, func() (bool, string) {
		return !holdsBlob(a, small) && !holdsBlob(b, small), "the deleted file's bytes are still on a or b"
	})
	if fs, _ := b.Files(t.Context(), "bob", room, ""); len(fs) != 2 {
		t.Fatalf("bob's files after the delete: %d, want 2", len(fs))
	}
}

// scriptedBlobs is a hostile partner's blob server: each request gets the
// next step of its script.
type scriptedBlobs struct {
	content []byte
	mu      sync.Mutex
	steps   []step
	offsets []int64 // where each request started
}

type step struct {
	corrupt bool  // flip every byte
	stopAt  int64 // end the bytes here (0: at the end)
	reset   bool  // end with an error (the stream is reset) rather than cleanly
}

func (s *scriptedBlobs) OpenBlob(_ context.Context, _ protocol.NodeID, _ protocol.RoomID, sum []byte) (io.ReadSeekCloser, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.steps) == 0 {
		return nil, 0, p2p.ErrNoBlob
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	data := bytes.Clone(s.content)
	if st.corrupt {
		for i := range data {
			data[i] ^= 0xff
		}
	}
	return &scriptedReader{s: s, data: data, st: st}, int64(len(s.content)), nil
}

func (s *scriptedBlobs) seen() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.offsets...)
}

type scriptedReader struct {
	s    *scriptedBlobs
	data []byte
	pos  int64
	st   step
}

func (r *scriptedReader) Seek(off int64, whence int) (int64, error) {
	r.s.mu.Lock()
	r.s.offsets = append(r.s.offsets, off)
	r.s.mu.Unlock()
	r.pos = off
	return off, nil
}

func (r *scriptedReader) Read(p []byte) (int, error) {
	end := int64(len(r.data))
	if r.st.stopAt > 0 {
		end = r.st.stopAt
	}
	if r.pos >= end {
		if r.st.reset && r.st.stopAt > 0 {
			return 0, errors.New("connection cut")
		}
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), end-r.pos)], r.data[r.pos:end])
	r.pos += int64(n)
	return n, nil
}

func (r *scriptedReader) Close() error { return nil }

// TestHostileBlobPartner: mallory's node, a member node of the room,
// posts a file and serves it corrupt, then cut short with a clean end,
// then cut by a reset, then whole. a refuses the corrupt bytes and the
// short transfer and counts both, keeps the correct bytes it got, asks
// again from where they end after each cut, and ends with the file.
func TestHostileBlobPartner(t *testing.T) {
	c := NewCluster(t, 1, Options{EagerFetchMax: -1})
	a := c.Nodes[0]
	ctx := t.Context()
	a.User("alice")
	alice := a.As("alice")

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	mallory := protocol.NewAccountID(evil, "mallory")
	room := alice.CreateRoom("Deal", mallory)

	content := randomBytes(t, 64<<10)
	size := int64(len(content))
	sum := sha256.Sum256(content)
	last := newest(t, a, room)
	ev := chained(ctx, a.FederationForTest(), room, evil, last)
	ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
	post, err := protocol.Sign(key, ev, &protocol.MessagePost{File: &protocol.FileRef{Hash: sum[:], Size: uint64(size), Name: "evil.bin"}})
	if err != nil {
		t.Fatal(err)
	}
	blobs := &scriptedBlobs{content: content, steps: []step{
		{corrupt: true},
		{stopAt: size / 2},
		{stopAt: size * 3 / 4, reset: true},
		{},
	}}
	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := roomServer{hostile: hostile{rooms: map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}},
		byRoom: map[protocol.RoomID][][]byte{room: {post.Wire()}}}
	h, err := p2p.New(p2p.Config{Identity: key, Handler: srv, Blobs: blobs, Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		Logger: slog.New(slog.NewTextHandler(testWriter{t, "evil"}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(hctx) }()
	t.Cleanup(func() { stop(); <-done })
	<-h.Ready()
	// The first dial of either side may be refused while the other does
	// not know it yet: the partner is added all the same, and redialed.
	linkHostile(t, h, a)
	Await(t, awaitTimeout, func() (bool, string) {
		err := a.SyncRoomForTest(ctx, evil, room)
		fs, _ := a.Files(ctx, "alice", room, "")
		return len(fs) == 1, "a has not taken in mallory's file post: " + errString(err)
	})
	f := alice.AwaitFile(room, "evil.bin", false)

	for i, want := range []uint64{1, 2} {
		if _, _, err := a.OpenFile(ctx, "alice", room, f.ID); err == nil {
			t.Fatalf("try %d: a opened a file served corrupt or short", i+1)
		}
		if got := a.FileStats().Corrupt; got != want {
			t.Fatalf("try %d: %d bad transfers counted, want %d", i+1, got, want)
		}
		if holdsBlob(a, content) {
			t.Fatalf("try %d: a holds bytes that failed the hash", i+1)
		}
	}
	if data := alice.Download(room, f.ID); !bytes.Equal(data, content) {
		t.Fatal("a's file is not mallory's bytes")
	}
	// The short transfer's correct bytes stayed, and each try after it
	// resumed where they ended. (A reset stream drops what the receiver
	// had not read, so how much of the cut transfer arrived varies.)
	got := blobs.seen()
	if len(got) < 4 || got[0] != 0 || got[1] != 0 || got[2] != size/2 || got[len(got)-1] < size/2 {
		t.Fatalf("requests started at %v, want 0, 0, %d, then at least %d", got, size/2, size/2)
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestBackupHoldsBlobs: a backup holds the files' bytes, and a node
// restored from it serves them with no partner to fetch them from.
func TestBackupHoldsBlobs(t *testing.T) {
	c := NewCluster(t, 1, Options{})
	a := c.Nodes[0]
	a.User("alice")
	alice := a.As("alice")
	room := alice.CreateRoom("Notes")
	content := randomBytes(t, 100<<10)
	f := alice.PostFile(room, "notes.bin", content)
	backup := a.SaveBackup()
	if !containsAny(t, backup, [][]byte{content[5000:5032]}) {
		t.Fatal("the backup does not hold the file's bytes")
	}
	a.Restore(backup)
	if !holdsBlob(a, content) {
		t.Fatal("the restored node does not hold the file's bytes")
	}
	if got := alice.Download(room, f.ID); !bytes.Equal(got, content) {
		t.Fatal("the restored file differs")
	}
}
