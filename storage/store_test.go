package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatal(err)
	}
}

func TestDirtyMarker(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if s.Dirty() {
		t.Fatal("new store reported dirty")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	if s.Dirty() {
		t.Fatal("cleanly closed store reported dirty")
	}
	// Simulate a crash: close Badger without clearing the marker.
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.writes)
		s.mu.Unlock()
		<-s.done
		if err := s.db.Close(); err != nil {
			t.Fatal(err)
		}
	})
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.Dirty() {
		t.Fatal("store left open was not reported dirty")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
}

func TestUpdateErrorDiscardsWrites(t *testing.T) {
	s := openTest(t, t.TempDir())
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx *Tx) error {
		if err := tx.PutAccount(nil, &Account{Handle: "alice", Name: "Alice", Email: "a@x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	view(t, s, func(tx *Tx) error {
		if _, err := tx.Account("alice"); !errors.Is(err, ErrNotFound) {
			t.Errorf("account after failed update: %v, want ErrNotFound", err)
		}
		if _, err := tx.AccountByEmail("A@X"); !errors.Is(err, ErrNotFound) {
			t.Errorf("email index after failed update: %v, want ErrNotFound", err)
		}
		return nil
	})
}

// TestConcurrentUpdates checks that concurrent writers, batched into
// shared commits, each see earlier writes and all survive a reopen.
func TestConcurrentUpdates(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := s.Update(context.Background(), func(tx *Tx) error {
					// Every write bumps a shared counter: lost updates would show.
					if _, err := tx.Alias(AliasMessage, fmt.Appendf(nil, "w%d-%d", w, i)); err != nil {
						return err
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		seen := map[uint64]bool{}
		for w := range writers {
			for i := range each {
				n, err := tx.LookupAlias(AliasMessage, fmt.Appendf(nil, "w%d-%d", w, i))
				if err != nil {
					t.Fatalf("alias w%d-%d: %v", w, i, err)
				}
				if seen[n] {
					t.Fatalf("alias %d handed out twice", n)
				}
				seen[n] = true
			}
		}
		if !seen[writers*each] || seen[writers*each+1] {
			t.Errorf("aliases not dense 1..%d", writers*each)
		}
		return nil
	})
}

func TestUpdateAfterClose(t *testing.T) {
	s := openTest(t, t.TempDir())
	s.Close()
	if err := s.Update(t.Context(), func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close = %v, want ErrClosed", err)
	}
}

// TestViewRacingClose: a View in progress when Close starts reads on, and
// Close waits for it before closing Badger (whose reads on a closed DB
// crash the process); a View after Close fails with ErrClosed.
func TestViewRacingClose(t *testing.T) {
	s := openTest(t, t.TempDir())
	update(t, s, func(tx *Tx) error { return tx.PutAccount(nil, &Account{Handle: "alice", Name: "Alice"}) })
	inView := make(chan struct{})
	closed := make(chan error, 1)
	viewErr := make(chan error, 1)
	go func() {
		viewErr <- s.View(func(tx *Tx) error {
			close(inView)
			for closing := false; !closing; { // wait for Close to begin
				runtime.Gosched()
				s.mu.RLock()
				closing = s.closed
				s.mu.RUnlock()
			}
			// Close must not finish while this View runs; without the
			// wait it does so in a few milliseconds.
			select {
			case err := <-closed:
				return fmt.Errorf("Close returned (%v) during a View", err)
			case <-time.After(200 * time.Millisecond):
			}
			a, err := tx.Account("alice")
			if err == nil && (a == nil || a.Name != "Alice") {
				err = fmt.Errorf("account = %+v", a)
			}
			return err
		})
	}()
	<-inView
	go func() { closed <- s.Close() }()
	if err := <-viewErr; err != nil {
		t.Fatalf("the View in progress when Close began: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := s.View(func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("View after Close = %v, want ErrClosed", err)
	}
}

// room builds a signed room with n messages on a single chain.
func testRoom(t *testing.T, n int) (create *protocol.Signed, posts []*protocol.Signed) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	node := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	me := protocol.NewAccountID(node, "alice")
	create, err := protocol.Sign(key, protocol.Event{Author: "alice", Time: 1},
		&protocol.RoomCreate{Kind: protocol.KindGroup, Name: "r", Creator: protocol.MemberInfo{Account: me, Role: protocol.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	heads := []protocol.Order{create.Order()}
	for i := range n {
		ev := protocol.ChainSuccessor(create.RoomID(), create.Version, heads, heads[0], uint64(i+1))
		ev.Author, ev.Time = "alice", int64(i+2)
		p, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
		heads = []protocol.Order{p.Order()}
	}
	return create, posts
}

func TestEventsHeadsAndTimeline(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, posts := testRoom(t, 10)
	room := create.RoomID()
	snap := protocol.After(nil, create)
	update(t, s, func(tx *Tx) error {
		k, err := tx.PutSnapshot(snap)
		if err != nil {
			return err
		}
		for _, e := range append([]*protocol.Signed{create}, posts...) {
			if err := tx.PutEvent(e, k); err != nil {
				return err
			}
			hs, err := tx.Heads(room)
			if err != nil {
				return err
			}
			if err := tx.AdvanceHeads(e, Tip{Heads: hs}); err != nil {
				return err
			}
			if e.Type == protocol.TypeMessagePost {
				if err := putTimelineRecord(tx, room, e); err != nil {
					return err
				}
			}
		}
		hs, err := tx.Heads(room)
		if err != nil {
			return err
		}
		if len(hs) != 1 || hs[0] != posts[9].Order() {
			t.Errorf("heads within the update = %v, want the last post", hs)
		}
		return nil
	})
	view(t, s, func(tx *Tx) error {
		e, err := tx.Event(posts[3].ID)
		if err != nil || e == nil || e.Content.(*protocol.MessagePost).Body != "m3" {
			t.Errorf("Event = %v, %v", e, err)
		}
		if e, err := tx.Event(protocol.EventID{1}); e != nil || err != nil {
			t.Errorf("Event(unknown) = %v, %v; want nil, nil", e, err)
		}
		k, err := tx.EventSnapshot(posts[3].ID)
		if err != nil {
			return err
		}
		got, err := tx.Snapshot(k)
		if err != nil || got.Key() != snap.Key() || got.State.Name != "r" {
			t.Errorf("Snapshot = %+v, %v", got, err)
		}
		hs, err := tx.Heads(room)
		if err != nil || len(hs) != 1 || hs[0] != posts[9].Order() {
			t.Errorf("Heads = %v, %v", hs, err)
		}
		last, err := tx.Messages(room, protocol.Order{}, false, 3)
		if err != nil {
			return err
		}
		if bodies(last) != "m7 m8 m9" {
			t.Errorf("last 3 = %s", bodies(last))
		}
		before, _ := tx.Messages(room, posts[5].Order(), false, 2)
		if bodies(before) != "m3 m4" {
			t.Errorf("2 before m5 = %s", bodies(before))
		}
		after, _ := tx.Messages(room, posts[5].Order(), true, 100)
		if bodies(after) != "m6 m7 m8 m9" {
			t.Errorf("after m5 = %s", bodies(after))
		}
		n, _ := tx.CountMessagesAfter(room, posts[5].Order(), 100, nil)
		if n != 4 {
			t.Errorf("CountMessagesAfter = %d, want 4", n)
		}
		r, m, err := tx.Message(posts[2].ID)
		if err != nil || r != room || m.Body != "m2" || m.Alias != 3 {
			t.Errorf("Message = %v %v %v", r, m, err)
		}
		var depths []uint64
		tx.RoomEvents(room, 9, func(d uint64, _ protocol.EventID) bool { depths = append(depths, d); return true })
		if fmt.Sprint(depths) != "[9 10]" {
			t.Errorf("RoomEvents from 9 = %v", depths)
		}
		return nil
	})
}

// putTimelineRecord hands message post e the next message alias and
// stores its timeline record in room.
func putTimelineRecord(tx *Tx, room protocol.RoomID, e *protocol.Signed) error {
	alias, err := tx.Alias(AliasMessage, e.ID[:])
	if err != nil {
		return err
	}
	return tx.PutMessage(room, &Message{Message: *protocol.NewMessage(e), Alias: alias})
}

func bodies(ms []*Message) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += " "
		}
		s += m.Body
	}
	return s
}

func TestTaskIndexes(t *testing.T) {
	s := openTest(t, t.TempDir())
	room := protocol.RoomID{7}
	bob, carol := protocol.AccountID("bob@n"), protocol.AccountID("carol@n")
	open := &Task{Room: room, Task: protocol.Task{ID: protocol.EventID{1}, Assignees: []protocol.AccountID{bob, carol}, Status: protocol.TaskOpen}}
	update(t, s, func(tx *Tx) error { return tx.PutTask(nil, open) })
	done := &Task{Room: room, Task: open.Task}
	done.Status, done.Assignees = protocol.TaskDone, []protocol.AccountID{bob}
	update(t, s, func(tx *Tx) error { return tx.PutTask(open, done) })
	view(t, s, func(tx *Tx) error {
		for _, c := range []struct {
			name string
			got  func() ([]protocol.EventID, error)
			want int
		}{
			{"room open", func() ([]protocol.EventID, error) { return tx.RoomTasks(room, protocol.TaskOpen) }, 0},
			{"room done", func() ([]protocol.EventID, error) { return tx.RoomTasks(room, protocol.TaskDone) }, 1},
			{"room any", func() ([]protocol.EventID, error) { return tx.RoomTasks(room, "") }, 1},
			{"bob done", func() ([]protocol.EventID, error) { return tx.AssignedTasks(bob, protocol.TaskDone) }, 1},
			{"bob open", func() ([]protocol.EventID, error) { return tx.AssignedTasks(bob, protocol.TaskOpen) }, 0},
			{"carol any", func() ([]protocol.EventID, error) { return tx.AssignedTasks(carol, "") }, 0},
		} {
			ids, err := c.got()
			if err != nil || len(ids) != c.want {
				t.Errorf("%s: %v, %v; want %d", c.name, ids, err, c.want)
			}
		}
		got, err := tx.Task(protocol.EventID{1})
		if err != nil || got.Status != protocol.TaskDone || got.Room != room || got.ID != (protocol.EventID{1}) {
			t.Errorf("Task = %+v, %v", got, err)
		}
		return nil
	})
}

func TestAccountsTokensAliases(t *testing.T) {
	s := openTest(t, t.TempDir())
	tok := HashToken("secret")
	update(t, s, func(tx *Tx) error {
		if err := tx.PutAccount(nil, &Account{Handle: "alice", Email: "Alice@Example.com"}); err != nil {
			return err
		}
		return tx.PutToken(tok, &Token{Handle: "alice"})
	})
	update(t, s, func(tx *Tx) error {
		old, _ := tx.Account("alice")
		return tx.PutAccount(old, &Account{Handle: "alice", Email: "new@example.com"})
	})
	view(t, s, func(tx *Tx) error {
		if _, err := tx.AccountByEmail("alice@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old email still indexed: %v", err)
		}
		if a, err := tx.AccountByEmail("NEW@example.com"); err != nil || a.Handle != "alice" {
			t.Errorf("AccountByEmail = %v, %v", a, err)
		}
		if tk, err := tx.Token(tok); err != nil || tk.Handle != "alice" {
			t.Errorf("Token = %v, %v", tk, err)
		}
		return nil
	})
	update(t, s, func(tx *Tx) error {
		n, err := tx.DeleteTokens("alice")
		if n != 1 {
			t.Errorf("DeleteTokens = %d, want 1", n)
		}
		return err
	})
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Token(tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("token after delete: %v", err)
		}
		a1, _ := tx.Alias(AliasRoom, []byte("x"))
		a2, _ := tx.Alias(AliasRoom, []byte("y"))
		again, _ := tx.Alias(AliasRoom, []byte("x"))
		if a1 != 1 || a2 != 2 || again != 1 {
			t.Errorf("aliases = %d %d %d, want 1 2 1", a1, a2, again)
		}
		g, err := tx.Resolve(AliasRoom, 2)
		if err != nil || string(g) != "y" {
			t.Errorf("Resolve(2) = %q, %v", g, err)
		}
		if _, err := tx.Resolve(AliasRoom, 3); !errors.Is(err, ErrNotFound) {
			t.Errorf("Resolve(3) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func TestViewRejectsWrites(t *testing.T) {
	s := openTest(t, t.TempDir())
	err := s.View(func(tx *Tx) error { return tx.PutRoom(&Room{}) })
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write in View = %v, want ErrReadOnly", err)
	}
}

// TestTokenRecordsOfBothShapes: a token record written before sessions
// recorded their last use and client still decodes, with those fields
// zero, and Tokens lists an account's tokens with their records.
func TestTokenRecordsOfBothShapes(t *testing.T) {
	s := openTest(t, t.TempDir())
	old, current := HashToken("old"), HashToken("new")
	type oldToken struct { // storage.Token as first released
		Handle  protocol.Handle `cbor:"1,keyasint"`
		Name    string          `cbor:"2,keyasint,omitempty"`
		Created int64           `cbor:"3,keyasint"`
	}
	update(t, s, func(tx *Tx) error {
		if err := tx.setRecord(key(pToken, old[:]), &oldToken{Handle: "alice", Name: "web session", Created: 5}); err != nil {
			return err
		}
		if err := tx.set(key(pOwnTok, []byte("alice"), []byte{0}, old[:]), nil); err != nil {
			return err
		}
		return tx.PutToken(current, &Token{Handle: "alice", Name: "web session", Created: 7, LastUsed: 8, UserAgent: "ua", Addr: "192.0.2.1"})
	})
	view(t, s, func(tx *Tx) error {
		ts, err := tx.Tokens("alice")
		if err != nil {
			t.Fatal(err)
		}
		got := map[TokenHash]Token{}
		for _, tk := range ts {
			got[tk.Hash] = *tk.Token
		}
		want := map[TokenHash]Token{
			old:     {Handle: "alice", Name: "web session", Created: 5},
			current: {Handle: "alice", Name: "web session", Created: 7, LastUsed: 8, UserAgent: "ua", Addr: "192.0.2.1"},
		}
		if len(got) != 2 || !reflect.DeepEqual(got[old], want[old]) || !reflect.DeepEqual(got[current], want[current]) {
			t.Errorf("Tokens = %+v, want %+v", got, want)
		}
		return nil
	})
}

// TestBlockCacheStats: a read of a key in a table file misses the block
// cache once, and the next read of its block hits it.
func TestBlockCacheStats(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	update(t, s, func(tx *Tx) error {
		for i := range 1000 {
			if err := tx.PutAccount(nil, &Account{Handle: protocol.Handle(fmt.Sprintf("a%04d", i)), Name: "A"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Close(); err != nil { // Badger flushes its memtables to table files
		t.Fatal(err)
	}
	s = openTest(t, dir)
	before := s.Stats()
	read := func() {
		view(t, s, func(tx *Tx) error {
			a, err := tx.Account("a0500")
			if err == nil && (a == nil || a.Name != "A") {
				err = fmt.Errorf("account a0500 = %+v", a)
			}
			return err
		})
	}
	read()
	missed := s.Stats()
	if missed.BlockCacheMisses <= before.BlockCacheMisses {
		t.Fatalf("the first read of a table block: misses %d → %d, want more", before.BlockCacheMisses, missed.BlockCacheMisses)
	}
	// Badger adds to its cache asynchronously: wait for the block to be
	// cached, and a read to hit it.
	for deadline := time.Now().Add(10 * time.Second); s.Stats().BlockCacheHits == missed.BlockCacheHits; {
		if time.Now().After(deadline) {
			t.Fatalf("no read hit the block cache: %+v", s.Stats())
		}
		read()
	}
}

// TestBadgerLogger checks what Badger's messages become: errors and
// warnings at their level, its info and debug lines at debug, and nothing
// at all, not even formatted, when debug is off.
func TestBadgerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	formatted := 0
	arg := formatterFunc(func() string { formatted++; return "x" })
	l.Errorf("e %v", arg)
	l.Warningf("w %v", arg)
	l.Infof("i %v", arg)
	l.Debugf("d %v", arg)
	out := buf.String()
	if !strings.Contains(out, `level=ERROR msg="badger: e x"`) || !strings.Contains(out, `level=WARN msg="badger: w x"`) ||
		strings.Contains(out, "badger: i") || strings.Contains(out, "badger: d") {
		t.Errorf("logged at info:\n%s", out)
	}
	if formatted != 2 {
		t.Errorf("formatted %d messages, want the 2 logged", formatted)
	}
}

type formatterFunc func() string

func (f formatterFunc) String() string { return f() }
