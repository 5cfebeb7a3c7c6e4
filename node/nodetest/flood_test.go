package nodetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestHeadsFlood is issue 14's heads flood: mallory, a read-only member
// of a room whose node is hostile, signs hundreds of member.profile events
// (any role may) all on the room's create, at one position of its chain,
// so the room has as many heads. They reach a by sync, with mallory's
// posts in another room in the same sync round, and by the federation
// handler's Accept. a stores them all, counts the equivocations, keeps
// syncing the other room, and what one more forked event costs it does
// not grow with the heads.
func TestHeadsFlood(t *testing.T) {
	const flood = 600 // past the ~576 heads at which a batch of 256 was too big for one transaction
	c := NewCluster(t, 1, Options{})
	a := c.Nodes[0]
	ctx := t.Context()
	a.User("alice")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	mallory := protocol.NewAccountID(evil, "mallory")
	floodRoom, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Flooded",
		Members: []node.MemberSpec{{Account: mallory, Role: protocol.RoleReadonly}}})
	if err != nil {
		t.Fatal(err)
	}
	calm, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Calm", Members: []node.MemberSpec{{Account: mallory}}})
	if err != nil {
		t.Fatal(err)
	}
	first := func(room protocol.RoomID) *protocol.Signed {
		var e *protocol.Signed
		a.FederationForTest().Missing(ctx, a.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
			if e == nil {
				e, _ = protocol.Decode(w)
			}
			return nil
		})
		return e
	}
	create := first(floodRoom.ID)
	sign := func(ev protocol.Event, content protocol.Content) *protocol.Signed {
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
		s, err := protocol.Sign(key, ev, content)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Every one is mallory's node's first event in the room: seq 1, on
	// the create.
	fork := func(i int) *protocol.Signed {
		ev := protocol.ChainSuccessor(floodRoom.ID, create.Version, []protocol.Order{create.Order()}, protocol.Order{}, 0)
		return sign(ev, &protocol.MemberProfile{Name: fmt.Sprintf("mallory %d", i)})
	}
	forks := make([]*protocol.Signed, flood+64)
	for i := range forks {
		forks[i] = fork(i)
	}
	accept := func(events []*protocol.Signed) (bytes uint64) {
		t.Helper()
		before := a.Status(t).Store.WrittenBytes
		for i, err := range a.FederationForTest().Accept(ctx, evil, floodRoom.ID, events) {
			if err != nil {
				t.Fatalf("accept fork %d: %v", i, err)
			}
		}
		return a.Status(t).Store.WrittenBytes - before
	}
	// What a forked event costs while the room has few heads.
	small := accept(forks[:32])

	// The bulk arrives by sync, with mallory's posts in the calm room in
	// the same round.
	var posts [][]byte
	last := first(calm.ID)
	for i := range 3 {
		s := sign(chained(ctx, a.FederationForTest(), calm.ID, evil, last), &protocol.MessagePost{Body: fmt.Sprint("calm ", i)})
		posts, last = append(posts, s.Wire()), s
	}
	var bulk [][]byte
	for _, e := range forks[32:flood] {
		bulk = append(bulk, e.Wire())
	}
	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[protocol.RoomID][]protocol.NodeID{floodRoom.ID: hosted[floodRoom.ID], calm.ID: hosted[calm.ID]}
	h := startHostile(t, "evil", key, roomServer{hostile: hostile{rooms: rooms}, byRoom: map[protocol.RoomID][][]byte{floodRoom.ID: bulk, calm.ID: posts}})
	if _, err := h.AddPartner(ctx, a.Addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddPartner(ctx, h.Addrs()[0]); err != nil { // a syncs both rooms with it on connecting
		t.Fatal(err)
	}
	Await(t, 60*time.Second, func() (bool, string) {
		ms, err := a.Messages(ctx, "alice", calm.ID, node.Page{})
		st := a.Status(t)
		return err == nil && len(ms) == len(posts) && st.Equivocations == flood-1,
			fmt.Sprintf("a shows %d of mallory's %d posts (%v) and counts %d equivocations; sync misbehaved %d, store %+v",
				len(ms), len(posts), err, st.Equivocations, st.Network.SyncMisbehaved, st.Store)
	})
	st := a.Status(t)
	if st.Network.SyncMisbehaved != 0 {
		t.Errorf("a blamed the flooding partner %d times for what it could store", st.Network.SyncMisbehaved)
	}
	have, err := a.FederationForTest().Have(ctx, floodRoom.ID)
	if err != nil {
		t.Fatal(err)
	}
	heads := have.Heads
	t.Logf("%d heads", len(heads))

	// What a forked event costs at ~600 heads: its event and the deltas of
	// its control snapshot and of the room's, and nothing per head. Before,
	// each event of a batch rewrote the room's heads record in full, and
	// then each wrote a control snapshot listing every control event of
	// the room (32 bytes each, about 20 KB here).
	large := accept(forks[flood:])
	st = a.Status(t)
	t.Logf("32 forked events at a few heads wrote %d bytes, 64 at %d heads %d bytes (%d and %d per event); %d batches split; store %+v",
		small, len(heads), large, small/32, large/64, st.AcceptSplits, st.Store)
	if per, bound := large/64, uint64(4096); per > bound {
		t.Errorf("a forked event at %d heads writes %d bytes, more than the %d bytes that do not grow with the heads", len(heads), per, bound)
	}
	// The room still works for its honest members.
	if _, err := a.Post(ctx, "alice", floodRoom.ID, "still here"); err != nil {
		t.Fatal(err)
	}
}
