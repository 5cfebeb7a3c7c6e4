package storage

import (
	"bytes"
	"crypto/ed25519"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/horenso/horenso/protocol"
)

const secret = "zebra-secret-0451"

// secretPost returns a post of a version 3 room whose body holds secret,
// and its message record.
func secretPost(t *testing.T) (*protocol.Signed, *Message) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	me := protocol.NewAccountID(protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), "alice")
	create, err := protocol.Sign(key, protocol.Event{Author: "alice", Time: 1},
		&protocol.RoomCreate{Kind: protocol.KindGroup, Creator: protocol.MemberInfo{Account: me, Role: protocol.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	ev := protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{create.Order()}, create.Order(), 1)
	ev.Author, ev.Time = "alice", 2
	post, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: secret})
	if err != nil {
		t.Fatal(err)
	}
	return post, &Message{Message: *protocol.NewMessage(post), Alias: 1}
}

func backup(t *testing.T, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBackupKeepsReplacedVersions pins down why redaction sets the
// discard bit: Badger's backup streams every version of a key it still
// holds, not only the latest.
func TestBackupKeepsReplacedVersions(t *testing.T) {
	s := openTest(t, t.TempDir())
	k := []byte{0xee, 1}
	update(t, s, func(tx *Tx) error { return tx.set(k, []byte(secret)) })
	update(t, s, func(tx *Tx) error { return tx.set(k, []byte("plain")) })
	if !bytes.Contains(backup(t, s), []byte(secret)) {
		t.Fatal("the replaced value is not in the backup: Badger changed, and redaction may not need the discard bit")
	}
	update(t, s, func(tx *Tx) error { return tx.setDiscard(k, []byte("plainer")) })
	if bytes.Contains(backup(t, s), []byte(secret)) {
		t.Fatal("the replaced value is in the backup despite the discard bit")
	}
}

// TestRedactEvent: once the post is redacted and its message record
// cleared, neither a backup nor, after Purge, any file of the store holds
// its text; the event keeps its ID and decodes as redacted.
func TestRedactEvent(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	post, m := secretPost(t)
	room := post.RoomID()
	update(t, s, func(tx *Tx) error {
		if err := tx.PutEvent(post, protocol.SnapshotKey{}); err != nil {
			return err
		}
		return tx.PutMessage(room, m)
	})
	if !bytes.Contains(backup(t, s), []byte(secret)) {
		t.Fatal("the text is not in the backup before redaction")
	}
	// Purged before redaction, the text is in the table files: the
	// search below can find it there, compressed tables and all.
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if files := filesHolding(t, dir, secret); len(files) == 0 {
		t.Fatal("no file holds the text before redaction")
	}
	update(t, s, func(tx *Tx) error {
		if ok, err := tx.RedactEvent(post.ID); err != nil || !ok {
			t.Fatalf("RedactEvent = %t, %v", ok, err)
		}
		if ok, err := tx.RedactEvent(post.ID); err != nil || ok {
			t.Fatalf("RedactEvent again = %t, %v; want false", ok, err)
		}
		m.Deleted, m.Body = true, ""
		return tx.PutMessage(room, m)
	})
	view(t, s, func(tx *Tx) error {
		e, err := tx.Event(post.ID)
		if err != nil || e == nil || !e.Redacted() || e.ID != post.ID {
			t.Fatalf("stored event %v, %v; want the redacted post", e, err)
		}
		if _, err := protocol.Decode(e.Wire()); err != nil {
			t.Fatalf("the redacted wire form does not verify: %v", err)
		}
		return nil
	})
	if bytes.Contains(backup(t, s), []byte(secret)) {
		t.Fatal("the text is in the backup after redaction")
	}
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if files := filesHolding(t, dir, secret); len(files) > 0 {
		t.Fatalf("%v hold the text after Purge", files)
	}
}

// filesHolding returns the names of the files under dir that hold text.
func filesHolding(t *testing.T, dir, text string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(text)) {
			names = append(names, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestEventInTheUpdateThatPutIt: an Update reads back the events it
// stored as they are, and, once it redacted one, the redacted form.
func TestEventInTheUpdateThatPutIt(t *testing.T) {
	s := openTest(t, t.TempDir())
	post, _ := secretPost(t)
	update(t, s, func(tx *Tx) error {
		if err := tx.PutEvent(post, protocol.SnapshotKey{}); err != nil {
			return err
		}
		e, err := tx.Event(post.ID)
		if err != nil || e == nil || e.ID != post.ID || e.Redacted() {
			t.Errorf("Event after PutEvent = %v, %v; want the post", e, err)
		}
		if ok, err := tx.RedactEvent(post.ID); !ok || err != nil {
			t.Fatalf("RedactEvent = %v, %v", ok, err)
		}
		e, err = tx.Event(post.ID)
		if err != nil || e == nil || e.ID != post.ID || !e.Redacted() {
			t.Errorf("Event after RedactEvent = %v, %v; want the post redacted", e, err)
		}
		return nil
	})
	s.View(func(tx *Tx) error {
		e, err := tx.Event(post.ID)
		if err != nil || e == nil || !e.Redacted() {
			t.Errorf("Event after the commit = %v, %v; want the post redacted", e, err)
		}
		return nil
	})
}

// TestPurgeWhileWriting: Updates made while Purge runs wait for it and
// succeed; Badger refuses writes while Purge drops its marker, so a
// commit running beside that would fail with ErrBlockedWrites.
func TestPurgeWhileWriting(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := t.Context()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Update(ctx, func(tx *Tx) error {
					return tx.set([]byte{0xee, byte(w), byte(i >> 8), byte(i)}, bytes.Repeat([]byte{'x'}, 512))
				})
				if err != nil {
					errs <- err
					return
				}
				writes.Add(1)
			}
		})
	}
	for range 5 {
		if err := s.Purge(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("an Update beside Purge failed: %v", err)
	}
	if writes.Load() == 0 {
		t.Fatal("no Update ran beside Purge")
	}
}
