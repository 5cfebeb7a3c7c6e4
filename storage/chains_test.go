package storage

import (
	"crypto/ed25519"
	"maps"
	"math"
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

// TestChainEvents checks that ChainEvents returns, in position order, the
// wire form of each event a chain position names: positions that name
// their record number and old ones that name only the ID, records next to
// each other and records with another room's between them (read with a
// seek), a position whose record is gone (left out), a range's ends, and
// fn stopping it.
func TestChainEvents(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, post := chainFixture(t)
	other, otherPost := chainFixture(t)
	room := create.RoomID()
	chain := []*protocol.Signed{create}
	for i := range 300 {
		chain = append(chain, post(chain[len(chain)-1], int64(2+i)))
	}
	otherChain := []*protocol.Signed{other}
	var gone *protocol.Signed
	for at := 0; at < len(chain); at += 50 {
		update(t, s, func(tx *Tx) error {
			for i, e := range chain[at:min(at+50, len(chain))] {
				var err error
				if i%7 == 3 { // a position stored before it named the record
					if _, _, err = tx.PutPosition(e); err == nil {
						err = tx.PutEvent(e, protocol.SnapshotKey{})
					}
				} else if err = tx.PutEvent(e, protocol.SnapshotKey{}); err == nil {
					_, _, err = tx.PutPosition(e)
				}
				if err != nil {
					return err
				}
			}
			for range 20 { // another room's records between this run and the next
				e := otherPost(otherChain[len(otherChain)-1], int64(len(otherChain)))
				otherChain = append(otherChain, e)
				if err := tx.PutEvent(e, protocol.SnapshotKey{}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	gone = chain[120]
	update(t, s, func(tx *Tx) error {
		rec, err := tx.get(key(pEvent, gone.ID[:]))
		if err != nil {
			return err
		}
		return tx.delete(key(pEventBody, rec))
	})
	read := func(from, to uint64, stopAfter int) []*protocol.Signed {
		t.Helper()
		var got []*protocol.Signed
		view(t, s, func(tx *Tx) error {
			return tx.ChainEvents(room, create.Origin, from, to, func(pos uint64, id protocol.EventID, wire []byte) bool {
				e, err := protocol.DecodeStored(wire)
				if err != nil || e.ID != id || e.Seq != pos {
					t.Fatalf("position %d: event %v (seq %d), error %v; want %s", pos, e.ID, e.Seq, err, id)
				}
				got = append(got, e)
				return len(got) != stopAfter
			})
		})
		return got
	}
	want := func(from, to int) []protocol.EventID {
		var ids []protocol.EventID
		for _, e := range chain {
			if e.Seq >= uint64(from) && e.Seq <= uint64(to) && e != gone {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	ids := func(es []*protocol.Signed) []protocol.EventID {
		var out []protocol.EventID
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, c := range []struct {
		from, to uint64
		stop     int
		want     []protocol.EventID
	}{
		{1, math.MaxUint64, 0, want(1, math.MaxInt)},
		{100, 130, 0, want(100, 130)},
		{2, 2, 0, want(2, 2)},
		{400, math.MaxUint64, 0, nil},
		{1, math.MaxUint64, 70, want(1, math.MaxInt)[:70]},
	} {
		if got := ids(read(c.from, c.to, c.stop)); !slices.Equal(got, c.want) {
			t.Errorf("ChainEvents(%d, %d), stopped after %d: %d events, want %d", c.from, c.to, c.stop, len(got), len(c.want))
		}
	}
}

// TestEventWires checks that EventWires returns the wire forms of the
// events asked for, in the order asked, each with its index: records next
// to each other and apart, in any order, asked twice, not stored, still
// under the event's ID (a store the schema 12 migration has not got to),
// written by the same Update, and fn stopping it.
func TestEventWires(t *testing.T) {
	s := openTest(t, t.TempDir())
	create, post := chainFixture(t)
	chain := []*protocol.Signed{create}
	for i := range 200 {
		chain = append(chain, post(chain[len(chain)-1], int64(2+i)))
	}
	update(t, s, func(tx *Tx) error {
		for _, e := range chain[:150] {
			if err := tx.PutEvent(e, protocol.SnapshotKey{}); err != nil {
				return err
			}
		}
		// An unmigrated record: the record itself under the ID.
		old := chain[150]
		return tx.set(key(pEvent, old.ID[:]), eventRecord(protocol.SnapshotKey{}, old.Wire()))
	})
	absent := post(chain[len(chain)-1], 999)
	ask := []protocol.EventID{chain[149].ID, chain[0].ID, absent.ID, chain[1].ID, chain[2].ID, chain[100].ID,
		chain[150].ID, chain[2].ID, chain[40].ID, chain[60].ID, chain[61].ID, chain[170].ID}
	check := func(tx *Tx, want []int) { // want: the indexes of ask returned
		t.Helper()
		var got []int
		err := tx.EventWires(ask, func(i int, w []byte) bool {
			e, err := protocol.DecodeStored(w)
			if err != nil || e.ID != ask[i] {
				t.Fatalf("index %d: event %v, error %v; want %s", i, e, err, ask[i])
			}
			got = append(got, i)
			return len(got) < len(want)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("EventWires returned the indexes %v, want %v", got, want)
		}
	}
	all := []int{0, 1, 3, 4, 5, 6, 7, 8, 9, 10} // not absent (2) nor the unstored chain[170] (11)
	view(t, s, func(tx *Tx) error { check(tx, all); return nil })
	view(t, s, func(tx *Tx) error { check(tx, all[:4]); return nil })
	update(t, s, func(tx *Tx) error {
		for _, e := range chain[151:] {
			if err := tx.PutEvent(e, protocol.SnapshotKey{}); err != nil {
				return err
			}
		}
		check(tx, append(slices.Clone(all), 11)) // chain[170], written by this Update
		return nil
	})
}
