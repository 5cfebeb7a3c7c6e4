package storage

import (
	"crypto/ed25519"
	"maps"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// chainFixture returns a room's create and a function that signs, as its
// creator, a post following prev at time tm on the creator's chain.
func chainFixture(t *testing.T) (*protocol.Signed, func(prev *protocol.Signed, tm int64) *protocol.Signed) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	me := protocol.NewAccountID(protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), "alice")
	create, err := protocol.Sign(key, protocol.Event{Author: "alice", Time: 1},
		&protocol.RoomCreate{Kind: protocol.KindGroup, Name: "r", Creator: protocol.MemberInfo{Account: me, Role: protocol.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(prev *protocol.Signed, tm int64) *protocol.Signed {
		ev := protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{prev.Order()}, prev.Order(), prev.Seq)
		ev.Author, ev.Time = "alice", tm
		p, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: "m"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return create, post
}

// TestChainPositions checks the chain index: the first event at a
// position keeps it, storing it again changes nothing, and a second event
// at a taken position is an equivocation, kept as proof and listed.
func TestChainPositions(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, post := chainFixture(t)
	posts := []*protocol.Signed{post(create, 2)}
	posts = append(posts, post(posts[0], 3))
	posts = append(posts, post(posts[1], 5))
	fork := post(create, 99) // another event at seq 2, like posts[0]
	update(t, s, func(tx *Tx) error {
		for _, e := range append([]*protocol.Signed{create}, posts...) {
			if _, forked, err := tx.PutPosition(e); err != nil || forked {
				t.Fatalf("PutPosition(seq %d) = %v, %v", e.Seq, forked, err)
			}
		}
		if _, forked, err := tx.PutPosition(posts[1]); err != nil || forked {
			t.Fatalf("PutPosition again = %v, %v", forked, err)
		}
		first, forked, err := tx.PutPosition(fork)
		if err != nil || !forked || first != posts[0].ID {
			t.Fatalf("PutPosition(fork) = %s, %v, %v; want %s, true", first, forked, err, posts[0].ID)
		}
		return nil
	})
	view(t, s, func(tx *Tx) error {
		id, ok, err := tx.Position(create.RoomID(), create.Origin, 2)
		if err != nil || !ok || id != posts[0].ID {
			t.Fatalf("Position = %s, %v, %v", id, ok, err)
		}
		var got []Equivocation
		if err := tx.Equivocations(func(q Equivocation) bool { got = append(got, q); return true }); err != nil {
			t.Fatal(err)
		}
		want := Equivocation{Room: create.RoomID(), Origin: create.Origin, Seq: 2, First: posts[0].ID, Second: fork.ID}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("equivocations %+v, want %+v", got, want)
		}
		if forked, err := tx.Forked(create.RoomID(), create.Origin); err != nil || !forked {
			t.Errorf("Forked = %v, %v; want true", forked, err)
		}
		if forked, err := tx.Forked(create.RoomID(), create.Origin+"x"); err != nil || forked {
			t.Errorf("Forked(another origin) = %v, %v; want false", forked, err)
		}
		return nil
	})
}

// TestChainNextPositionNeedsNoRead checks that storing an origin's next
// event reads nothing from Badger for its chain position (the one before
// told the writer's cache it is free), and that an equivocation at a
// position stored by an earlier Update is still found: the cache holds
// the position's new value, not the absence it was told of.
func TestChainNextPositionNeedsNoRead(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, post := chainFixture(t)
	put := func(e *protocol.Signed) (forked bool) {
		update(t, s, func(tx *Tx) error {
			var err error
			_, forked, err = tx.PutPosition(e)
			return err
		})
		return forked
	}
	put(create)
	prev := create
	for i := range 5 {
		e := post(prev, int64(10+i))
		before := s.WriteCacheStats().Misses
		if put(e) {
			t.Fatalf("seq %d: forked", e.Seq)
		}
		if m := s.WriteCacheStats().Misses - before; m != 0 {
			t.Errorf("seq %d: %d reads of Badger, want 0", e.Seq, m)
		}
		prev = e
	}
	if !put(post(create, 99)) {
		t.Error("an event at the taken position 2 was not found to be an equivocation")
	}
}

// TestChainTips checks that ChainTips gives each origin's event at the
// highest position the store holds, one per origin, and stops at limit.
func TestChainTips(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, post := chainFixture(t)
	mine := []*protocol.Signed{create, post(create, 2)}
	mine = append(mine, post(mine[1], 3))
	stored := slices.Clone(mine)
	want := map[ChainTip]bool{{Origin: create.Origin, Seq: mine[2].Seq, ID: mine[2].ID}: true}
	for range 3 { // other origins, each with a chain of its own
		_, key, _ := ed25519.GenerateKey(nil)
		var last *protocol.Signed
		for i := range 4 {
			ev := protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{create.Order()}, protocol.Order{}, 0)
			if last != nil {
				ev = protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{last.Order()}, last.Order(), last.Seq)
			}
			ev.Author, ev.Time = "bob", int64(10+i)
			e, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: "m"})
			if err != nil {
				t.Fatal(err)
			}
			stored, last = append(stored, e), e
		}
		want[ChainTip{Origin: last.Origin, Seq: last.Seq, ID: last.ID}] = true
	}
	update(t, s, func(tx *Tx) error {
		for _, e := range stored {
			if _, _, err := tx.PutPosition(e); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Tx) error {
		tips, err := tx.ChainTips(create.RoomID(), 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[ChainTip]bool{}
		for _, tip := range tips {
			got[tip] = true
		}
		if len(tips) != len(want) || !maps.Equal(got, want) {
			t.Errorf("ChainTips = %v, want one per origin: %v", tips, want)
		}
		var seqs []uint64
		err = tx.ChainRange(create.RoomID(), create.Origin, 2, 3, func(seq uint64, id protocol.EventID) bool {
			if id != mine[seq-1].ID {
				t.Errorf("ChainRange: position %d holds %s, want %s", seq, id, mine[seq-1].ID)
			}
			seqs = append(seqs, seq)
			return true
		})
		if err != nil || !slices.Equal(seqs, []uint64{2, 3}) {
			t.Errorf("ChainRange(2, 3) = positions %v, %v; want 2, 3", seqs, err)
		}
		if tips, err := tx.ChainTips(create.RoomID(), 2); err != nil || len(tips) != 2 {
			t.Errorf("ChainTips(limit 2) = %v, %v", tips, err)
		}
		if tips, err := tx.ChainTips(protocol.RoomID{1}, 10); err != nil || len(tips) != 0 {
			t.Errorf("ChainTips(another room) = %v, %v", tips, err)
		}
		return nil
	})
}
