package node

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// memberAdds returns the room's member.add events, in the order the
// store holds them, and the room's event count.
func memberAdds(t *testing.T, n *Node, room protocol.RoomID) (adds []*protocol.MemberAdd, events uint64) {
	t.Helper()
	err := n.store.View(func(tx *storage.Tx) error {
		r, err := tx.Room(room)
		if err != nil {
			return err
		}
		events = r.Events
		s, err := txLog{tx: tx, cache: &n.snapshots}.snapshot(r.Control)
		if err != nil {
			return err
		}
		for id := range s.History.All() {
			e, err := tx.Event(id)
			if err != nil {
				return err
			}
			if a, ok := e.Content.(*protocol.MemberAdd); ok {
				adds = append(adds, a)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return adds, events
}

// TestAddMembersInOneEvent adds hundreds of accounts to a room at once:
// one member.add per MaxListSize of them, and then every one is a member
// with its role, in the membership index, counts unread and mentions from
// its arrival exactly, and sees one notice per event naming it.
func TestAddMembersInOneEvent(t *testing.T) {
	size := 2*protocol.MaxListSize + 40 // three events
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	handles := make([]protocol.Handle, size)
	ids := make([]protocol.AccountID, size)
	for i := range handles {
		handles[i] = protocol.Handle(fmt.Sprintf("m%04d", i))
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: handles[i], Name: fmt.Sprint("Member ", i)}))
		ids[i] = protocol.NewAccountID(n.ID(), handles[i])
	}
	room := must[*Room](t)(n.CreateRoom(ctx, handles[0], NewRoom{Name: "All hands", Members: []MemberSpec{{Account: ids[1]}}}))
	must[*Message](t)(n.Post(ctx, handles[1], room.ID, "before anyone joined"))
	_, before := memberAdds(t, n, room.ID)

	specs := make([]MemberSpec, 0, size-2)
	for i := 2; i < size; i++ {
		role := protocol.RoleMember
		switch i % 7 {
		case 0:
			role = protocol.RoleReadonly
		case 1:
			role = protocol.RoleAdmin
		}
		specs = append(specs, MemberSpec{Account: ids[i], Role: role})
	}
	if err := n.AddMembers(ctx, handles[0], room.ID, specs); err != nil {
		t.Fatal(err)
	}
	adds, after := memberAdds(t, n, room.ID)
	if len(adds) != 3 || after-before != 3 {
		t.Fatalf("%d member.add events (%d events in all), want 3", len(adds), after-before)
	}
	var sizes []int
	for _, a := range adds {
		sizes = append(sizes, len(a.All()))
	}
	slices.Sort(sizes)
	if want := []int{size - 2 - 2*protocol.MaxListSize, protocol.MaxListSize, protocol.MaxListSize}; !slices.Equal(sizes, want) {
		t.Fatalf("the additions list %v accounts, want %v", sizes, want)
	}

	r := must[*Room](t)(n.Room(ctx, handles[0], room.ID))
	if len(r.Members) != size {
		t.Fatalf("%d members, want %d", len(r.Members), size)
	}
	err := n.store.View(func(tx *storage.Tx) error {
		for _, s := range specs {
			role, ok, err := tx.IsMember(s.Account, room.ID)
			if err != nil {
				return err
			}
			if !ok || role != s.Role {
				return fmt.Errorf("membership index: %s is %v/%q, want %q", s.Account, ok, role, s.Role)
			}
			ms, err := tx.RoomsOf(s.Account)
			if err != nil {
				return err
			}
			if !slices.Contains(ms, storage.Membership{Room: room.ID, Role: s.Role}) {
				return fmt.Errorf("membership index: rooms of %s are %v", s.Account, ms)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Counts start at the arrival: the post before does not count; a
	// [toall] and a [To:] after do.
	must[*Message](t)(n.Post(ctx, handles[1], room.ID, "[toall] welcome"))
	must[*Message](t)(n.Post(ctx, handles[1], room.ID, fmt.Sprintf("[To:%s] and you", ids[size-1])))
	for _, i := range []int{2, 3, protocol.MaxListSize, protocol.MaxListSize + 2, size - 2, size - 1} {
		rs := must[[]*Room](t)(n.Rooms(ctx, handles[i]))
		k := slices.IndexFunc(rs, func(x *Room) bool { return x.ID == room.ID })
		if k < 0 {
			t.Fatalf("%s does not see the room", handles[i])
		}
		wantMentions := uint64(1)
		if i == size-1 {
			wantMentions = 2
		}
		if rs[k].Unread != 2 || rs[k].Mentions != wantMentions {
			t.Fatalf("%s: unread/mentions %d/%d, want 2/%d", handles[i], rs[k].Unread, rs[k].Mentions, wantMentions)
		}
	}
	// An admin added in the list acts as one.
	admin := handles[8]
	if err := n.SetRole(ctx, admin, room.ID, ids[9], protocol.RoleReadonly); err != nil {
		t.Fatalf("%s, added as admin, demotes a member: %v", admin, err)
	}

	// The notice of an addition names every account it added.
	msgs := must[[]*Message](t)(n.Messages(ctx, handles[0], room.ID, Page{Limit: MaxPage}))
	var notices []string
	for _, m := range msgs {
		if m.Notice == NoticeMemberAdded {
			notices = append(notices, m.Body)
		}
	}
	if len(notices) != 3 {
		t.Fatalf("%d notices of additions, want 3", len(notices))
	}
	for i, a := range adds {
		if !slices.ContainsFunc(notices, func(body string) bool {
			for _, m := range a.All() {
				if !strings.Contains(body, "[piconname:"+string(m.Account)+"]") {
					return false
				}
			}
			return strings.Count(body, "[piconname:") == len(a.All())
		}) {
			t.Fatalf("no notice names exactly the %d accounts of addition %d", len(a.All()), i)
		}
	}
}

func TestAddMembersRefusedAsAWhole(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	size := protocol.MaxListSize + 30
	handles := make([]protocol.Handle, size)
	ids := make([]protocol.AccountID, size)
	specs := make([]MemberSpec, 0, size)
	for i := range handles {
		handles[i] = protocol.Handle(fmt.Sprintf("u%04d", i))
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: handles[i]}))
		ids[i] = protocol.NewAccountID(n.ID(), handles[i])
		if i > 0 {
			specs = append(specs, MemberSpec{Account: ids[i]})
		}
	}
	big := must[*Room](t)(n.CreateRoom(ctx, handles[0], NewRoom{Name: "Big", Members: specs}))
	if len(big.Members) != size {
		t.Fatalf("a room created with %d members has %d", size, len(big.Members))
	}
	if adds, events := memberAdds(t, n, big.ID); len(adds) != 1 || events != 2 {
		t.Fatalf("creating a room of %d: %d member.add events, %d events, want 1 and 2", size, len(adds), events)
	}

	room := must[*Room](t)(n.CreateRoom(ctx, handles[0], NewRoom{Name: "Small", Members: []MemberSpec{{Account: ids[1]}}}))
	err := n.AddMembers(ctx, handles[0], room.ID, []MemberSpec{{Account: ids[2]}, {Account: ids[1]}, {Account: ids[3]}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("adding a member again among others: %v, want ErrConflict", err)
	}
	err = n.AddMembers(ctx, handles[0], room.ID, []MemberSpec{{Account: ids[2]}, {Account: ids[3]}, {Account: ids[2]}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("an account listed twice: %v, want ErrInvalid", err)
	}
	err = n.AddMembers(ctx, handles[1], room.ID, []MemberSpec{{Account: ids[2]}, {Account: ids[3]}})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member who is no admin adds: %v, want ErrForbidden", err)
	}
	if r := must[*Room](t)(n.Room(ctx, handles[0], room.ID)); len(r.Members) != 2 {
		t.Fatalf("refused additions left %d members, want 2", len(r.Members))
	}
}

// TestMembershipIndexFollowsControl makes random membership changes in a
// room, additions of several among them, and after each checks that the
// membership index (what the node derives from a change, looking only at
// the entries an event names when it is applied in sequence) is exactly
// the room's control state: every member with its role, nobody else; and
// again after a restart, which reads the snapshots back from their deltas.
func TestMembershipIndexFollowsControl(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	const size = 40
	ids := make([]protocol.AccountID, size)
	handles := make([]protocol.Handle, size)
	for i := range ids {
		handles[i] = protocol.Handle(fmt.Sprintf("a%02d", i))
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: handles[i]}))
		ids[i] = protocol.NewAccountID(n.ID(), handles[i])
	}
	room := must[*Room](t)(n.CreateRoom(ctx, handles[0], NewRoom{Name: "Churn"}))
	check := func(n *Node, step string) {
		t.Helper()
		c := func() *protocol.Control {
			var c *protocol.Control
			if err := n.store.View(func(tx *storage.Tx) error {
				var err error
				c, err = n.control(tx, room.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return c
		}()
		err := n.store.View(func(tx *storage.Tx) error {
			for _, a := range ids {
				role, ok, err := tx.IsMember(a, room.ID)
				if err != nil {
					return err
				}
				m, want := c.Members.Get(a)
				if ok != want || ok && role != m.Role {
					return fmt.Errorf("%s: index says %v/%q, control state %v/%q", a, ok, role, want, m.Role)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	roles := []protocol.Role{protocol.RoleAdmin, protocol.RoleMember, protocol.RoleReadonly}
	rnd := rand.New(rand.NewPCG(16, 1))
	for step := range 150 {
		r := must[*Room](t)(n.Room(ctx, handles[0], room.ID))
		in := map[protocol.AccountID]bool{}
		for _, m := range r.Members {
			in[m.Account] = true
		}
		var err error
		switch k := rnd.IntN(4); {
		case k == 0: // an addition of several (or of one)
			var specs []MemberSpec
			for _, i := range rnd.Perm(size)[:1+rnd.IntN(6)] {
				if !in[ids[i]] {
					specs = append(specs, MemberSpec{Account: ids[i], Role: roles[rnd.IntN(3)]})
				}
			}
			err = n.AddMembers(ctx, handles[0], room.ID, specs)
		case k == 1 && len(r.Members) > 1:
			m := r.Members[1+rnd.IntN(len(r.Members)-1)]
			err = n.SetRole(ctx, handles[0], room.ID, m.Account, roles[rnd.IntN(3)])
		case k == 2 && len(r.Members) > 1:
			m := r.Members[1+rnd.IntN(len(r.Members)-1)]
			err = n.RemoveMember(ctx, handles[0], room.ID, m.Account)
		case len(r.Members) > 1:
			m := r.Members[1+rnd.IntN(len(r.Members)-1)]
			if m.Account.Node() == n.ID() && m.Account != ids[0] {
				err = n.LeaveRoom(ctx, m.Account.Handle(), room.ID)
				if errors.Is(err, ErrForbidden) {
					err = nil // the last admin but the creator: not its to leave
				}
			}
		}
		if err != nil && !errors.Is(err, ErrConflict) {
			t.Fatalf("step %d: %v", step, err)
		}
		check(n, fmt.Sprint("step ", step))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	check(newTestNode(t, dir), "after a restart")
}
