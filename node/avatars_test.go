package node

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

func pngOf(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAvatarBlobs: an avatar picture's blob stays while the account or a
// file shows it, and goes when neither does.
func TestAvatarBlobs(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	acc := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "alice-password"}))
	sumOf := func() []byte {
		var sum []byte
		n.store.View(func(tx *storage.Tx) error {
			a, err := tx.Account("alice")
			if err == nil {
				sum = a.Avatar
			}
			return err
		})
		return sum
	}

	v1 := must[string](t)(n.SetAvatar(ctx, "alice", bytes.NewReader(pngOf(t, color.RGBA{255, 0, 0, 255}))))
	first := sumOf()
	if v1 == "" || !n.blobs.has(first) {
		t.Fatalf("avatar %q: blob stored = %v", v1, n.blobs.has(first))
	}
	p := must[*Profile](t)(n.Profile(ctx, acc.ID))
	if p.Avatar != v1 {
		t.Fatalf("profile avatar = %q, want %q", p.Avatar, v1)
	}
	// A file with the same bytes as the picture.
	f, _, _, err := n.OpenAvatar(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	same, _ := io.ReadAll(f)
	f.Close()
	if _, err := n.PostFile(ctx, "alice", acc.MyChat, NewFile{Name: "me.png", Type: "image/png", Data: bytes.NewReader(same)}); err != nil {
		t.Fatal(err)
	}

	// A new picture: the first blob stays for the file.
	v2 := must[string](t)(n.SetAvatar(ctx, "alice", bytes.NewReader(pngOf(t, color.RGBA{0, 0, 255, 255}))))
	second := sumOf()
	if v2 == v1 || bytes.Equal(first, second) {
		t.Fatalf("a new picture kept version %q", v2)
	}
	n.collectBlobs(t.Context())
	if !n.blobs.has(first) || !n.blobs.has(second) {
		t.Fatalf("after replacing: first kept = %v (a file has it), second kept = %v", n.blobs.has(first), n.blobs.has(second))
	}
	// Cleared: the second blob, which nothing else has, goes.
	if err := n.ClearAvatar(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	n.collectBlobs(t.Context())
	if n.blobs.has(second) {
		t.Fatal("the cleared picture's blob is still stored")
	}
	if _, _, _, err := n.OpenAvatar(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open a cleared avatar = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		name string
		h    protocol.Handle
		data []byte
		want error
	}{
		{"not a picture", "alice", []byte("GIF89a but not really"), ErrInvalid},
		{"unknown account", "nobody", pngOf(t, color.Black), ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := n.SetAvatar(ctx, tc.h, bytes.NewReader(tc.data)); !errors.Is(err, tc.want) {
				t.Fatalf("= %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSetName(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	if err := n.SetName(ctx, "alice", "  Alice Sato  "); err != nil {
		t.Fatal(err)
	}
	if a := must[*Account](t)(n.Account(ctx, "alice")); a.Name != "Alice Sato" {
		t.Fatalf("name = %q", a.Name)
	}
	for _, bad := range []string{"", "   ", string(make([]byte, protocol.MaxNameSize+1))} {
		if err := n.SetName(ctx, "alice", bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SetName(%d bytes) = %v, want ErrInvalid", len(bad), err)
		}
	}
}

// TestAvatarVersionsCached: AvatarVersions answers from its cache until an
// account record is written, and never an avatar that changed.
func TestAvatarVersionsCached(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	alice := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "alice-password"}))
	bob := must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob", Password: "bob-password"}))
	ids := []protocol.AccountID{alice.ID, bob.ID, protocol.NewAccountID("elsewhere", "carol")}
	versions := func() map[protocol.AccountID]string {
		t.Helper()
		return must[map[protocol.AccountID]string](t)(n.AvatarVersions(ctx, ids))
	}
	if v := versions(); len(v) != 0 {
		t.Fatalf("versions before any avatar: %v", v)
	}
	v1 := must[string](t)(n.SetAvatar(ctx, "alice", bytes.NewReader(pngOf(t, color.RGBA{255, 0, 0, 255}))))
	if v := versions(); len(v) != 1 || v[alice.ID] != v1 {
		t.Fatalf("versions after alice's avatar: %v, want alice's %q", v, v1)
	}
	// Both local accounts are cached (the partner's is not read).
	n.avatars.mu.Lock()
	cached := len(n.avatars.versions)
	n.avatars.mu.Unlock()
	if cached != 2 {
		t.Fatalf("%d avatar versions cached, want alice's and bob's", cached)
	}
	v2 := must[string](t)(n.SetAvatar(ctx, "bob", bytes.NewReader(pngOf(t, color.RGBA{0, 0, 255, 255}))))
	if v := versions(); len(v) != 2 || v[alice.ID] != v1 || v[bob.ID] != v2 {
		t.Fatalf("versions after bob's avatar: %v, want %q and %q", v, v1, v2)
	}
	if err := n.ClearAvatar(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if v := versions(); len(v) != 1 || v[bob.ID] != v2 {
		t.Fatalf("versions after alice cleared hers: %v, want bob's %q only", v, v2)
	}
}
