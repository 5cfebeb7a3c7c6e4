package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestPartnerFilePolicy: the outbound policy applies in rooms shared with
// another organization, and only there.
func TestPartnerFilePolicy(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	partner := protocol.NewAccountID(protocol.NodeIDFromKey(pub), "pat")
	for _, tc := range []struct {
		name   string
		policy FilePolicy
		file   string
		size   int
		shared error // the error in the shared room; nil: posted
	}{
		{"no policy", FilePolicy{}, "a.png", 10, nil},
		{"deny", FilePolicy{Deny: true}, "a.png", 10, ErrForbidden},
		{"max size ok", FilePolicy{MaxSize: 10}, "a.png", 10, nil},
		{"max size over", FilePolicy{MaxSize: 10}, "a.png", 11, ErrForbidden},
		{"type by kind", FilePolicy{Types: []string{"image/*"}}, "a.png", 10, nil},
		{"type exact", FilePolicy{Types: []string{"application/pdf"}}, "a.pdf", 10, nil},
		{"type refused", FilePolicy{Types: []string{"image/*"}}, "a.exe", 10, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Init(dir, "Acme"); err != nil {
				t.Fatal(err)
			}
			n, err := New(Config{DataDir: dir, Logger: testLogger(t), PartnerFiles: tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			ctx := t.Context()
			must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
			local := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "In house"}))
			shared := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Deal", Members: []MemberSpec{{Account: partner}}}))
			post := func(room protocol.RoomID) error {
				_, err := n.PostFile(ctx, "alice", room, NewFile{Name: tc.file, Data: strings.NewReader(strings.Repeat("x", tc.size))})
				return err
			}
			if err := post(local.ID); err != nil {
				t.Fatalf("in a room of the organization: %v", err)
			}
			if err := post(shared.ID); !errors.Is(err, tc.shared) || (err == nil) != (tc.shared == nil) {
				t.Fatalf("in a shared room: %v, want %v", err, tc.shared)
			}
			if err != nil {
				var p *Problem
				if !errors.As(err, &p) || p.Msg == "" {
					t.Fatalf("refusal %v has no message for the client", err)
				}
			}
		})
	}
}

// TestStageStreams: staging a file far larger than the copy buffer keeps
// the heap flat, and leaves no temporary file once committed or dropped.
func TestStageStreams(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{DataDir: dir, Logger: testLogger(t), MaxFileSize: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	up, err := n.StageFile(t.Context(), &zeros{left: size})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 8<<20 {
		t.Fatalf("staging %d MiB allocated %d MiB", size>>20, grew>>20)
	}
	if up.size != size {
		t.Fatalf("staged %d bytes, want %d", up.size, size)
	}
	up.Discard()
	if _, err := n.StageFile(t.Context(), &zeros{left: 256<<20 + 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("staging past the limit: %v, want ErrInvalid", err)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, blobsDir, blobsTmp))
	if len(tmp) != 0 {
		t.Fatalf("%d temporary files left", len(tmp))
	}
}

// zeros yields left zero bytes.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	clear(p[:n])
	z.left -= n
	return int(n), nil
}

// TestStageFileDiskFull: a file may not take the disk below the store's
// floor.
func TestStageFileDiskFull(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{DataDir: dir, Logger: testLogger(t), MinFreeDisk: 1 << 60})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.StageFile(t.Context(), strings.NewReader("x")); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("staging on a full disk: %v, want ErrDiskFull", err)
	}
}
