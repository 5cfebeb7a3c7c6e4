package nodetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestMultiAddReplicates: an admin adds accounts of two nodes in one
// member.add; the other member node shows all of them, and its own new
// member counts from the addition on.
func TestMultiAddReplicates(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	alice := a.As("alice")
	bob, carol := b.User("bob"), b.User("carol")
	dave := a.User("dave")
	room := alice.CreateRoom("Launch", bob)
	b.As("bob").AwaitRoom(room)
	alice.Post(room, "before")
	if err := a.AddMembers(ctx, "alice", room, []node.MemberSpec{{Account: carol}, {Account: dave, Role: protocol.RoleReadonly}}); err != nil {
		t.Fatal(err)
	}
	b.As("bob").AwaitMembers(room, alice.ID(), bob, carol, dave)
	alice.Post(room, "[toall] welcome")
	b.As("carol").AwaitMessages(room, "before", "[toall] welcome")
	Await(t, 20*time.Second, func() (bool, string) {
		r, err := b.Room(ctx, "carol", room)
		return err == nil && r.Unread == 1 && r.Mentions == 1, fmt.Sprintf("carol's room %+v, %v; want 1 unread, 1 mention", r, err)
	})
}

// TestHostileMultiAdd: a partner node hosting bob, a member but no admin
// (demoted), signs additions of several accounts that the room rules
// forbid: by bob after his demotion (not an admin), and one, made while
// bob was admin, that lists an account already a member besides a new
// one. It gossips them and serves them by sync to both honest nodes, with
// a post of bob's that is allowed. Both nodes hold the post and drop the
// additions alike: neither stores one, and the members stay as they were.
func TestHostileMultiAdd(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	alice := a.As("alice")
	carol, dave := b.User("carol"), b.User("dave")

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	bob, mallory := protocol.NewAccountID(evil, "bob"), protocol.NewAccountID(evil, "mallory")
	room := alice.CreateRoom("Deal", bob, carol)
	alice.SetRole(room, bob, protocol.RoleAdmin)
	alice.SetRole(room, bob, protocol.RoleMember)
	alice.Post(room, "after bob's demotion")
	b.As("carol").AwaitMessages(room, "after bob's demotion")

	// The events a holds: bob's promotion, and the newest.
	var promoted, newest *protocol.Signed
	a.FederationForTest().Missing(ctx, a.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		e, err := protocol.Decode(w)
		if err != nil {
			return err
		}
		if r, ok := e.Content.(*protocol.MemberRole); ok && r.Account == bob && r.Role == protocol.RoleAdmin {
			promoted = e
		}
		if newest == nil || e.Order().Compare(newest.Order()) > 0 {
			newest = e
		}
		return nil
	})
	if promoted == nil || newest == nil {
		t.Fatal("bob's promotion or the newest event not found")
	}
	sign := func(parent *protocol.Signed, c protocol.Content) *protocol.Signed {
		ev := chained(ctx, a.FederationForTest(), room, evil, parent)
		ev.Author, ev.Time = "bob", time.Now().UnixMilli()
		s, err := protocol.Sign(key, ev, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	add := func(role protocol.Role, as ...protocol.AccountID) *protocol.MemberAdd {
		m := &protocol.MemberAdd{Member: protocol.MemberInfo{Account: as[0], Role: role}}
		for _, x := range as[1:] {
			m.More = append(m.More, protocol.MemberInfo{Account: x, Role: role})
		}
		return m
	}
	// Signed afresh for each try: pubsub drops a message it has seen.
	forbidden := func() []*protocol.Signed {
		return []*protocol.Signed{
			sign(newest, add(protocol.RoleAdmin, mallory, dave)),           // bob is no admin there
			sign(promoted, add(protocol.RoleMember, mallory, dave, carol)), // carol is a member there
		}
	}
	post := sign(newest, &protocol.MessagePost{Body: "bob is still here"})
	serve := [][]byte{}
	for _, e := range forbidden() {
		serve = append(serve, e.Wire())
	}
	serve = append(serve, post.Wire())

	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}
	h := startHostile(t, "bob's", key, hostile{rooms: rooms, serve: &serve})
	linkHostile(t, h, a, b)
	if err := h.Join(room, rooms[room]); err != nil {
		t.Fatal(err)
	}

	var published []protocol.EventID
	for _, w := range serve[:2] {
		e, _ := protocol.Decode(w)
		published = append(published, e.ID)
	}
	// Bob's node publishes until each honest node has refused at least
	// two additions of its gossip and holds the post.
	rejected := []uint64{a.Status(t).Network.GossipRejected, b.Status(t).Network.GossipRejected}
	Await(t, 30*time.Second, func() (bool, string) {
		for _, e := range forbidden() {
			h.Publish(ctx, room, e.Wire())
			published = append(published, e.ID)
		}
		h.Publish(ctx, room, post.Wire())
		var held []bool
		var refused []uint64
		for i, nd := range []*Node{a, b} {
			nd.SyncRoomForTest(ctx, evil, room)
			held = append(held, nd.FederationForTest().Held(ctx, []protocol.EventID{post.ID}, nil)[0])
			refused = append(refused, nd.Status(t).Network.GossipRejected-rejected[i])
		}
		ok := !slices.Contains(held, false) && refused[0] >= 2 && refused[1] >= 2
		return ok, fmt.Sprintf("a, b hold bob's post: %v; rejected %v gossip events, want 2 each", held, refused)
	})

	want := map[protocol.AccountID]protocol.Role{alice.ID(): protocol.RoleAdmin, bob: protocol.RoleMember, carol: protocol.RoleMember}
	for _, v := range []struct {
		nd *Node
		as protocol.Handle
	}{{a, "alice"}, {b, "carol"}} {
		for i, held := range v.nd.FederationForTest().Held(ctx, published, nil) {
			if held {
				t.Errorf("node %s stored bob's forbidden addition %s", v.nd.Name, published[i])
			}
		}
		r, err := v.nd.Room(ctx, v.as, room)
		if err != nil {
			t.Fatal(err)
		}
		got := map[protocol.AccountID]protocol.Role{}
		for _, m := range r.Members {
			got[m.Account] = m.Role
		}
		if !maps.Equal(got, want) {
			t.Errorf("node %s: members %v, want %v", v.nd.Name, got, want)
		}
		v.nd.As(v.as).AwaitMessages(room, "after bob's demotion", "bob is still here")
	}
}
