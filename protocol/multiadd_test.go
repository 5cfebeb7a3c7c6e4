package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// many returns a member.add of the accounts hs, each with role r.
func many(r Role, hs ...Handle) *MemberAdd {
	a := &MemberAdd{Member: MemberInfo{Account: acct(hs[0]), Role: r}}
	for _, h := range hs[1:] {
		a.More = append(a.More, MemberInfo{Account: acct(h), Role: r})
	}
	return a
}

// TestMemberAddOfOneEncodesAsBefore checks that an addition of one, More
// empty, is the payload builds before More made: the same bytes, so its
// event ID and every older node's verdict are unchanged.
func TestMemberAddOfOneEncodesAsBefore(t *testing.T) {
	type oldMemberAdd struct {
		Member MemberInfo `cbor:"1,keyasint"`
	}
	info := MemberInfo{Account: acct("dave"), Role: RoleMember, Name: "Dave"}
	if got, want := enc(t, &MemberAdd{Member: info}), enc(t, &oldMemberAdd{Member: info}); !bytes.Equal(got, want) {
		t.Fatalf("member.add of one encodes as %x, before %x", got, want)
	}
	if got := (&MemberAdd{Member: info}).All(); len(got) != 1 || got[0] != info {
		t.Fatalf("All() = %v", got)
	}
}

// TestMemberAddOfMany checks an addition of several in one event: each
// account gets its role, the admins among them the event's order as their
// seniority key (as a create's listed admins share the create's), and the
// state is what resolving the history from scratch gives.
func TestMemberAddOfMany(t *testing.T) {
	for _, v := range []uint16{1, 2, Version} {
		t.Run(fmt.Sprint("version ", v), func(t *testing.T) {
			rr := newVersionRoom(t, v, KindGroup, 0)
			add := &MemberAdd{Member: MemberInfo{Account: acct("dave"), Role: RoleAdmin, Name: "Dave"},
				More: []MemberInfo{{Account: acct("erin"), Role: RoleMember}, {Account: acct("frank"), Role: RoleReadonly}, {Account: acct("gina"), Role: RoleAdmin}}}
			e := rr.must("alice", add)
			st := rr.control()
			want := roles{"alice": RoleAdmin, "bob": RoleMember, "carol": RoleReadonly,
				"dave": RoleAdmin, "erin": RoleMember, "frank": RoleReadonly, "gina": RoleAdmin}
			if got := rolesOf(st); !maps.Equal(got, want) {
				t.Fatalf("members %v, want %v", got, want)
			}
			if entryOf(st.Members, acct("dave")).Name != "Dave" {
				t.Fatalf("dave's entry %+v lost its name", entryOf(st.Members, acct("dave")))
			}
			for _, h := range []Handle{"dave", "gina"} {
				since := entryOf(st.Members, acct(h)).Since
				switch {
				case v == 1 && since != nil:
					t.Fatalf("%s has a seniority key in a version 1 room", h)
				case v > 1 && (since == nil || *since != e.Order()):
					t.Fatalf("%s's seniority key %v, want the add's order %v", h, since, e.Order())
				}
			}
			if got := resolveAll(t, rr.r); !bytes.Equal(enc(t, got.State), enc(t, st)) {
				t.Fatalf("resolving the history gives %+v, the replica %+v", got.State, st)
			}
			// Every added account acts as a member: an admin added in the
			// list adds in its turn.
			rr.must("gina", many(RoleMember, "hana", "ivan"))
			rr.must("erin", &MessagePost{Body: "hi"})
		})
	}
}

// TestMemberAddOfManyRules checks that the room rules judge every listed
// account as a member.add of its own would be, and refuse the whole event
// if any would be refused: nobody of the list is added.
func TestMemberAddOfManyRules(t *testing.T) {
	for _, c := range []struct {
		name  string
		kind  RoomKind
		setup func(rr *ruleRoom)
		by    Handle
		add   *MemberAdd
		want  error
	}{
		{"an admin adds several", KindGroup, nil, "alice", many(RoleMember, "dave", "erin", "frank"), nil},
		{"a member is not an admin", KindGroup, nil, "bob", many(RoleMember, "dave", "erin"), ErrNotAdmin},
		{"a readonly member is not an admin", KindGroup, nil, "carol", many(RoleMember, "dave", "erin"), ErrNotAdmin},
		{"one listed is a member already", KindGroup, nil, "alice", many(RoleMember, "dave", "bob", "erin"), ErrAlreadyMember},
		{"the first listed is a member already", KindGroup, nil, "alice", many(RoleMember, "carol", "dave"), ErrAlreadyMember},
		{"the author lists itself", KindGroup, nil, "alice", many(RoleAdmin, "dave", "alice"), ErrAlreadyMember},
		{"a direct chat's members are fixed", KindDirect, nil, "alice", many(RoleMember, "dave", "erin"), ErrRoomKind},
		{"a removed admin adds no one", KindGroup, func(rr *ruleRoom) {
			rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
			rr.must("alice", &MemberRemove{Account: acct("bob")})
		}, "bob", many(RoleMember, "dave", "erin"), ErrNotMember},
		{"a demoted admin adds no one", KindGroup, func(rr *ruleRoom) {
			rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
			rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleMember})
		}, "bob", many(RoleMember, "dave", "erin"), ErrNotAdmin},
		{"a removed account may be added back in a list", KindGroup, func(rr *ruleRoom) {
			rr.must("alice", &MemberRemove{Account: acct("carol")})
		}, "alice", many(RoleMember, "dave", "carol"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := newVersionRoom(t, Version, c.kind, 0)
			if c.setup != nil {
				c.setup(rr)
			}
			before := rolesOf(rr.control())
			err := rr.try(c.by, c.add)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			after := rolesOf(rr.control())
			if c.want != nil {
				if !maps.Equal(before, after) {
					t.Fatalf("a refused add changed the members: %v, before %v", after, before)
				}
				return
			}
			for _, m := range c.add.All() {
				if r := after[m.Account.Handle()]; r != m.Role {
					t.Fatalf("%s has role %q, want %q", m.Account.Handle(), r, m.Role)
				}
			}
		})
	}
}

// TestMemberAddOfManyIsMalformedOverTheBound checks the validation Sign
// and Decode share: at most MaxListSize accounts, none twice.
func TestMemberAddOfManyIsMalformedOverTheBound(t *testing.T) {
	hs := make([]Handle, MaxListSize+1)
	for i := range hs {
		hs[i] = Handle(fmt.Sprintf("m%d", i))
	}
	rr := newVersionRoom(t, Version, KindGroup, 0)
	for _, c := range []struct {
		name string
		add  *MemberAdd
		ok   bool
	}{
		{"at the bound", many(RoleMember, hs[:MaxListSize]...), true},
		{"over the bound", many(RoleMember, hs...), false},
		{"one listed twice", many(RoleMember, "dave", "erin", "dave"), false},
		{"the first listed again", many(RoleMember, "dave", "erin", "frank", "dave"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := Successor(rr.create.RoomID(), Version, rr.r.Heads())
			e.Author, e.Seq = "alice", 99
			_, err := Sign(fixedKey, e, c.add)
			if (err == nil) != c.ok {
				t.Fatalf("sign: %v, want ok %v", err, c.ok)
			}
		})
	}
}

// TestMemberAddOfManyRevoked covers the authority rules of issue 13 for an
// addition of several: one signed by an admin whose removal or demotion is
// concurrent with it is void (nobody it lists joins, and an admin it lists
// has no rights), in every delivery order; and two concurrent additions
// that share an account resolve as two additions of one would: the later
// by order finds the account there and, refused as a whole, adds no one.
func TestMemberAddOfManyRevoked(t *testing.T) {
	t.Run("backdated by a demoted admin", func(t *testing.T) {
		rr := newVersionRoom(t, Version, KindGroup, 0)
		promoted := rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
		rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleMember})
		rr.must("alice", &MessagePost{Body: "after"})
		// Bob's node answers on his promotion, from before the demotion:
		// valid where it was made, so accepted, but void.
		add := &MemberAdd{Member: MemberInfo{Account: acct("mallory"), Role: RoleAdmin},
			More: []MemberInfo{{Account: acct("dave"), Role: RoleMember}, {Account: acct("erin"), Role: RoleMember}}}
		backdated := rr.event(fixedKey, "bob", add, promoted)
		rename := rr.event(fixedKey, "mallory", &RoomUpdate{Name: new("mallory's")}, backdated)
		hostile := []*Signed{backdated, rename}
		for _, e := range hostile {
			if err := rr.r.Add(e); err != nil {
				t.Fatalf("%s by %s: %v, want accepted (allowed where it was made)", e.Type, e.Author, err)
			}
		}
		base := slices.DeleteFunc(rr.r.Events(), func(e *Signed) bool { return slices.Contains(hostile, e) })
		st := replayAll(t, rr.create.RoomID(), deliveries(base, hostile, 10))
		want := roles{"alice": RoleAdmin, "bob": RoleMember, "carol": RoleReadonly}
		if got := rolesOf(st.Control); !maps.Equal(got, want) || st.Control.Name != "" {
			t.Fatalf("members %v, name %q; want %v and no name", got, st.Control.Name, want)
		}
	})
	t.Run("two concurrent additions share an account", func(t *testing.T) {
		for _, xFirst := range []bool{true, false} {
			rr := newVersionRoom(t, Version, KindGroup, 0)
			rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
			x, y := concurrently(rr, xFirst, "alice", many(RoleMember, "dave", "erin"), "bob", many(RoleReadonly, "erin", "frank"))
			st := replayAll(t, rr.create.RoomID(), deliveries(rr.r.Events(), []*Signed{x, y}, 5))
			got := rolesOf(st.Control)
			if xFirst {
				if got["dave"] != RoleMember || got["erin"] != RoleMember || got["frank"] != "" {
					t.Fatalf("alice's add first: %v, want dave and erin members, no frank", got)
				}
			} else if got["frank"] != RoleReadonly || got["erin"] != RoleReadonly || got["dave"] != "" {
				t.Fatalf("bob's add first: %v, want erin and frank readonly, no dave", got)
			}
		}
	})
}

// entryOf returns a's entry in ms, or the zero entry if a is no member.
func entryOf(ms Members, a AccountID) Member {
	m, _ := ms.Get(a)
	return m
}
