package storage

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// TestMigrateHeadsRecord opens a schema 1 store, whose heads are a key per
// head, and finds them as one record per room.
func TestMigrateHeadsRecord(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	room := protocol.RoomID{7}
	want := []protocol.Order{{Depth: 3, ID: protocol.EventID{1}}, {Depth: 4, ID: protocol.EventID{2}}}
	err = db.Update(func(txn *badger.Txn) error {
		for _, h := range want {
			if err := txn.Set(key(pOldHead, room[:], h.ID[:]), u64(h.Depth)); err != nil {
				return err
			}
		}
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		got, err := tx.Heads(room)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("heads after migration = %v, %v; want %v", got, err, want)
		}
		if ok, _ := tx.has(key(pOldHead, room[:], want[0].ID[:])); ok {
			t.Error("old head keys left behind")
		}
		return nil
	})
}

// TestMigrateTimelineRecords opens a schema 2 store, whose timeline
// records hold a message's ID and depth and no alias, and reads its
// message, with its alias from the alias index; a message stored since
// holds its alias and not its ID.
func TestMigrateTimelineRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	room := protocol.RoomID{7}
	// Every message's post event is stored too: from schema 10 on, it
	// tells where the message sits in the timeline.
	_, sk, _ := ed25519.GenerateKey(nil)
	post, err := protocol.Sign(sk, protocol.Event{Version: 1, Room: room, Author: "a", Prev: []protocol.EventID{{1}}, Depth: 3, Time: 99},
		&protocol.MessagePost{Body: "old"})
	if err != nil {
		t.Fatal(err)
	}
	old := protocol.NewMessage(post)
	err = db.Update(func(txn *badger.Txn) error {
		v, err := protocol.EncodeRecord(old) // schema 2's timeline value
		if err != nil {
			return err
		}
		for k, v := range map[string][]byte{
			string(key(pEvent, old.ID[:])):                             post.Wire(),
			string(key(pTimeline, room[:], u64(old.Depth), old.ID[:])): v,
			string(key(pMessage, old.ID[:])):                           append(room[:], u64(old.Depth)...),
			string(key(pAlias, []byte{byte(AliasMessage)}, old.ID[:])): u64(5),
			string(key(pAliasOf, []byte{byte(AliasMessage)}, u64(5))):  old.ID[:],
			string(key(pCounter, []byte{byte(AliasMessage)})):          u64(5),
			string(key(pSchema)):                                       binary.BigEndian.AppendUint32(nil, 2),
		} {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	fresh := &Message{Message: protocol.Message{ID: protocol.EventID{2}, Author: "a@n", Depth: 4, Time: 100, Body: "new"}}
	update(t, s, func(tx *Tx) error {
		var err error
		if fresh.Alias, err = tx.Alias(AliasMessage, fresh.ID[:]); err != nil {
			return err
		}
		return tx.PutMessage(room, fresh)
	})
	view(t, s, func(tx *Tx) error {
		ms, err := tx.Messages(room, protocol.Order{}, false, 10)
		want := &Message{Message: *old, Alias: 5} // the alias from the alias index
		if err != nil || len(ms) != 2 || *ms[0] != *want || *ms[1] != *fresh {
			t.Fatalf("messages = %v, %v; want %v, %v", ms, err, want, fresh)
		}
		if _, m, err := tx.Message(old.ID); err != nil || *m != *want {
			t.Errorf("message of schema 2 = %v, %v; want %v", m, err, want)
		}
		v, err := tx.get(key(pTimeline, room[:], u64(fresh.Depth), fresh.ID[:]))
		if err != nil {
			return err
		}
		var te struct {
			ID    *protocol.EventID `cbor:"1,keyasint"`
			Edit  *protocol.Order   `cbor:"6,keyasint"`
			Alias uint64            `cbor:"9,keyasint"`
		}
		if err := protocol.DecodeRecord(v, &te); err != nil || te.ID != nil || te.Edit != nil || te.Alias != 6 {
			t.Errorf("new timeline record holds ID %v, Edit %v, alias %d (%v); want none, none, 6", te.ID, te.Edit, te.Alias, err)
		}
		return nil
	})
}

// TestMigrateRoomVersions opens a schema 3 store, whose room records hold
// no version, and finds each room's version, read from its create.
func TestMigrateRoomVersions(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, k, _ := ed25519.GenerateKey(nil)
	node := protocol.NodeIDFromKey(k.Public().(ed25519.PublicKey))
	var creates []*protocol.Signed
	for _, v := range []uint16{1, 2} { // a schema 3 store holds version 1 only; the create decides all the same
		c, err := protocol.Sign(k, protocol.Event{Version: v, Author: "alice", Time: 1}, &protocol.RoomCreate{Kind: protocol.KindGroup,
			Creator: protocol.MemberInfo{Account: protocol.NewAccountID(node, "alice"), Role: protocol.RoleAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		creates = append(creates, c)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, c := range creates {
			id := c.RoomID()
			// The control snapshot after the create, which later
			// migrations read.
			snap := protocol.After(nil, c)
			sk := snap.Key()
			sb, err := protocol.EncodeRecord(snap)
			if err != nil {
				return err
			}
			if err := txn.Set(key(pSnapshot, sk[:]), sb); err != nil {
				return err
			}
			// Schema 3's room record: keys 1 to 9, no version.
			old, err := protocol.EncodeRecord(map[int]any{1: id[:], 2: "group", 3: sk[:], 4: 1, 6: 1, 7: 0, 8: 0})
			if err != nil {
				return err
			}
			if err := txn.Set(key(pRoom, id[:]), old); err != nil {
				return err
			}
			if err := txn.Set(key(pEvent, id[:]), c.Wire()); err != nil {
				return err
			}
		}
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 3))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		for _, c := range creates {
			r, err := tx.Room(c.RoomID())
			if err != nil || r.Version != c.Version || r.Events != 1 || r.Kind != protocol.KindGroup {
				t.Errorf("room after migration = %+v, %v; want version %d, the rest kept", r, err, c.Version)
			}
		}
		return nil
	})
}

// TestMigrateBadSchemaValue checks that a schema version of the wrong size
// fails Open with an error that says so, rather than one formatting a nil
// error.
func TestMigrateBadSchemaValue(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error { return txn.Set([]byte{pSchema}, []byte{0, 1, 2}) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a store with a 3-byte schema version succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "read schema version") || strings.Contains(msg, "%!") {
		t.Errorf("Open: %q, want a read schema version error without a formatting fault", msg)
	}
}

// TestMigrateRemovalIndex opens a schema 3 store holding a room in which a
// member was removed, and finds the removal in the removal index.
func TestMigrateRemovalIndex(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, key1, _ := ed25519.GenerateKey(rand.Reader)
	_, key2, _ := ed25519.GenerateKey(rand.Reader)
	other := protocol.NodeIDFromKey(key2.Public().(ed25519.PublicKey))
	bob := protocol.NewAccountID(other, "bob")
	create, err := protocol.Sign(key1, protocol.Event{Author: "alice", Time: 1}, &protocol.RoomCreate{Kind: protocol.KindGroup,
		Nonce:   []byte{1},
		Creator: protocol.MemberInfo{Account: protocol.NewAccountID(protocol.NodeIDFromKey(key1.Public().(ed25519.PublicKey)), "alice"), Role: protocol.RoleAdmin},
		Members: []protocol.MemberInfo{{Account: bob, Role: protocol.RoleMember}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{create.Order()}, create.Order(), create.Seq)
	ev.Author, ev.Time = "alice", 2
	remove, err := protocol.Sign(key1, ev, &protocol.MemberRemove{Account: bob})
	if err != nil {
		t.Fatal(err)
	}
	snap := &protocol.Snapshot{History: protocol.HistoryOf([]protocol.EventID{create.ID, remove.ID}), State: &protocol.Control{}}
	room := create.RoomID()
	err = db.Update(func(txn *badger.Txn) error {
		sk := snap.Key()
		sv, err := protocol.EncodeRecord(snap)
		if err != nil {
			return err
		}
		rv, err := protocol.EncodeRecord(&Room{ID: room, Kind: protocol.KindGroup, Control: sk, Events: 2})
		if err != nil {
			return err
		}
		for k, v := range map[string][]byte{
			string(key(pEvent, create.ID[:])): create.Wire(),
			string(key(pEvent, remove.ID[:])): remove.Wire(),
			string(key(pSnapshot, sk[:])):     sv,
			string(key(pRoom, room[:])):       rv,
			string(key(pSchema)):              binary.BigEndian.AppendUint32(nil, 3),
		} {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		got, err := tx.Removals(room, other)
		if err != nil || !slices.Equal(got, []Removal{{ID: remove.ID, Account: bob}}) {
			t.Errorf("removals of bob's node = %v, %v; want [%s]", got, err, remove.ID)
		}
		if got, err := tx.Removals(room, create.Origin); err != nil || len(got) != 0 {
			t.Errorf("removals of alice's node = %v, %v; want none", got, err)
		}
		return nil
	})
}

// TestMigrateVisibility opens a schema 6 store holding a room in which bob
// posted and edited, was removed, and posted concurrently with the removal
// (hidden), and finds the removal's reach, the edit's reference and the
// hidden post by author.
func TestMigrateVisibility(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, key1, _ := ed25519.GenerateKey(rand.Reader)
	_, key2, _ := ed25519.GenerateKey(rand.Reader)
	other := protocol.NodeIDFromKey(key2.Public().(ed25519.PublicKey))
	bob := protocol.NewAccountID(other, "bob")
	create, err := protocol.Sign(key1, protocol.Event{Author: "alice", Time: 1, Version: protocol.Version}, &protocol.RoomCreate{Kind: protocol.KindGroup,
		Nonce:   []byte{1},
		Creator: protocol.MemberInfo{Account: protocol.NewAccountID(protocol.NodeIDFromKey(key1.Public().(ed25519.PublicKey)), "alice"), Role: protocol.RoleAdmin},
		Members: []protocol.MemberInfo{{Account: bob, Role: protocol.RoleMember}}})
	if err != nil {
		t.Fatal(err)
	}
	room, v := create.RoomID(), create.Version
	sign := func(key ed25519.PrivateKey, author protocol.Handle, parent, last *protocol.Signed, c protocol.Content) *protocol.Signed {
		t.Helper()
		var lo protocol.Order
		var seq uint64
		if last != nil {
			lo, seq = last.Order(), last.Seq
		}
		ev := protocol.ChainSuccessor(room, v, []protocol.Order{parent.Order()}, lo, seq)
		ev.Author, ev.Time = author, 2
		e, err := protocol.Sign(key, ev, c)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	post := sign(key2, "bob", create, nil, &protocol.MessagePost{Body: "hi"})
	edit := sign(key2, "bob", post, post, &protocol.MessageEdit{Message: post.ID, Body: "hello"})
	remove := sign(key1, "alice", edit, create, &protocol.MemberRemove{Account: bob})
	late := sign(key2, "bob", edit, edit, &protocol.MessagePost{Body: "still here"})
	err = db.Update(func(txn *badger.Txn) error {
		rv, err := protocol.EncodeRecord(&Room{ID: room, Kind: protocol.KindGroup, Events: 5, Version: v})
		if err != nil {
			return err
		}
		kv := map[string][]byte{
			string(key(pRoom, room[:])):                                   rv,
			string(key(pRemoval, room[:], nodePart(other), remove.ID[:])): nil,
			string(key(pHidden, late.ID[:])):                              nil,
			string(key(pSchema)):                                          binary.BigEndian.AppendUint32(nil, 6),
		}
		for _, e := range []*protocol.Signed{create, post, edit, remove, late} {
			kv[string(key(pEvent, e.ID[:]))] = e.Wire()
			kv[string(key(pRoomEvent, room[:], u64(e.Depth), e.ID[:]))] = nil
		}
		for k, v := range kv {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		if got, err := tx.Removals(room, other); err != nil || !slices.Equal(got, []Removal{{ID: remove.ID, Reach: 2, Account: bob, SelfKnown: true}}) {
			t.Errorf("removals of bob's node = %v, %v; want %s with reach 2", got, err, remove.ID)
		}
		if got, err := tx.Refs(post.ID); err != nil || !slices.Equal(got, []protocol.EventID{edit.ID}) {
			t.Errorf("references of bob's post = %v, %v; want his edit %s", got, err, edit.ID)
		}
		if got, err := tx.HiddenOf(room, bob); err != nil || !slices.Equal(got, []protocol.EventID{late.ID}) {
			t.Errorf("hidden events of bob = %v, %v; want %s", got, err, late.ID)
		}
		return nil
	})
}

// TestMigrateTokenCursors opens a schema 7 store, whose fetch cursors are
// an account's, and finds each of them as the cursor of every token of
// that account (web sessions are tokens), with the old keys gone.
func TestMigrateTokenCursors(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	room, other := protocol.RoomID{7}, protocol.RoomID{8}
	bob := protocol.AccountID("bob@12D3KooWnode")
	carol := protocol.AccountID("carol@12D3KooWnode") // no tokens
	bot, session, alices := HashToken("bob's bot"), HashToken("bob's session"), HashToken("alice's")
	at := protocol.Order{Depth: 9, ID: protocol.EventID{3}}
	atOther := protocol.Order{Depth: 4, ID: protocol.EventID{4}}
	err = db.Update(func(txn *badger.Txn) error {
		tx := &Tx{txn: txn, writable: true}
		for h, tok := range map[TokenHash]*Token{bot: {Handle: "bob", Name: "bot"},
			session: {Handle: "bob", Name: "web session"}, alices: {Handle: "alice"}} {
			if err := tx.PutToken(h, tok); err != nil {
				return err
			}
		}
		for k, o := range map[string]protocol.Order{
			string(key(pFetched, accountPart(bob), room[:])):   at,
			string(key(pFetched, accountPart(bob), other[:])):  atOther,
			string(key(pFetched, accountPart(carol), room[:])): at,
		} {
			if err := tx.setRecord([]byte(k), &o); err != nil {
				return err
			}
		}
		if err := tx.flush(txn); err != nil {
			return err
		}
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 7))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		for _, c := range []struct {
			name string
			h    TokenHash
			room protocol.RoomID
			want protocol.Order
		}{
			{"bob's bot", bot, room, at},
			{"bob's session", session, room, at},
			{"bob's bot, other room", bot, other, atOther},
			{"bob's session, other room", session, other, atOther},
			{"alice's token", alices, room, protocol.Order{}},
		} {
			if got, err := tx.FetchCursor(c.h, c.room); err != nil || got != c.want {
				t.Errorf("%s: cursor = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
		if n, err := tx.count([]byte{pFetched}); err != nil || n != 0 {
			t.Errorf("%d account cursors left behind (%v)", n, err)
		}
		return nil
	})
	// Deleting a token deletes its cursors, and only its.
	update(t, s, func(tx *Tx) error { return tx.DeleteToken(bot) })
	view(t, s, func(tx *Tx) error {
		if n, err := tx.count(key(pCursor, bot[:])); err != nil || n != 0 {
			t.Errorf("%d cursors of a deleted token left (%v)", n, err)
		}
		if got, err := tx.FetchCursor(session, other); err != nil || got != atOther {
			t.Errorf("the other token's cursor = %v, %v; want %v", got, err, atOther)
		}
		return nil
	})
}

// count returns how many keys start with prefix.
func (tx *Tx) count(prefix []byte) (int, error) {
	n := 0
	err := tx.scan(prefix, nil, false, func([]byte, func() ([]byte, error)) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// TestMigrateTaskMessageAliases opens a schema 7 store whose tasks have no
// message_id and finds each with the next message alias, in task order.
func TestMigrateTaskMessageAliases(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	msg, task1, task2 := protocol.EventID{1}, protocol.EventID{2}, protocol.EventID{3}
	err = db.Update(func(txn *badger.Txn) error {
		tx := &Tx{txn: txn, writable: true}
		for _, a := range []struct {
			kind AliasKind
			id   protocol.EventID
		}{{AliasMessage, msg}, {AliasTask, task1}, {AliasTask, task2}} {
			if _, err := tx.Alias(a.kind, a.id[:]); err != nil {
				return err
			}
		}
		if err := tx.flush(txn); err != nil {
			return err
		}
		return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, 7))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	view(t, s, func(tx *Tx) error {
		for id, want := range map[protocol.EventID]uint64{msg: 1, task1: 2, task2: 3} {
			if got, err := tx.LookupAlias(AliasMessage, id[:]); err != nil || got != want {
				t.Errorf("message alias of %s = %d, %v; want %d", id, got, err, want)
			}
		}
		return nil
	})
}
