package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// transfer sends from→to what to lacks of room, the way a sync round does,
// and returns how many events went over.
func transfer(t *testing.T, from, to *Node, room protocol.RoomID) int {
	t.Helper()
	have := must[protocol.SyncWant](t)(handler{to}.Have(t.Context(), room))
	var wires [][]byte
	if err := (handler{from}).Missing(t.Context(), to.ID(), have, nil, func(w []byte) error {
		wires = append(wires, w)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, err := range acceptWires(t, to, from.ID(), room, wires) {
		if err != nil {
			t.Fatalf("event %d of %d refused: %v", i, len(wires), err)
		}
	}
	return len(wires)
}

// acceptWires hands to the wire-form events of room that partner from
// sent, the way the p2p host does: it decodes them and checks their room,
// and only the events that pass reach the handler's Accept. It returns
// one error per wire.
func acceptWires(t *testing.T, to *Node, from protocol.NodeID, room protocol.RoomID, wires [][]byte) []error {
	t.Helper()
	errs := make([]error, len(wires))
	var events []*protocol.Signed
	var at []int // index in wires of each of events
	for i, w := range wires {
		e, err := protocol.Decode(w)
		switch {
		case err != nil:
			errs[i] = err
		case e.RoomID() != room:
			errs[i] = fmt.Errorf("event of room %s sent as room %s", e.RoomID(), room)
		default:
			events = append(events, e)
			at = append(at, i)
		}
	}
	accepted := handler{to}.Accept(t.Context(), from, room, events)
	if len(accepted) != len(events) {
		t.Fatalf("Accept returned %d results for %d events", len(accepted), len(events))
	}
	for j, err := range accepted {
		errs[at[j]] = err
	}
	return errs
}

// roomState is what two nodes must agree on about a room.
func roomState(t *testing.T, n *Node, as protocol.Handle, room protocol.RoomID) string {
	t.Helper()
	r := must[*Room](t)(n.Room(t.Context(), as, room))
	s := fmt.Sprintf("room %s %q members", r.Kind, r.Name)
	var members []string
	for _, m := range r.Members {
		members = append(members, fmt.Sprintf(" %s:%s", m.Account, m.Role))
	}
	slices.Sort(members)
	s += fmt.Sprint(members)
	for _, m := range must[[]*Message](t)(n.Messages(t.Context(), as, room, Page{Limit: MaxPage})) {
		s += fmt.Sprintf("\n%s %s %q %d %v", m.ID, m.Author, m.Body, m.EditedAt, m.Deleted)
	}
	for _, tk := range must[[]*Task](t)(n.Tasks(t.Context(), as, room, TaskFilter{})) {
		s += fmt.Sprintf("\ntask %s %q %s %v", tk.ID, tk.Body, tk.Status, tk.Assignees)
	}
	return s
}

// jointRoom returns two nodes, alice's a and bob's b, and a room alice
// made on a with bob as a member, which b does not hold yet.
func jointRoom(t *testing.T) (a, b *Node, room *Room) {
	t.Helper()
	ctx := t.Context()
	a, b = newTestNode(t, t.TempDir()), newTestNode(t, t.TempDir())
	must[*Account](t)(a.CreateAccount(ctx, NewAccount{Handle: "alice", Name: "Alice"}))
	must[*Account](t)(b.CreateAccount(ctx, NewAccount{Handle: "bob", Name: "Bob"}))
	bob := protocol.NewAccountID(b.ID(), "bob")
	room = must[*Room](t)(a.CreateRoom(ctx, "alice", NewRoom{Name: "Joint", Members: []MemberSpec{{Account: bob}}}))
	return a, b, room
}

func TestSyncBetweenNodes(t *testing.T) {
	ctx := t.Context()
	a, b, room := jointRoom(t)
	bob := protocol.NewAccountID(b.ID(), "bob")
	if !(handler{a}).Shares(b.ID(), room.ID) || (handler{a}).Shares("12D3KooWother", room.ID) {
		t.Fatal("Shares does not follow membership")
	}
	for i := range 300 {
		must[*Message](t)(a.Post(ctx, "alice", room.ID, fmt.Sprint("m", i)))
	}
	if n := transfer(t, a, b, room.ID); n != 301 {
		t.Fatalf("first sync sent %d events, want 301", n)
	}
	// b holds them all, whether asked for a run of a chain (read off the
	// chain index) or for events far apart on it (looked up by ID).
	var ids []protocol.EventID
	var links []protocol.Links
	if err := (handler{a}).Missing(ctx, b.ID(), protocol.SyncWant{Room: room.ID}, nil, func(w []byte) error {
		id, l, _, err := protocol.PeekLinks(w)
		ids, links = append(ids, id), append(links, l)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, at := range [][]int{{100, 101, 102, 103}, {0, 150, 300}} {
		var some []protocol.EventID
		var their []protocol.Links
		for _, i := range at {
			some, their = append(some, ids[i]), append(their, links[i])
		}
		if held := (handler{b}).Held(ctx, some, their); slices.Contains(held, false) {
			t.Errorf("b holds events %v of a's: %v", at, held)
		}
	}
	if got := must[map[protocol.RoomID][]protocol.NodeID](t)(handler{b}.Rooms(ctx)); !slices.Contains(got[room.ID], b.ID()) {
		t.Fatalf("b does not host the room it was added to: %v", got)
	}
	// Concurrent work on both sides, then a sync each way.
	m := must[*Message](t)(b.Post(ctx, "bob", room.ID, "reply from b"))
	must[*Message](t)(a.Post(ctx, "alice", room.ID, "meanwhile on a"))
	task := must[*Task](t)(a.CreateTask(ctx, "alice", room.ID, NewTask{Body: "sign", Assignees: []protocol.AccountID{bob}}))
	if n := transfer(t, b, a, room.ID); n != 1 {
		t.Fatalf("b→a sent %d events, want 1", n)
	}
	if n := transfer(t, a, b, room.ID); n != 2 {
		t.Fatalf("a→b sent %d events, want 2", n)
	}
	done := protocol.TaskDone
	must[*Task](t)(b.UpdateTask(ctx, "bob", task.ID, TaskChange{Status: &done}))
	if err := b.EditMessage(ctx, "bob", m.ID, "edited on b"); err != nil {
		t.Fatal(err)
	}
	transfer(t, b, a, room.ID)
	if n := transfer(t, a, b, room.ID); n != 0 {
		t.Fatalf("in-sync nodes exchanged %d events", n)
	}
	if sa, sb := roomState(t, a, "alice", room.ID), roomState(t, b, "bob", room.ID); sa != sb {
		t.Fatalf("states differ:\n--- a\n%s\n--- b\n%s", sa, sb)
	}
	// Removing b's last member stops a sharing the room with b.
	if err := a.RemoveMember(ctx, "alice", room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if (handler{a}).Shares(b.ID(), room.ID) {
		t.Fatal("a still shares the room with b after bob's removal")
	}
}

func TestAcceptRefusesBadEvents(t *testing.T) {
	ctx := t.Context()
	a, b, room := jointRoom(t)
	bob := protocol.NewAccountID(b.ID(), "bob")
	other := must[*Room](t)(a.CreateRoom(ctx, "alice", NewRoom{Name: "Other", Members: []MemberSpec{{Account: bob}}}))
	must[*Message](t)(a.Post(ctx, "alice", room.ID, "hello"))
	var wires [][]byte
	handler{a}.Missing(ctx, a.ID(), protocol.SyncWant{Room: room.ID}, nil, func(w []byte) error { wires = append(wires, w); return nil })
	var otherWires [][]byte
	handler{a}.Missing(ctx, a.ID(), protocol.SyncWant{Room: other.ID}, nil, func(w []byte) error { otherWires = append(otherWires, w); return nil })

	forged := slices.Clone(wires[1])
	forged[len(forged)-1] ^= 1
	batch := [][]byte{
		wires[1],      // parents unknown yet
		wires[0],      // the create
		forged,        // bad signature
		otherWires[0], // another room's event
		{0xff, 0x00},  // garbage
		wires[1],      // now its parent is in
		wires[1],      // a replay
	}
	errs := acceptWires(t, b, a.ID(), room.ID, batch)
	var missing *protocol.MissingError
	if !errors.As(errs[0], &missing) {
		t.Errorf("event before its parent: %v, want a MissingError", errs[0])
	}
	for i, want := range []bool{1: true, 5: true, 6: true} {
		if ok := errs[i] == nil; ok != want && i > 0 {
			t.Errorf("event %d: err %v, want accepted %v", i, errs[i], want)
		}
	}
	for _, i := range []int{2, 3, 4} {
		if errs[i] == nil {
			t.Errorf("bad event %d accepted", i)
		}
	}
	if !errors.Is(errs[2], protocol.ErrBadSignature) {
		t.Errorf("forged event: %v, want ErrBadSignature", errs[2])
	}
	got := must[[]*Message](t)(b.Messages(ctx, "bob", room.ID, Page{}))
	if len(got) != 1 || got[0].Body != "hello" {
		t.Fatalf("b holds %v, want just hello", got)
	}
	if _, err := b.Room(ctx, "bob", other.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the other room's event was stored: %v", err)
	}
}

// TestTaskOrderSameOnEveryNode: alice on a and bob on b create a task each
// before syncing. Each node met its own task first, so it numbered it
// first, but both list the room's tasks in the same order: that of their
// task.create. (Found by nodetest's TestProperty: tasks were listed by
// their local alias, in arrival order.)
func TestTaskOrderSameOnEveryNode(t *testing.T) {
	ctx := t.Context()
	a, b, room := jointRoom(t)
	alice, bob := protocol.NewAccountID(a.ID(), "alice"), protocol.NewAccountID(b.ID(), "bob")
	transfer(t, a, b, room.ID)
	must[*Task](t)(a.CreateTask(ctx, "alice", room.ID, NewTask{Body: "from a", Assignees: []protocol.AccountID{bob}}))
	must[*Task](t)(b.CreateTask(ctx, "bob", room.ID, NewTask{Body: "from b", Assignees: []protocol.AccountID{alice}}))
	transfer(t, a, b, room.ID)
	transfer(t, b, a, room.ID)
	order := func(n *Node, as protocol.Handle) []string {
		var out []string
		for _, tk := range must[[]*Task](t)(n.Tasks(ctx, as, room.ID, TaskFilter{})) {
			out = append(out, tk.Body)
		}
		return out
	}
	if onA, onB := order(a, "alice"), order(b, "bob"); !slices.Equal(onA, onB) || len(onA) != 2 {
		t.Fatalf("a lists tasks %q, b lists %q", onA, onB)
	}
}

// TestMissingStreams: Missing hands events over as it reads them, in the
// same order whether the requester holds nothing (read by depth) or some
// of the room (walked), and stops when emit fails or its context ends,
// having read at most a chunk more.
func TestMissingStreams(t *testing.T) {
	ctx := t.Context()
	a := newTestNode(t, t.TempDir())
	must[*Account](t)(a.CreateAccount(ctx, NewAccount{Handle: "alice", Name: "Alice"}))
	room := must[*Room](t)(a.CreateRoom(ctx, "alice", NewRoom{Name: "Big"}))
	body := strings.Repeat("x", 4000)
	for i := range 300 { // about 1.2 MB: several chunks
		must[*Message](t)(a.Post(ctx, "alice", room.ID, fmt.Sprint(i, body)))
	}
	collect := func(have []protocol.EventID) [][]byte {
		var wires [][]byte
		if err := (handler{a}).Missing(ctx, a.ID(), protocol.SyncWant{Room: room.ID, Heads: have}, nil, func(w []byte) error {
			wires = append(wires, slices.Clone(w))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return wires
	}
	whole := collect(nil)
	if len(whole) != 301 {
		t.Fatalf("whole room: %d events, want 301", len(whole))
	}
	create := must[*protocol.Signed](t)(protocol.Decode(whole[0]))
	if create.Type != protocol.TypeRoomCreate {
		t.Fatalf("first event is a %s", create.Type)
	}
	if walked := collect([]protocol.EventID{create.ID}); !slices.EqualFunc(walked, whole[1:], bytes.Equal) {
		t.Fatalf("walked %d events, want the %d after the create in the same order", len(walked), len(whole)-1)
	}
	if unknown := collect([]protocol.EventID{{1, 2, 3}}); len(unknown) != len(whole) {
		t.Fatalf("with unknown heads: %d events, want the whole room", len(unknown))
	}

	stop := errors.New("reader gone")
	for _, have := range [][]protocol.EventID{nil, {create.ID}} {
		calls := 0
		err := (handler{a}).Missing(ctx, a.ID(), protocol.SyncWant{Room: room.ID, Heads: have}, nil, func([]byte) error {
			calls++
			if calls == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 10 {
			t.Errorf("have %v: Missing = %v after %d calls of emit; want emit's error after 10", have, err, calls)
		}
		cctx, cancel := context.WithCancel(ctx)
		calls = 0
		err = (handler{a}).Missing(cctx, a.ID(), protocol.SyncWant{Room: room.ID, Heads: have}, nil, func([]byte) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls > missingChunkBytes/4000+1 {
			t.Errorf("have %v: Missing = %v after %d calls of emit; want context.Canceled within a chunk", have, err, calls)
		}
	}
}

// TestTipCacheFollowsCommits: after a post the node remembers the room's
// tip as the store holds it, so that its next post signs early without a
// store read; a partner's event forgets it, and a post after that names
// the partner's event among its parents.
func TestTipCacheFollowsCommits(t *testing.T) {
	ctx := t.Context()
	a, b, room := jointRoom(t)
	transfer(t, a, b, room.ID)

	stored := func(n *Node) tip {
		var got tip
		if err := n.store.View(func(tx *storage.Tx) error {
			var err error
			got, err = roomTip(tx, room.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	must[*Message](t)(a.Post(ctx, "alice", room.ID, "one"))
	if cached, ok := a.tips.Get(room.ID); !ok || !cached.same(stored(a)) {
		t.Fatalf("after a post: cached tip %+v (%v), store's %+v", cached, ok, stored(a))
	}

	reply := must[*Message](t)(b.Post(ctx, "bob", room.ID, "two"))
	transfer(t, b, a, room.ID)
	if cached, ok := a.tips.Get(room.ID); ok {
		t.Fatalf("a partner's event left the tip %+v cached", cached)
	}
	m := must[*Message](t)(a.Post(ctx, "alice", room.ID, "three"))
	var e *protocol.Signed
	if err := a.store.View(func(tx *storage.Tx) error {
		var err error
		e, err = tx.Event(m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(e.Prev, reply.ID) {
		t.Errorf("post after the partner's reply has parents %v, want the reply %s among them", e.Prev, reply.ID)
	}
	if cached, ok := a.tips.Get(room.ID); !ok || !cached.same(stored(a)) {
		t.Errorf("after the next post: cached tip %+v (%v), store's %+v", cached, ok, stored(a))
	}
}
