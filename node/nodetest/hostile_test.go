package nodetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// hostile is a partner node that says yes to everything and stores
// nothing: the test makes it publish whatever it likes, and it answers
// every sync request with the events in serve.
// linkHostile makes the hostile host h and each of nodes partners of
// each other.
func linkHostile(t *testing.T, h *p2p.Host, nodes ...*Node) {
	t.Helper()
	for _, nd := range nodes {
		if _, err := nd.AddPartner(t.Context(), h.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := h.AddPartner(t.Context(), nd.Addr()); err != nil {
			t.Fatal(err)
		}
	}
}

// startHostile runs a hostile partner: a libp2p host with key and
// handler on 127.0.0.1, logging as name, stopped when the test ends.
// Linking it with a node is the test's to do.
func startHostile(t *testing.T, name string, key ed25519.PrivateKey, handler p2p.Handler) *p2p.Host {
	t.Helper()
	h, err := p2p.New(p2p.Config{Identity: key, Handler: handler,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Logger: slog.New(slog.NewTextHandler(testWriter{t, name}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	<-h.Ready()
	return h
}

// roomServer is a hostile partner that answers a sync request of each
// room with the events in byRoom[room], whatever the requester holds.
type roomServer struct {
	hostile
	byRoom map[protocol.RoomID][][]byte
}

func (s roomServer) Missing(_ context.Context, _ protocol.NodeID, want protocol.SyncWant, _ []protocol.EventID, emit func([]byte) error) error {
	for _, w := range s.byRoom[want.Room] {
		if err := emit(w); err != nil {
			return err
		}
	}
	return nil
}

type hostile struct {
	rooms map[protocol.RoomID][]protocol.NodeID // and whom each room's topic is named after
	serve *[][]byte
}

func (hostile) Shares(protocol.NodeID, protocol.RoomID) bool { return true }
func (hostile) Scope(context.Context, protocol.NodeID, protocol.RoomID) (p2p.Scope, error) {
	return p2p.Scope{All: true}, nil
}
func (hostile) Accept(_ context.Context, _ protocol.NodeID, _ protocol.RoomID, events []*protocol.Signed) []error {
	return make([]error, len(events))
}
func (hostile) Have(_ context.Context, room protocol.RoomID) (protocol.SyncWant, error) {
	return protocol.SyncWant{Room: room}, nil
}
func (h hostile) Missing(_ context.Context, _ protocol.NodeID, _ protocol.SyncWant, _ []protocol.EventID, emit func([]byte) error) error {
	for _, w := range *h.serve {
		if err := emit(w); err != nil {
			return err
		}
	}
	return nil
}
func (h hostile) Rooms(context.Context) (map[protocol.RoomID][]protocol.NodeID, error) {
	return h.rooms, nil
}
func (hostile) Held(_ context.Context, ids []protocol.EventID, _ []protocol.Links) []bool {
	held := make([]bool, len(ids))
	for i := range held {
		held[i] = true
	}
	return held
}

// TestHostilePartner: a partner node hosting a member of a room gossips
// forged events, events by authors it does not host and replays, and
// answers sync with misdirected and malformed events. Every one is
// rejected and counted, nothing is stored, and honest traffic between the
// other nodes keeps flowing. (Oversized and malformed gossip, which a
// p2p.Host refuses to publish, is covered in package p2p.)
// chained returns the envelope of origin's next event in room after
// parent, as a chain of version 2 needs it: it follows origin's latest
// event in parent's causal past, looked up among the events src holds and
// made. It lets a hostile node build on events of its choosing.
func chained(ctx context.Context, src p2p.Handler, room protocol.RoomID, origin protocol.NodeID, parent *protocol.Signed,
	made ...*protocol.Signed) protocol.Event {
	all := map[protocol.EventID]*protocol.Signed{}
	src.Missing(ctx, origin, protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		if e, err := protocol.Decode(w); err == nil {
			all[e.ID] = e
		}
		return nil
	})
	for _, e := range made {
		all[e.ID] = e
	}
	var last *protocol.Signed
	seen := map[protocol.EventID]bool{}
	queue := []protocol.EventID{parent.ID}
	all[parent.ID] = parent
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		e := all[id]
		if seen[id] || e == nil {
			continue
		}
		seen[id] = true
		if e.Origin == origin && (last == nil || e.Seq > last.Seq) {
			last = e
		}
		queue = append(queue, e.Prev...)
	}
	heads := []protocol.Order{parent.Order()}
	if last == nil {
		return protocol.ChainSuccessor(room, parent.Version, heads, protocol.Order{}, 0)
	}
	return protocol.ChainSuccessor(room, parent.Version, heads, last.Order(), last.Seq)
}

// newest returns the newest event nd holds of room, in the store's order.
func newest(t *testing.T, nd *Node, room protocol.RoomID) *protocol.Signed {
	t.Helper()
	var last *protocol.Signed
	err := nd.FederationForTest().Missing(t.Context(), nd.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		var err error
		last, err = protocol.Decode(w)
		return err
	})
	if err != nil || last == nil {
		t.Fatalf("newest event of room %s: %v", room, err)
	}
	return last
}

// malloryRoom is a room that alice on node a made with bob on node b and
// mallory, an account of a hostile node that the test plays with key.
type malloryRoom struct {
	a, b       *Node
	alice, bob *Actor
	room       protocol.RoomID
	key        ed25519.PrivateKey
	evil       protocol.NodeID
	mallory    protocol.AccountID
}

// newMalloryRoom starts two nodes and makes a malloryRoom; b holds the
// room when it returns.
func newMalloryRoom(t *testing.T) *malloryRoom {
	t.Helper()
	c := NewCluster(t, 2, Options{})
	m := &malloryRoom{a: c.Nodes[0], b: c.Nodes[1]}
	m.a.User("alice")
	m.b.User("bob")
	m.alice, m.bob = m.a.As("alice"), m.b.As("bob")
	_, m.key, _ = ed25519.GenerateKey(rand.Reader)
	m.evil = protocol.NodeIDFromKey(m.key.Public().(ed25519.PublicKey))
	m.mallory = protocol.NewAccountID(m.evil, "mallory")
	m.room = m.alice.CreateRoom("Deal", m.bob.ID(), m.mallory)
	m.bob.AwaitRoom(m.room)
	return m
}

func TestHostilePartner(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	bob := b.User("bob")

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	mallory := protocol.NewAccountID(evil, "mallory")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Deal",
		Members: []node.MemberSpec{{Account: bob}, {Account: mallory}}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Private", Members: []node.MemberSpec{{Account: bob}}})
	if err != nil {
		t.Fatal(err)
	}
	var serve [][]byte
	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[protocol.RoomID][]protocol.NodeID{room.ID: hosted[room.ID], other.ID: hosted[other.ID]}
	h := startHostile(t, "evil", key, hostile{rooms: rooms, serve: &serve})
	linkHostile(t, h, a)

	// What the hostile node knows of the room: its newest event, to build on.
	last := newest(t, a, room.ID)
	sign := func(author protocol.Handle, in protocol.RoomID, c protocol.Content) []byte {
		src := a.FederationForTest()
		ev := chained(ctx, src, in, protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), last)
		ev.Author, ev.Time = author, time.Now().UnixMilli()
		s, err := protocol.Sign(key, ev, c)
		if err != nil {
			t.Fatal(err)
		}
		return s.Wire()
	}
	forge := func() []byte {
		w := sign("mallory", room.ID, &protocol.MessagePost{Body: "forged"})
		var items [][]byte // body, signature, payload
		if err := cbor.Unmarshal(w, &items); err != nil || len(items) != 3 {
			t.Fatalf("wire form: %v, %d items", err, len(items))
		}
		w[bytes.Index(w, items[1])+10] ^= 1 // a byte of the signature
		return w
	}
	otherPayload := func() []byte {
		w := sign("mallory", room.ID, &protocol.MessagePost{Body: "not what was signed"})
		w[len(w)-1] ^= 1 // a byte of the payload, which the body signs by its hash
		return w
	}
	forged := forge()
	var otherLast *protocol.Signed
	a.FederationForTest().Missing(ctx, a.ID(), protocol.SyncWant{Room: other.ID}, nil, func(w []byte) error { otherLast, _ = protocol.Decode(w); return nil })
	intoOther := func() []byte {
		ev := chained(ctx, a.FederationForTest(), other.ID, protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), otherLast)
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
		s, _ := protocol.Sign(key, ev, &protocol.MessagePost{Body: "into a room I am not in"})
		return s.Wire()
	}
	wrongRoom := intoOther()
	honest := sign("mallory", room.ID, &protocol.MessagePost{Body: "an honest word"})
	// Each is made afresh (a new time, so a new event) for every try: a
	// pubsub message published before a's subscription reached the hostile
	// node is lost, and publishing the same bytes again is a duplicate.
	gossip := map[string]func() []byte{
		"forged signature":           forge,
		"a payload not signed":       otherPayload,
		"an author it does not host": func() []byte { return sign("alice", room.ID, &protocol.MessagePost{Body: "I am alice"}) },
		"an event of another room":   intoOther, // Publish trusts its node; a's validator must not
	}
	if err := h.Join(room.ID, rooms[room.ID]); err != nil {
		t.Fatal(err)
	}
	// Publish until a's pubsub has taken each one (the hostile node must
	// first see a's subscription).
	before := a.Status(t).Network.GossipRejected
	Await(t, 20*time.Second, func() (bool, string) {
		for _, make := range gossip {
			h.Publish(ctx, room.ID, make())
		}
		got := a.Status(t).Network.GossipRejected - before
		return got >= uint64(len(gossip)), fmt.Sprintf("a rejected %d of %d bad gossip events", got, len(gossip))
	})
	// A replay is the same pubsub message: dropped as a duplicate.
	h.Publish(ctx, room.ID, honest)
	h.Publish(ctx, room.ID, honest)

	// Sync: whatever a asks, the hostile node answers with bad events.
	serve = [][]byte{wrongRoom, []byte("\xa1\x01\x02 not an event"), forged}
	Await(t, 20*time.Second, func() (bool, string) {
		a.SyncRoomForTest(ctx, evil, room.ID)
		n := a.Status(t).Network.SyncMisbehaved
		return n > 0, "a has not reset a misbehaving sync stream"
	})
	// Its subscription to the room it has no member in was refused.
	if err := h.Join(other.ID, rooms[other.ID]); err != nil {
		t.Fatal(err)
	}
	Await(t, 10*time.Second, func() (bool, string) {
		n := a.Status(t).Network.RefusedSubscriptions
		return n > 0, "a refused no subscription"
	})
	// Nothing bad was stored: only mallory's one honest message.
	Await(t, 20*time.Second, func() (bool, string) {
		ms, err := a.Messages(ctx, "alice", room.ID, node.Page{})
		return err == nil && len(ms) == 1 && ms[0].Body == "an honest word", fmt.Sprintf("a holds %+v (%v)", ms, err)
	})
	if ms, _ := a.Messages(ctx, "alice", other.ID, node.Page{}); len(ms) != 0 {
		t.Fatalf("a stored %+v in the room the hostile node is not in", ms)
	}
	// A well-formed event by its own member is fine, and honest traffic
	// between a and b still flows.
	if _, err := a.Post(ctx, "alice", room.ID, "still here"); err != nil {
		t.Fatal(err)
	}
	Await(t, 20*time.Second, func() (bool, string) {
		ms, err := b.Messages(ctx, "bob", room.ID, node.Page{})
		return err == nil && len(ms) == 2 && ms[1].Body == "still here", fmt.Sprintf("b sees %d messages (%v)", len(ms), err)
	})
}

// TestExAdminCannotEraseHistory is issue 13's breakage across nodes, in a
// room of version 2: alice (on a) promotes bob, whose account lives on a
// hostile node, adds dave, removes carol, renames the room, demotes bob,
// posts 50 messages and makes erin admin (dave, carol and erin on b).
// Bob's node then answers on parents from his promotion: it removes and
// demotes alice (refused: bob is not senior to the creator), removes carol
// and adds an accomplice as admin, who renames the room (accepted, as they
// were allowed where they were made, but void). Both honest nodes keep
// alice's history.
func TestExAdminCannotEraseHistory(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	alice := a.As("alice")
	carol, dave, erin := b.User("carol"), b.User("dave"), b.User("erin")

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	bob, mallory := protocol.NewAccountID(evil, "bob"), protocol.NewAccountID(evil, "mallory")
	room := alice.CreateRoom("Deal", bob, carol)
	alice.SetRole(room, bob, protocol.RoleAdmin)
	alice.AddMember(room, dave, protocol.RoleMember)
	alice.RemoveMember(room, carol)
	name := "Deal, signed"
	if err := a.UpdateRoom(ctx, "alice", room, node.RoomChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	alice.SetRole(room, bob, protocol.RoleMember)
	for i := range 50 {
		alice.Post(room, fmt.Sprint("post ", i))
	}
	alice.AddMember(room, erin, protocol.RoleAdmin)

	// Bob's node builds on his promotion, which it finds in a's events.
	var promoted *protocol.Signed
	a.FederationForTest().Missing(ctx, a.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		e, err := protocol.Decode(w)
		if r, ok := e.Content.(*protocol.MemberRole); err == nil && ok && r.Account == bob && r.Role == protocol.RoleAdmin {
			promoted = e
		}
		return nil
	})
	if promoted == nil || promoted.Version != protocol.Version {
		t.Fatalf("bob's promotion %+v, want one of version %d", promoted, protocol.Version)
	}
	var made []*protocol.Signed
	sign := func(author protocol.Handle, parent *protocol.Signed, c protocol.Content) *protocol.Signed {
		ev := chained(ctx, a.FederationForTest(), room, evil, parent, made...)
		ev.Author, ev.Time = author, time.Now().UnixMilli()
		s, err := protocol.Sign(key, ev, c)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, s)
		return s
	}
	// The revocations of alice, signed afresh for each try: pubsub drops
	// a message it has seen, and the first tries may precede the mesh.
	refused := func() []*protocol.Signed {
		return []*protocol.Signed{
			sign("bob", promoted, &protocol.MemberRemove{Account: alice.ID()}),
			sign("bob", promoted, &protocol.MemberRole{Account: alice.ID(), Role: protocol.RoleMember}),
		}
	}
	accomplice := sign("bob", promoted, &protocol.MemberAdd{Member: protocol.MemberInfo{Account: mallory, Role: protocol.RoleAdmin}})
	void := []*protocol.Signed{
		sign("bob", promoted, &protocol.MemberRemove{Account: carol}),
		accomplice,
		sign("mallory", accomplice, &protocol.RoomUpdate{Name: new("mallory's")}),
	}
	var serve [][]byte
	for _, e := range void {
		serve = append(serve, e.Wire())
	}

	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}
	h := startHostile(t, "bob's", key, hostile{rooms: rooms, serve: &serve})
	linkHostile(t, h, a)
	if err := h.Join(room, rooms[room]); err != nil {
		t.Fatal(err)
	}

	// Bob's node publishes until a has refused the revocations of alice
	// and both honest nodes hold the rest.
	ids := make([]protocol.EventID, len(void))
	for i, e := range void {
		ids[i] = e.ID
	}
	rejected := a.Status(t).Network.GossipRejected
	var published []protocol.EventID
	Await(t, 30*time.Second, func() (bool, string) {
		for _, e := range slices.Concat(refused(), void) {
			h.Publish(ctx, room, e.Wire())
			published = append(published, e.ID)
		}
		a.SyncRoomForTest(ctx, evil, room)
		got := a.Status(t).Network.GossipRejected - rejected
		heldA, heldB := a.FederationForTest().Held(ctx, ids, nil), b.FederationForTest().Held(ctx, ids, nil)
		ok := got >= 2 && !slices.Contains(heldA, false) && !slices.Contains(heldB, false)
		return ok, fmt.Sprintf("a rejected %d gossip events, want 2; a holds %v, b %v of bob's accepted events", got, heldA, heldB)
	})
	for _, nd := range []*Node{a, b} {
		held := nd.FederationForTest().Held(ctx, published, nil)
		for i, id := range published {
			if held[i] && !slices.Contains(ids, id) {
				t.Fatalf("node %s stored a revocation of alice by bob", nd.Name)
			}
		}
	}

	want := map[protocol.AccountID]protocol.Role{alice.ID(): protocol.RoleAdmin, bob: protocol.RoleMember,
		dave: protocol.RoleMember, erin: protocol.RoleAdmin}
	for _, v := range []struct {
		nd *Node
		as protocol.Handle
	}{{a, "alice"}, {b, "dave"}} {
		r, err := v.nd.Room(ctx, v.as, room)
		if err != nil {
			t.Fatal(err)
		}
		got := map[protocol.AccountID]protocol.Role{}
		for _, m := range r.Members {
			got[m.Account] = m.Role
		}
		if !maps.Equal(got, want) || r.Name != name {
			t.Errorf("node %s: members %v, name %q; want %v, %q", v.nd.Name, got, r.Name, want, name)
		}
	}
}

// TestRemovedNodeCannotInjectGossip: a partner node hosting mallory is
// removed from a room, then publishes a post backdated onto the room's
// events before the removal, which the room rules find valid, on the
// room's new topic, whose name it computes, and on the old one. a's
// validator rejects it for coming from a node not in the room, and
// neither a nor b ever shows it.
func TestRemovedNodeCannotInjectGossip(t *testing.T) {
	m := newMalloryRoom(t)
	a, b, alice, bob, room, key, evil, mallory := m.a, m.b, m.alice, m.bob, m.room, m.key, m.evil, m.mallory
	ctx := t.Context()
	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}
	var serve [][]byte
	h := startHostile(t, "evil", key, hostile{rooms: rooms, serve: &serve})
	linkHostile(t, h, a)

	// The newest event before the removal, to backdate onto.
	last := newest(t, a, room)
	alice.RemoveMember(room, mallory)
	var backdated []protocol.EventID
	backdate := func() []byte {
		ev := chained(ctx, a.FederationForTest(), room, protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), last)
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()+int64(len(backdated))
		e, err := protocol.Sign(key, ev, &protocol.MessagePost{Body: "backdated"})
		if err != nil {
			t.Fatal(err)
		}
		backdated = append(backdated, e.ID)
		return e.Wire()
	}

	// The removed node moves to the topic a is on now, named after a and
	// b (the old one a has left), and publishes there until a's pubsub
	// has taken one (each a new event: pubsub drops a message it has
	// seen, its own included).
	Await(t, 30*time.Second, func() (bool, string) {
		ps, err := a.Partners(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.ID == evil && p.Connected {
				return true, ""
			}
		}
		return false, "a is not connected to the hostile node"
	})
	if err := h.Join(room, []protocol.NodeID{a.ID(), b.ID()}); err != nil {
		t.Fatal(err)
	}
	before := a.Status(t).Network.GossipNotMember
	Await(t, 30*time.Second, func() (bool, string) {
		h.Publish(ctx, room, backdate())
		got := a.Status(t).Network.GossipNotMember - before
		return got > 0, "a rejected no gossip from the removed node"
	})
	// Honest traffic still flows; the backdated post is nowhere.
	alice.Post(room, "after")
	bob.AwaitMessages(room, "after")
	alice.AwaitMessages(room, "after")
	for _, id := range backdated {
		if holds(a, id) || holds(b, id) {
			t.Error("a node stored the removed node's backdated post")
		}
	}
}

// TestHostileProfilesCannotKeepMember: a hostile partner node hosting
// mallory publishes profiles of her, one after another, to keep her in a
// room: a profile that carol's node acknowledged before alice's removal of
// mallory reached it used to void the removal on every node (finality).
// Here alice's node is cut off from carol's while mallory's node feeds
// carol's a profile, carol posts after it, and alice removes mallory.
// Once a and c are linked again both end with mallory removed: in a room
// of version 4 her profiles settle nothing.
func TestHostileProfilesCannotKeepMember(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, cn := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	cn.User("carol")
	alice, carol := a.As("alice"), cn.As("carol")

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	mallory := protocol.NewAccountID(evil, "mallory")
	room := alice.CreateRoom("Deal", carol.ID(), mallory)
	carol.AwaitRoom(room)
	hosted, err := cn.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := &growingServer{hostile: hostile{rooms: map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}}}
	h := startHostile(t, "evil", key, srv)
	linkHostile(t, h, cn)
	c.Unlink(a, cn)
	if err := h.Join(room, hosted[room]); err != nil {
		t.Fatal(err)
	}

	// Mallory's node publishes profiles, each after the one before (and
	// serves them all, so that carol's node can pull what gossip lost),
	// until carol's node holds one.
	var parent *protocol.Signed
	cn.FederationForTest().Missing(ctx, cn.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
		parent, _ = protocol.Decode(w)
		return nil
	})
	var made []*protocol.Signed
	Await(t, 30*time.Second, func() (bool, string) {
		ev := chained(ctx, cn.FederationForTest(), room, evil, parent, made...)
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
		e, err := protocol.Sign(key, ev, &protocol.MemberProfile{Name: fmt.Sprint("Mallory ", len(made))})
		if err != nil {
			t.Fatal(err)
		}
		made, parent = append(made, e), e
		srv.add(e.Wire())
		if err := h.Publish(ctx, room, e.Wire()); err != nil {
			t.Fatal(err)
		}
		for _, e := range made {
			if holds(cn, e.ID) {
				return true, ""
			}
		}
		return false, "carol's node holds none of mallory's profiles"
	})
	carol.Post(room, "seen")
	alice.RemoveMember(room, mallory)
	c.Link(a, cn)

	want := fmt.Sprint([]string{string(alice.ID()) + ":admin", string(carol.ID()) + ":member"})
	awaitMembers(t, room, want, a, cn)
}

// growingServer is a hostile partner that answers every sync request with
// the events added so far, which the test adds while it runs.
type growingServer struct {
	hostile
	mu    sync.Mutex
	wires [][]byte
}

func (s *growingServer) add(wire []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wires = append(s.wires, wire)
}

func (s *growingServer) Missing(_ context.Context, _ protocol.NodeID, _ protocol.SyncWant, _ []protocol.EventID, emit func([]byte) error) error {
	s.mu.Lock()
	wires := slices.Clone(s.wires)
	s.mu.Unlock()
	for _, w := range wires {
		if err := emit(w); err != nil {
			return err
		}
	}
	return nil
}
