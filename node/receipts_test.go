package node

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// TestReceiptIndexMatchesWalk runs three nodes through random posts and
// one-way syncs (so that rooms fork and merge) and checks, after every
// step, that each node's receipt index of each other node equals a full
// walk back from that node's latest event, that every reach a node
// remembers (Node.reaches, forgotten now and then as in a restart)
// equals a walk too, and that Deliveries follows the index. Every
// ChangeReceipt raises a receipt.
func TestReceiptIndexMatchesWalk(t *testing.T) {
	ctx := t.Context()
	nodes := []*Node{newTestNode(t, t.TempDir()), newTestNode(t, t.TempDir()), newTestNode(t, t.TempDir())}
	handles := []protocol.Handle{"alice", "bob", "carol"}
	var members []MemberSpec
	for i, n := range nodes {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: handles[i], Name: string(handles[i])}))
		if i > 0 {
			members = append(members, MemberSpec{Account: protocol.NewAccountID(n.ID(), handles[i])})
		}
	}
	room := must[*Room](t)(nodes[0].CreateRoom(ctx, "alice", NewRoom{Name: "Three", Members: members})).ID
	transfer(t, nodes[0], nodes[1], room)
	transfer(t, nodes[0], nodes[2], room)

	rnd := rand.New(rand.NewPCG(7, 20))
	posts := make([][]*Message, len(nodes))
	indexed, partnerReaches := 0, 0
	for step := range 120 {
		x := rnd.IntN(len(nodes))
		if rnd.IntN(4) == 0 {
			// As after a restart: the next events' reaches come from
			// walks until their parents' are remembered again.
			nodes[rnd.IntN(len(nodes))].reaches.Purge()
		}
		if rnd.IntN(3) == 0 {
			m := must[*Message](t)(nodes[x].Post(ctx, handles[x], room, fmt.Sprint("step ", step)))
			posts[x] = append(posts[x], m)
		} else {
			y := (x + 1 + rnd.IntN(len(nodes)-1)) % len(nodes)
			transfer(t, nodes[x], nodes[y], room)
		}
		for i, n := range nodes {
			err := n.store.View(func(tx *storage.Tx) error {
				for j, m := range nodes {
					if i == j {
						continue
					}
					idx, ok, err := tx.Receipt(room, m.ID())
					if err != nil {
						return err
					}
					var walk uint64
					if latest, _, found, err := tx.Latest(room, m.ID()); err != nil {
						return err
					} else if found {
						e, err := tx.Event(latest)
						if err != nil {
							return err
						}
						if walk, err = tx.ChainReach(e, n.ID()); err != nil {
							return err
						}
					}
					if ok {
						indexed++
					}
					if ok && idx != walk || !ok && walk > 0 && posts[i] != nil {
						return fmt.Errorf("step %d: node %d's receipt of node %d: index %d (%v), walk %d", step, i, j, idx, ok, walk)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			partnerReaches += checkReaches(t, n, step)
		}
	}
	if indexed == 0 {
		t.Fatal("no receipt was ever indexed")
	}
	if partnerReaches == 0 {
		t.Fatal("no reach of a partner's event was ever remembered")
	}

	// Deliveries agrees with the index, message by message.
	n := nodes[0]
	var aliases []uint64
	for _, m := range posts[0] {
		aliases = append(aliases, m.Alias)
	}
	ds := must[[]Delivery](t)(n.Deliveries(ctx, "alice", room, aliases))
	if len(ds) != len(aliases) {
		t.Fatalf("%d deliveries for %d messages of alice", len(ds), len(aliases))
	}
	for _, d := range ds {
		for j := 1; j < len(nodes); j++ {
			var acked uint64
			if err := n.store.View(func(tx *storage.Tx) (err error) {
				acked, err = n.ackedSeq(tx, room, nodes[j].ID())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			has := false
			for _, to := range d.To {
				has = has || to == nodes[j].ID()
			}
			if has != (d.Seq <= acked) {
				t.Fatalf("message %d at seq %d: delivered to node %d is %v, but it acknowledged up to %d", d.Message, d.Seq, j, has, acked)
			}
		}
	}
	// Every receipt change names an event of another node.
	cs := must[[]Change](t)(n.Changes(ctx, "alice", 0, MaxPage))
	receipts := 0
	for _, c := range cs {
		if c.Kind != ChangeReceipt {
			continue
		}
		receipts++
		if c.Room != room {
			t.Fatalf("receipt change of room %s", c.Room)
		}
		if e := must[*protocol.Signed](t)(eventOf(n, c.Event)); e == nil || e.Origin == n.ID() {
			t.Fatalf("receipt change for event %s of this node or none", c.Event)
		}
	}
	if receipts == 0 {
		t.Fatal("no receipt change recorded")
	}
}

func eventOf(n *Node, id protocol.EventID) (e *protocol.Signed, err error) {
	err = n.store.View(func(tx *storage.Tx) error {
		e, err = tx.Event(id)
		return err
	})
	return e, err
}

// checkReaches checks every reach n remembers against a walk of the
// event's whole past: the highest of n's chain positions there, or the
// event's own if it is n's. It returns how many are of other nodes'
// events.
func checkReaches(t *testing.T, n *Node, step int) (partners int) {
	t.Helper()
	err := n.store.View(func(tx *storage.Tx) error {
		for _, id := range n.reaches.Keys() {
			got, _ := n.reaches.Peek(id)
			e, err := tx.Event(id)
			if err != nil || e == nil {
				return fmt.Errorf("remembered reach of event %s, which the store does not hold (%v)", id, err)
			}
			want := e.Seq
			if e.Origin != n.ID() {
				partners++
				if want, err = tx.ChainReach(e, n.ID()); err != nil {
					return err
				}
			}
			if got != want {
				return fmt.Errorf("step %d: event %s of %s: remembered reach %d, walk %d", step, id, e.Origin.Short(), got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return partners
}
