package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// fakeNode is an in-memory Handler: one protocol.Replica per room, and a
// static view of which nodes host members of which room.
type fakeNode struct {
	self protocol.NodeID

	mu      sync.Mutex
	rooms   map[protocol.RoomID]*protocol.Replica
	wires   map[protocol.EventID][]byte
	members map[protocol.RoomID]map[protocol.NodeID]bool               // this node's view
	removed map[protocol.RoomID]map[protocol.NodeID][]protocol.EventID // Scope.Until of nodes no longer in a room
	accepts int                                                        // Accept calls
	askedBy map[protocol.NodeID]int                                    // Missing calls, by the requesting node
	asked   []protocol.SyncWant                                        // what each Missing call was given
	chains  map[protocol.RoomID][]protocol.ChainPos                    // what Have gives as chain positions
	fail    error                                                      // if set, Accept fails every event with it, as on a full disk or a broken store
}

var _ Handler = (*fakeNode)(nil)

func newFakeNode(self protocol.NodeID) *fakeNode {
	return &fakeNode{self: self, rooms: map[protocol.RoomID]*protocol.Replica{},
		wires: map[protocol.EventID][]byte{}, members: map[protocol.RoomID]map[protocol.NodeID]bool{},
		removed: map[protocol.RoomID]map[protocol.NodeID][]protocol.EventID{}}
}

// view sets which nodes host members of room, in this node's view.
func (f *fakeNode) view(room protocol.RoomID, nodes ...protocol.NodeID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[protocol.NodeID]bool{}
	for _, n := range nodes {
		m[n] = true
	}
	f.members[room] = m
}

func (f *fakeNode) Shares(peer protocol.NodeID, room protocol.RoomID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.members[room][peer]
}

// removal records, in this node's view, that the events until removed
// node's members from room: Scope answers Until for it while it is not in
// the room.
func (f *fakeNode) removal(room protocol.RoomID, node protocol.NodeID, until ...protocol.EventID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed[room] == nil {
		f.removed[room] = map[protocol.NodeID][]protocol.EventID{}
	}
	f.removed[room][node] = until
}

func (f *fakeNode) Scope(_ context.Context, peer protocol.NodeID, room protocol.RoomID) (Scope, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members[room][peer] {
		return Scope{All: true}, nil
	}
	return Scope{Until: f.removed[room][peer]}, nil
}

// nodes returns the nodes that host members of room, in this node's view:
// what the node passes to Host.Join.
func (f *fakeNode) nodes(room protocol.RoomID) []protocol.NodeID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Keys(f.members[room]))
}

func (f *fakeNode) Rooms(context.Context) (map[protocol.RoomID][]protocol.NodeID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[protocol.RoomID][]protocol.NodeID{}
	for r, m := range f.members {
		if m[f.self] {
			out[r] = slices.Collect(maps.Keys(m))
		}
	}
	return out, nil
}

// add takes in events as the node would, and fails the test on refusal.
func (f *fakeNode) add(t testing.TB, es ...*protocol.Signed) {
	t.Helper()
	for _, e := range es {
		if err := f.accept(e.RoomID(), e.Wire()); err != nil {
			t.Fatalf("add %s: %v", e.ID, err)
		}
	}
}

func (f *fakeNode) Accept(_ context.Context, _ protocol.NodeID, room protocol.RoomID, events []*protocol.Signed) []error {
	errs := make([]error, len(events))
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	for i, e := range events {
		if fail != nil {
			errs[i] = fail
			continue
		}
		errs[i] = f.accept(room, e.Wire())
	}
	f.mu.Lock()
	f.accepts++
	f.mu.Unlock()
	return errs
}

func (f *fakeNode) accept(room protocol.RoomID, b []byte) error {
	e, err := protocol.Decode(b)
	if err != nil {
		return err
	}
	if e.RoomID() != room {
		return fmt.Errorf("event of room %s given as room %s", e.RoomID(), room)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[room]
	if r == nil {
		if e.Type != protocol.TypeRoomCreate {
			return &protocol.MissingError{IDs: e.Prev}
		}
		r = protocol.NewReplica(room)
		f.rooms[room] = r
	}
	switch err := r.Add(e); {
	case errors.Is(err, protocol.ErrParked):
		f.wires[e.ID] = b
		return &protocol.MissingError{IDs: e.Prev}
	case err != nil:
		return err
	}
	f.wires[e.ID] = b
	return nil
}

func (f *fakeNode) Have(_ context.Context, room protocol.RoomID) (protocol.SyncWant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := protocol.SyncWant{Room: room}
	r := f.rooms[room]
	if r == nil {
		return w, nil
	}
	for _, h := range r.Heads() {
		w.Heads = append(w.Heads, h.ID)
	}
	w.Chains = f.chains[room]
	return w, nil
}

func (f *fakeNode) Held(_ context.Context, ids []protocol.EventID, _ []protocol.Links) []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	held := make([]bool, len(ids))
	for i, id := range ids {
		_, held[i] = f.wires[id]
	}
	return held
}

func (f *fakeNode) Missing(ctx context.Context, peer protocol.NodeID, want protocol.SyncWant, until []protocol.EventID, emit func([]byte) error) error {
	room, have := want.Room, want.Heads
	f.mu.Lock()
	if f.askedBy == nil {
		f.askedBy = map[protocol.NodeID]int{}
	}
	f.askedBy[peer]++
	f.asked = append(f.asked, want)
	var out [][]byte
	if r := f.rooms[room]; r != nil {
		// Everything not an ancestor of have, in order; with until, only
		// until and its ancestors.
		known := ancestors(r, have)
		var allowed map[protocol.EventID]bool
		if until != nil {
			allowed = ancestors(r, until)
		}
		for _, e := range r.Events() {
			if !known[e.ID] && (allowed == nil || allowed[e.ID]) {
				out = append(out, f.wires[e.ID])
			}
		}
	}
	f.mu.Unlock()
	for _, b := range out {
		if err := emit(b); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// ancestors returns ids that r holds and all their ancestors.
func ancestors(r *protocol.Replica, ids []protocol.EventID) map[protocol.EventID]bool {
	known := map[protocol.EventID]bool{}
	queue := append([]protocol.EventID(nil), ids...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		e, _ := r.Event(id)
		if e == nil || known[id] {
			continue
		}
		known[id] = true
		queue = append(queue, e.Prev...)
	}
	return known
}

// acceptCalls returns how many times Accept was called.
// missingCalls returns how many times Missing served node peer.
func (f *fakeNode) missingCalls(peer protocol.NodeID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.askedBy[peer]
}

func (f *fakeNode) acceptCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepts
}

// count returns how many events of room the node accepted.
func (f *fakeNode) count(room protocol.RoomID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.rooms[room]; r != nil {
		return len(r.Events())
	}
	return 0
}

// bytes returns the size of the wire forms of the events f holds of room.
func (f *fakeNode) bytes(room protocol.RoomID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	if r := f.rooms[room]; r != nil {
		for _, e := range r.Events() {
			n += len(e.Wire())
		}
	}
	return n
}

func (f *fakeNode) heads(room protocol.RoomID) []protocol.Order {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rooms[room].Heads()
}

// keyOf returns a deterministic node key for name.
func keyOf(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("horenso p2p test " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func idOf(key ed25519.PrivateKey) protocol.NodeID {
	return protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
}

// newRoom signs the create of a group room by alice on key's node, with
// bob on each of others' nodes as members.
func newRoom(t testing.TB, key ed25519.PrivateKey, nonce byte, others ...protocol.NodeID) *protocol.Signed {
	t.Helper()
	rc := &protocol.RoomCreate{Kind: protocol.KindGroup, Nonce: []byte{nonce},
		Creator: protocol.MemberInfo{Account: protocol.NewAccountID(idOf(key), "alice"), Role: protocol.RoleAdmin}}
	for _, o := range others {
		rc.Members = append(rc.Members, protocol.MemberInfo{Account: protocol.NewAccountID(o, "bob"), Role: protocol.RoleMember})
	}
	e, err := protocol.Sign(key, protocol.Event{Author: "alice", Time: 1}, rc)
	if err != nil {
		t.Fatal(err)
	}
	chained(t, e)
	return e
}

// posts signs n message posts by author on key's node, each a child of the
// one before, the first following heads.
func posts(t testing.TB, key ed25519.PrivateKey, author protocol.Handle, room protocol.RoomID, heads []protocol.Order, n int) []*protocol.Signed {
	t.Helper()
	out := make([]*protocol.Signed, 0, n)
	for i := range n {
		e := signNext(t, key, author, room, heads, int64(i), &protocol.MessagePost{Body: fmt.Sprintf("message %d", i)})
		out = append(out, e)
		heads = []protocol.Order{e.Order()}
	}
	return out
}

// signNext signs c by author on key's node in room, following heads and,
// as the chain rule wants, the latest event the test signed on that node
// in the room (the create included; see chains).
func signNext(t testing.TB, key ed25519.PrivateKey, author protocol.Handle, room protocol.RoomID, heads []protocol.Order, at int64, c protocol.Content) *protocol.Signed {
	t.Helper()
	k := chainKey{t: t, room: room, origin: idOf(key)}
	chains.Lock()
	tip := chains.m[k]
	chains.Unlock()
	ev := protocol.ChainSuccessor(room, protocol.Version, heads, tip.last, tip.seq)
	ev.Author, ev.Time = author, at
	e, err := protocol.Sign(key, ev, c)
	if err != nil {
		t.Fatal(err)
	}
	chained(t, e)
	return e
}

// chains holds, per test, room and node, the latest event the test signed
// there, so that each node's events form a chain as room version 2 needs.
var chains = struct {
	sync.Mutex
	m map[chainKey]chainTip
}{m: map[chainKey]chainTip{}}

type chainKey struct {
	t      testing.TB
	room   protocol.RoomID
	origin protocol.NodeID
}

type chainTip struct {
	last protocol.Order
	seq  uint64
}

// chained records e as its node's latest in its room for test t.
func chained(t testing.TB, e *protocol.Signed) {
	chains.Lock()
	defer chains.Unlock()
	k := chainKey{t: t, room: e.RoomID(), origin: e.Origin}
	if e.Seq > chains.m[k].seq {
		chains.m[k] = chainTip{last: e.Order(), seq: e.Seq}
	}
}

// testHost is a Host running in a test, with its fake node.
type testHost struct {
	*Host
	name string
	key  ed25519.PrivateKey
	fake *fakeNode
	stop func() // stops Run and waits for it; idempotent
}

type hostOpt func(*Config)

// sharedRoom returns a room that alice on node "a" created with node "b"
// as a member node, and the fake nodes of a and b, which both hold its
// creation.
func sharedRoom(t *testing.T, nonce byte) (create *protocol.Signed, fa, fb *fakeNode) {
	t.Helper()
	ida, idb := idOf(keyOf("a")), idOf(keyOf("b"))
	create = newRoom(t, keyOf("a"), nonce, idb)
	fa, fb = newFakeNode(ida), newFakeNode(idb)
	for _, f := range []*fakeNode{fa, fb} {
		f.view(create.RoomID(), ida, idb)
		f.add(t, create)
	}
	return create, fa, fb
}

// settle waits until the sync rounds of a's and b's connection are over
// and a sees b's subscription to room, so that gossip alone carries what
// a publishes next.
func settle(t *testing.T, a, b *testHost, room protocol.RoomID) {
	t.Helper()
	waitFor(t, "connection sync rounds", func() bool { return a.Stats().SyncServed > 0 && b.Stats().SyncServed > 0 })
	waitFor(t, "a to see b's subscription", func() bool { _, ok := a.sees(room, b.self); return ok })
}

// startHost starts a host named name on 127.0.0.1, TCP and QUIC, port 0,
// on fake, and stops it at the end of the test.
func startHost(t *testing.T, name string, fake *fakeNode, opts ...hostOpt) *testHost {
	t.Helper()
	key := keyOf(name)
	if fake == nil {
		fake = newFakeNode(idOf(key))
	}
	cfg := Config{
		Identity:     key,
		Handler:      fake,
		Listen:       []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
		Logger:       testLogger(t, name),
		SyncInterval: time.Minute,
		RedialMin:    20 * time.Millisecond,
		RedialMax:    500 * time.Millisecond,
		SyncTimeout:  5 * time.Second,
		DialTimeout:  5 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	th := &testHost{Host: h, name: name, key: key, fake: fake}
	th.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: Run: %v", name, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("%s: Run did not return", name)
			}
		})
	}
	t.Cleanup(th.stop)
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not ready", name)
	}
	if len(h.Addrs()) == 0 {
		t.Fatalf("%s: Run failed to listen", name)
	}
	return th
}

// addr returns h's first address of transport ("tcp" or "quic-v1").
func (h *testHost) addr(t testing.TB, transport string) string {
	t.Helper()
	for _, a := range h.Addrs() {
		if strings.Contains(a, "/"+transport+"/") {
			return a
		}
	}
	t.Fatalf("%s has no %s address in %v", h.name, transport, h.Addrs())
	return ""
}

// pair makes a and b partners of each other over transport and waits
// until they are connected.
func pair(t *testing.T, a, b *testHost, transport string) {
	t.Helper()
	ctx := t.Context()
	// The first dial is refused: b does not know a yet.
	if _, err := a.AddPartner(ctx, b.addr(t, transport)); err != nil && !errors.Is(err, ErrUnreachable) {
		t.Fatal(err)
	}
	if _, err := b.AddPartner(ctx, a.addr(t, transport)); err != nil && !errors.Is(err, ErrUnreachable) {
		t.Fatal(err)
	}
	waitFor(t, "connected "+a.name+"-"+b.name, func() bool { return connected(a, b.ID()) && connected(b, a.ID()) })
}

func connected(h *testHost, id protocol.NodeID) bool {
	for _, p := range h.Partners() {
		if p.ID == id {
			return p.Connected
		}
	}
	return false
}

// waitFor polls cond until it holds, failing the test after 20s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 20*time.Second, what, cond)
}

// waitWithin polls cond until it holds, failing the test after d.
func waitWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger logs to t, tagged with name, and drops what comes after
// the test ended (libp2p's own goroutines may log while winding down).
func testLogger(t *testing.T, name string) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	level := slog.LevelInfo
	if os.Getenv("P2P_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("host", name)
}

type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}
