package nodetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestHiddenForkConverges: a hostile partner signs two chains of its own
// in a room from the same position, eight events for a and five others
// for b, so that each honest node holds one side and sees no
// equivocation. A sync request names the requester's chain positions, and
// a responder sends nothing of a chain the requester says it holds, so
// each side could stay hidden from the other node for good. They must
// not: a and b each end up holding both sides, and count the
// equivocation.
func TestHiddenForkConverges(t *testing.T) {
	m := newMalloryRoom(t)
	a, b, room, key, evil := m.a, m.b, m.room, m.key, m.evil
	ctx := t.Context()
	held := func(nd *Node) map[protocol.EventID]bool {
		out := map[protocol.EventID]bool{}
		nd.FederationForTest().Missing(ctx, nd.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
			id, err := protocol.PeekID(w)
			out[id] = true
			return err
		})
		return out
	}
	// The newest event a holds, which b holds too once their sync
	// rounds are over.
	last := newest(t, a, room)
	Await(t, 30*time.Second, func() (bool, string) { return held(b)[last.ID], "b to hold a's newest event" })

	side := func(name string, n int) []*protocol.Signed {
		var out []*protocol.Signed
		prev := last
		for i := range n {
			ev := chained(ctx, a.FederationForTest(), room, evil, prev, out...)
			ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
			e, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: fmt.Sprintf("%s %d", name, i)})
			if err != nil {
				t.Fatal(err)
			}
			out, prev = append(out, e), e
		}
		return out
	}
	toA, toB := side("to a", 8), side("to b", 5)
	if toA[0].Seq != toB[0].Seq || toA[0].ID == toB[0].ID {
		t.Fatalf("the sides start at positions %d and %d", toA[0].Seq, toB[0].Seq)
	}
	for _, give := range []struct {
		nd     *Node
		events []*protocol.Signed
	}{{a, toA}, {b, toB}} {
		for i, err := range give.nd.FederationForTest().Accept(ctx, evil, room, give.events) {
			if err != nil {
				t.Fatalf("node %s: event %d: %v", give.nd.Name, i, err)
			}
		}
	}

	all := append(toA, toB...)
	for _, nd := range []*Node{a, b} {
		Await(t, time.Minute, func() (bool, string) {
			h := held(nd)
			lacks := 0
			for _, e := range all {
				if !h[e.ID] {
					lacks++
				}
			}
			st := nd.Status(t)
			return lacks == 0 && st.Equivocations > 0, fmt.Sprintf("node %s lacks %d of the hostile node's %d events, counts %d equivocations",
				nd.Name, lacks, len(all), st.Equivocations)
		})
	}
}
