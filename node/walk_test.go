package node

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestWalkMissingSendsAllLacked runs four nodes through random posts and
// one-way syncs, so that the room forks and merges, and after each step
// checks walkMissing between every pair against the stores themselves:
// every event the source holds and the other node lacks is sent, nothing
// is sent twice, and parents come before children. The other node names
// what a sync request names (Have: heads, chain tips, depth samples, with
// or without its chain positions), or only a random few of its events, so
// that the walk's chain positions come from events deep below what it
// has, and stay lower bounds. The
// answer (Missing), read off the chains when it can be, is held to the
// same.
func TestWalkMissingSendsAllLacked(t *testing.T) {
	ctx := t.Context()
	handles := []protocol.Handle{"alice", "bob", "carol", "dave"}
	var nodes []*Node
	var members []MemberSpec
	for i, h := range handles {
		n := newTestNode(t, t.TempDir())
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h, Name: string(h)}))
		if i > 0 {
			members = append(members, MemberSpec{Account: protocol.NewAccountID(n.ID(), h)})
		}
		nodes = append(nodes, n)
	}
	room := must[*Room](t)(nodes[0].CreateRoom(ctx, "alice", NewRoom{Name: "Four", Members: members})).ID
	for _, n := range nodes[1:] {
		transfer(t, nodes[0], n, room)
	}

	rnd := rand.New(rand.NewPCG(3, 16))
	held := func(n *Node) map[protocol.EventID]*protocol.Signed {
		out := map[protocol.EventID]*protocol.Signed{}
		err := n.FederationForTest().Missing(ctx, n.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
			e, err := protocol.DecodeStored(w)
			out[e.ID] = e
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	byChains := 0                   // answers read off the chains
	var oversent, sentAll [2][3]int // walk and answer, by what the other node names: heads (sync/1), a few, heads and chains
	for step := range 80 {
		x := rnd.IntN(len(nodes))
		if rnd.IntN(2) == 0 {
			must[*Message](t)(nodes[x].Post(ctx, handles[x], room, fmt.Sprint("step ", step)))
		} else {
			transfer(t, nodes[x], nodes[(x+1+rnd.IntN(len(nodes)-1))%len(nodes)], room)
		}
		for i, from := range nodes {
			fromHeld := held(from)
			for j, to := range nodes {
				if i == j {
					continue
				}
				toHeld := held(to)
				have := must[protocol.SyncWant](t)(handler{to}.Have(ctx, room))
				mode := rnd.IntN(3)
				switch mode {
				case 0: // what a request of sync version 1 names
					have.Chains = nil
				case 1: // a few of its events, from anywhere
					have.Heads, have.Chains = have.Heads[:0], nil
					for id := range toHeld {
						if rnd.IntN(8) == 0 {
							have.Heads = append(have.Heads, id)
						}
					}
				}
				var walked []protocol.EventID
				err := from.store.View(func(tx *storage.Tx) error {
					if _, ok, err := chainPlan(tx, have); err != nil {
						return err
					} else if ok {
						byChains++
					}
					var err error
					walked, err = walkMissing(ctx, tx, room, have.Heads, nil)
					return err
				})
				if err != nil {
					t.Fatalf("step %d: walk from node %d to node %d: %v", step, i, j, err)
				}
				slices.Reverse(walked) // parents first, as Missing sends them
				var answered []protocol.EventID
				err = handler{from}.Missing(ctx, to.ID(), have, nil, func(w []byte) error {
					id, err := protocol.PeekID(w)
					answered = append(answered, id)
					return err
				})
				if err != nil {
					t.Fatalf("step %d: Missing from node %d to node %d: %v", step, i, j, err)
				}
				for k, send := range [][]protocol.EventID{walked, answered} {
					how := []string{"walk", "answer"}[k]
					sent := map[protocol.EventID]bool{}
					for _, id := range send {
						e := fromHeld[id]
						if e == nil || sent[id] {
							t.Fatalf("step %d: node %d's %s sends node %d event %s: held %v, sent before %v", step, i, how, j, id, e != nil, sent[id])
						}
						for _, p := range e.Prev {
							if toHeld[p] == nil && !sent[p] {
								t.Fatalf("step %d: node %d's %s sends node %d event %s before its parent %s", step, i, how, j, id, p)
							}
						}
						sent[id] = true
						if toHeld[id] != nil {
							oversent[k][mode]++
						}
					}
					sentAll[k][mode] += len(send)
					for id := range fromHeld {
						if toHeld[id] == nil && !sent[id] {
							t.Fatalf("step %d: node %d's %s leaves out event %s, which node %d lacks", step, i, how, id, j)
						}
					}
				}
			}
		}
	}
	for k, how := range []string{"walk", "answer"} {
		t.Logf("%s: naming heads, %d events sent, %d of them held by the other node already; naming a few: %d, %d; naming heads and chains: %d, %d",
			how, sentAll[k][0], oversent[k][0], sentAll[k][1], oversent[k][1], sentAll[k][2], oversent[k][2])
		if sentAll[k][0] == 0 || sentAll[k][1] == 0 || sentAll[k][2] == 0 {
			t.Errorf("%s sent nothing", how)
		}
	}
	// Chain positions say exactly what the other node holds: the answer
	// sends nothing it has.
	if oversent[1][2] != 0 {
		t.Errorf("the answer to a node naming its chain positions sent %d events it held", oversent[1][2])
	}
	if byChains == 0 {
		t.Error("no answer was read off the chains")
	}
}
