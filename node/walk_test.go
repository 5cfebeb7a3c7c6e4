package node

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestWalkMissingSendsAllLacked runs four nodes through random posts and
// one-way syncs, so that the room forks and merges, and after each step
// checks walkMissing between every pair against the stores themselves:
// every event the source holds and the other node lacks is sent, nothing
// is sent twice, and parents come before children. The other node names
// what a sync request names (Heads: heads, chain tips, depth samples), or
// only a random few of its events, so that the walk's chain positions
// come from events deep below what it has, and stay lower bounds.
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
		err := n.FederationForTest().Missing(ctx, n.ID(), room, nil, nil, func(w []byte) error {
			e, err := protocol.DecodeStored(w)
			out[e.ID] = e
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var oversent, sentAll [2]int // by what the other node names: Heads, a few
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
				have := must[[]protocol.EventID](t)(handler{to}.Heads(ctx, room))
				mode := rnd.IntN(2)
				if mode == 1 { // a few of its events, from anywhere
					have = have[:0]
					for id := range toHeld {
						if rnd.IntN(8) == 0 {
							have = append(have, id)
						}
					}
				}
				var send []protocol.EventID
				err := from.store.View(func(tx *storage.Tx) error {
					var err error
					send, err = walkMissing(ctx, tx, room, have, nil)
					return err
				})
				if err != nil {
					t.Fatalf("step %d: walk from node %d to node %d: %v", step, i, j, err)
				}
				sent := map[protocol.EventID]bool{}
				for k := len(send) - 1; k >= 0; k-- { // parents first, as Missing sends them
					e := fromHeld[send[k]]
					if e == nil || sent[e.ID] {
						t.Fatalf("step %d: node %d sends node %d event %s: held %v, sent before %v", step, i, j, send[k], e != nil, sent[e.ID])
					}
					for _, p := range e.Prev {
						if toHeld[p] == nil && !sent[p] {
							t.Fatalf("step %d: node %d sends node %d event %s before its parent %s", step, i, j, e.ID, p)
						}
					}
					sent[e.ID] = true
					if toHeld[e.ID] != nil {
						oversent[mode]++
					}
				}
				sentAll[mode] += len(send)
				for id := range fromHeld {
					if toHeld[id] == nil && !sent[id] {
						t.Fatalf("step %d: node %d does not send node %d event %s, which it lacks", step, i, j, id)
					}
				}
			}
		}
	}
	t.Logf("naming Heads: %d events sent, %d of them held by the other node already; naming a few: %d, %d", sentAll[0], oversent[0], sentAll[1], oversent[1])
	if sentAll[0] == 0 || sentAll[1] == 0 {
		t.Fatal("no walk sent anything")
	}
}
