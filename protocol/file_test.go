package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func sampleFile(name string) *FileRef {
	h := sha256.Sum256([]byte(name))
	return &FileRef{Hash: h[:], Size: 12, Name: name, Type: "text/plain"}
}

// TestFilePostValidate: a file post may have an empty body; its file must
// have a 32-byte hash, a plain name and a well-formed media type.
func TestFilePostValidate(t *testing.T) {
	ok := sampleFile("a.txt")
	for _, tc := range []struct {
		name string
		c    *MessagePost
		ok   bool
	}{
		{"text only", &MessagePost{Body: "hi"}, true},
		{"empty text without file", &MessagePost{}, false},
		{"file without text", &MessagePost{File: ok}, true},
		{"file with text", &MessagePost{Body: "see", File: ok}, true},
		{"short hash", &MessagePost{File: &FileRef{Hash: []byte{1}, Name: "a"}}, false},
		{"no name", &MessagePost{File: &FileRef{Hash: ok.Hash}}, false},
		{"path", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: "../etc/passwd"}}, false},
		{"backslash", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: `a\b`}}, false},
		{"dot dot", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: ".."}}, false},
		{"long name", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: strings.Repeat("x", MaxFileNameSize+1)}}, false},
		{"too big", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: "a", Size: MaxFileSize + 1}}, false},
		{"type with params", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: "a", Type: "text/plain; charset=utf-8"}}, true},
		{"bad type", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: "a", Type: "image"}}, false},
		{"type with space", &MessagePost{File: &FileRef{Hash: ok.Hash, Name: "a", Type: "ima ge/png"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Sign(fixedKey, Event{Version: Version, Room: RoomID{1}, Author: "alice", Depth: 1, Seq: 2,
				Prev: []EventID{{2}}}, tc.c)
			if (err == nil) != tc.ok {
				t.Fatalf("Sign: %v, want ok %t", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Sign: %v, want ErrMalformed", err)
				}
				return
			}
			got, err := Decode(e.Wire())
			if err != nil {
				t.Fatal(err)
			}
			p := got.Content.(*MessagePost)
			if (p.File == nil) != (tc.c.File == nil) || p.File != nil && (!bytes.Equal(p.File.Hash, tc.c.File.Hash) || p.File.Name != tc.c.File.Name) {
				t.Fatalf("decoded %+v, want %+v", p, tc.c)
			}
		})
	}
}

// TestTextPostEncodingUnchanged: a post without a file encodes as before
// file posts existed (one key), so its ID is the same on older nodes.
func TestTextPostEncodingUnchanged(t *testing.T) {
	b, err := encMode.Marshal(&MessagePost{Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0xa1, 0x01, 0x62, 'h', 'i'}; !bytes.Equal(b, want) {
		t.Fatalf("encoding % x, want % x", b, want)
	}
}

// TestFilePostRules: members but readonly ones post files; a delete or a
// winning edit takes the file away with the text; the redacted post names
// no file, so a replica given redacted forms converges.
func TestFilePostRules(t *testing.T) {
	rr := newVersionRoom(t, versionRedaction, KindGroup, 0)
	if err := rr.try("carol", &MessagePost{File: sampleFile("c")}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("readonly file post: %v, want ErrReadOnly", err)
	}
	fp := rr.must("bob", &MessagePost{Body: "see", File: sampleFile("b")})
	kept := rr.must("bob", &MessagePost{File: sampleFile("k")})
	st, err := rr.r.State()
	if err != nil {
		t.Fatal(err)
	}
	var m *Message
	for _, x := range st.Messages {
		if x.ID == fp.ID {
			m = x
		}
	}
	if m == nil || m.File == nil || m.File.Name != "b" || m.Body != "see" {
		t.Fatalf("file message %+v", m)
	}
	rr.must("bob", &MessageDelete{Message: fp.ID})
	rr.must("bob", &MessageEdit{Message: kept.ID, Body: "text now"})
	st, _ = rr.r.State()
	for _, x := range st.Messages {
		if (x.ID == fp.ID || x.ID == kept.ID) && x.File != nil {
			t.Fatalf("message %s keeps its file after %s", x.ID, map[bool]string{true: "delete", false: "edit"}[x.ID == fp.ID])
		}
	}
	// A replica given the redacted posts shows the same.
	r := NewReplica(rr.create.RoomID())
	for _, e := range rr.r.Events() {
		if e.ID == fp.ID || e.ID == kept.ID {
			if e, err = e.Redact(); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Add(e); err != nil {
			t.Fatalf("add %s: %v", e.Type, err)
		}
	}
	st2, err := r.State()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.Encode(), st2.Encode()) {
		t.Fatal("replica given redacted file posts disagrees")
	}
}

func TestBlobFrames(t *testing.T) {
	h := sha256.Sum256([]byte("x"))
	var buf bytes.Buffer
	q := &BlobRequest{Room: RoomID{7}, Hash: h[:], Offset: 42}
	if err := WriteBlobFrame(&buf, q); err != nil {
		t.Fatal(err)
	}
	if err := WriteBlobFrame(&buf, &BlobResponse{Status: BlobOK, Size: 99}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBlobRequest(&buf)
	if err != nil || got.Room != q.Room || !bytes.Equal(got.Hash, q.Hash) || got.Offset != 42 {
		t.Fatalf("request %+v, %v", got, err)
	}
	a, err := ReadBlobResponse(&buf)
	if err != nil || a.Status != BlobOK || a.Size != 99 {
		t.Fatalf("response %+v, %v", a, err)
	}
	for name, in := range map[string][]byte{
		"zero length":  {0, 0},
		"too long":     {0xff, 0xff},
		"not cbor":     {0, 1, 0xff},
		"short hash":   append([]byte{0, 5}, 0xa2, 0x01, 0x40, 0x02, 0x40),
		"truncated":    {0, 9, 0xa1},
		"unknown keys": append([]byte{0, 3}, 0xa1, 0x09, 0x01),
	} {
		if _, err := ReadBlobRequest(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: ReadBlobRequest accepted % x", name, in)
		}
	}
	var bad bytes.Buffer
	if err := WriteBlobFrame(&bad, &BlobResponse{Status: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBlobResponse(&bad); !errors.Is(err, ErrBadBlobFrame) {
		t.Fatalf("unknown status: %v, want ErrBadBlobFrame", err)
	}
}
