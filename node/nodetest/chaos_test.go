package nodetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestChaos: four organizations share a room while gossip loses and
// duplicates messages, nodes restart, the network partitions and heals,
// and members are promoted, demoted, removed and re-added while everyone
// posts. At the end every member node holds the same events and members.
// The messages shown may differ by soft-failed ones (a post by a member
// whose removal one node applied before the post and another after),
// which depend on arrival order until acknowledgements (issue 13) make
// them deterministic.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos runs for a while")
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	c := NewCluster(t, 4, Options{SyncInterval: time.Second, Drop: 0.2, Duplicate: 0.1})
	ctx := t.Context()
	users := []protocol.Handle{"alice", "bob", "carol", "dave"}
	ids := make([]protocol.AccountID, len(users))
	all := make([]*Actor, len(users))
	for i, nd := range c.Nodes {
		ids[i] = nd.User(users[i])
		all[i] = nd.As(users[i])
	}
	alice := all[0]
	room := alice.CreateRoom("Chaos", ids[1:]...)
	awaitSame(t, 30*time.Second, room, all...)
	alice.SetRole(room, ids[1], protocol.RoleAdmin)

	stopped := map[int]bool{}
	partitioned := false
	posted, failed := 0, 0
	for step := range 300 {
		i := rng.IntN(len(c.Nodes))
		nd := c.Nodes[i]
		var err error
		switch r := rng.IntN(100); {
		case r < 3 && i != 0 && !partitioned: // a restart (never alice's node, which the test drives)
			if stopped[i] {
				nd.Start()
				delete(stopped, i)
			} else {
				nd.Stop()
				stopped[i] = true
			}
			continue
		case r < 5 && len(stopped) == 0: // a partition {a, b} | {c, d}, or its healing
			for _, x := range c.Nodes[:2] {
				for _, y := range c.Nodes[2:] {
					if partitioned {
						c.Link(x, y)
					} else {
						c.Unlink(x, y)
					}
				}
			}
			partitioned = !partitioned
			continue
		case stopped[i]:
			continue
		case r < 15: // membership: alice or bob (admins) changes carol's or dave's standing
			as, target := users[rng.IntN(2)], ids[2+rng.IntN(2)]
			switch rng.IntN(4) {
			case 0:
				err = c.Nodes[slices.Index(users, as)].SetRole(ctx, as, room, target, protocol.RoleReadonly)
			case 1:
				err = c.Nodes[slices.Index(users, as)].SetRole(ctx, as, room, target, protocol.RoleMember)
			case 2:
				err = c.Nodes[slices.Index(users, as)].RemoveMember(ctx, as, room, target)
			case 3:
				err = c.Nodes[slices.Index(users, as)].AddMember(ctx, as, room, node.MemberSpec{Account: target, Role: protocol.RoleMember})
			}
		default:
			_, err = nd.Post(ctx, users[i], room, fmt.Sprintf("step %d from %s", step, users[i]))
			if err == nil {
				posted++
			}
		}
		if err != nil {
			failed++ // forbidden by the state this node sees: that is the point
		}
		if step%20 == 0 {
			time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond) // let some gossip through mid-storm
		}
	}
	t.Logf("%d posts, %d actions refused by the rules", posted, failed)

	// Heal: restart stopped nodes, undo the partition, and put carol and
	// dave back as members so that all four nodes must agree.
	for i := range stopped {
		c.Nodes[i].Start()
	}
	if partitioned {
		for _, x := range c.Nodes[:2] {
			for _, y := range c.Nodes[2:] {
				c.Link(x, y)
			}
		}
	}
	// alice and bob's nodes must agree first, so alice acts on the merged
	// state.
	awaitConverged(t, time.Minute, room, all[:2]...)
	r := alice.Room(room)
	for _, id := range ids[2:] {
		present := false
		for _, m := range r.Members {
			present = present || m.Account == id
		}
		if !present {
			alice.AddMember(room, id, protocol.RoleMember)
		}
	}
	awaitConverged(t, 2*time.Minute, room, all...)
	for _, v := range all[1:] {
		if a, b := state(all[0], room), state(v, room); a != b {
			t.Logf("%s and %s show different messages (soft-failed on one)", all[0], v)
		}
	}
	var total uint64
	for _, nd := range c.Nodes {
		st := nd.Status(t).Network
		total += st.SyncEvents
	}
	t.Logf("sync repaired %d events across the nodes", total)
}

// converged renders what member nodes of room must agree on, as ac's node
// holds it: its members with their roles, and its heads (the same heads
// mean the same events).
func converged(ac *Actor, room protocol.RoomID) string {
	r, err := ac.Node().Room(context.Background(), ac.Handle, room)
	if err != nil {
		return "error: " + err.Error()
	}
	var members []string
	for _, m := range r.Members {
		members = append(members, fmt.Sprintf("%s:%s", m.Account, m.Role))
	}
	slices.Sort(members)
	heads, err := ac.Node().Heads(context.Background(), room)
	if err != nil {
		return "error: " + err.Error()
	}
	hs := make([]string, len(heads))
	for i, h := range heads {
		hs[i] = h.String()
	}
	slices.Sort(hs)
	return fmt.Sprintf("%q %v heads %v", r.Name, members, hs)
}

// awaitConverged waits until every view of room holds the same events and
// members.
func awaitConverged(t testing.TB, timeout time.Duration, room protocol.RoomID, views ...*Actor) {
	t.Helper()
	Await(t, timeout, func() (bool, string) {
		first := converged(views[0], room)
		for _, v := range views[1:] {
			if s := converged(v, room); s != first {
				return false, fmt.Sprintf("%s holds %s\n--- %s holds %s", views[0], first, v, s)
			}
		}
		return true, ""
	})
}
