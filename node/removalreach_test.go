package node

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"slices"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestChainReachRemembered checks chainReach against the walk of
// storage.Tx.ChainReach on random histories of three nodes, one of which
// equivocates (signs several events at one chain position, and positions
// out of order): every node must find the same reach for a removal,
// whatever it remembers. Each event's reach is asked for in a random order
// of the events, so that some are worked out from remembered parents,
// some within the budget and some by the walk.
func TestChainReachRemembered(t *testing.T) {
	s, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := make([]ed25519.PrivateKey, 3)
	origins := make([]protocol.NodeID, 3)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		origins[i] = protocol.NodeIDFromKey(keys[i].Public().(ed25519.PublicKey))
	}
	rng := rand.New(rand.NewPCG(7, 16))
	for round := range 5 {
		create, err := protocol.Sign(keys[0], protocol.Event{Version: protocol.Version, Author: "a", Time: int64(round)},
			&protocol.RoomCreate{Kind: protocol.KindGroup, Nonce: []byte{byte(round)},
				Creator: protocol.MemberInfo{Account: protocol.NewAccountID(origins[0], "a"), Role: protocol.RoleAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		events := []*protocol.Signed{create}
		seqs := make([]uint64, len(keys))
		for i := range 400 {
			k := rng.IntN(len(keys))
			var prev []protocol.EventID
			var depth uint64
			for range 1 + rng.IntN(3) {
				p := events[max(0, len(events)-1-rng.IntN(min(len(events), 40)))]
				if !slices.Contains(prev, p.ID) {
					prev = append(prev, p.ID)
					depth = max(depth, p.Depth+1)
				}
			}
			slices.SortFunc(prev, func(a, b protocol.EventID) int { return bytes.Compare(a[:], b[:]) })
			seqs[k]++
			seq := seqs[k]
			if k == 2 && rng.IntN(3) == 0 {
				seq = 1 + uint64(rng.IntN(int(seqs[k]))) // equivocates, or goes back
			}
			e, err := protocol.Sign(keys[k], protocol.Event{Version: protocol.Version, Room: create.RoomID(), Author: "a",
				Prev: prev, Depth: depth, Seq: seq, Time: int64(i)}, &protocol.MessagePost{Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		if err := s.Update(t.Context(), func(tx *storage.Tx) error {
			for _, e := range events {
				if err := tx.PutEvent(e, protocol.SnapshotKey{1}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n := &Node{}
		n.removalReaches, _ = lru.New[reachKey, reachAt](removalReachEntries)
		err = s.View(func(tx *storage.Tx) error {
			for _, i := range rng.Perm(len(events)) {
				e := events[i]
				for _, origin := range origins {
					want, err := tx.ChainReach(e, origin)
					if err != nil {
						return err
					}
					got, err := n.chainReach(tx, e, origin)
					if err != nil {
						return err
					}
					if got != want {
						t.Fatalf("round %d, event %d: reach of %s = %d, the walk finds %d", round, i, origin.Short(), got, want)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
