package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// roles is a wanted membership: a missing handle is no member.
type roles map[Handle]Role

func rolesOf(c *Control) roles {
	got := roles{}
	for a, m := range c.Members.All() {
		got[a.Handle()] = m.Role
	}
	return got
}

// eraseScenario is issue 13's breakage in a room of version v: alice, the
// creator, promotes bob, adds dave, removes carol, renames the room,
// demotes bob, posts 50 messages and adds erin as admin. It returns the
// room and bob's promotion, the parent bob's node backdates onto.
func eraseScenario(t *testing.T, v uint16) (*ruleRoom, *Signed) {
	t.Helper()
	rr := newVersionRoom(t, v, KindGroup, 0)
	promoted := rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleAdmin})
	rr.must("alice", &MemberAdd{Member: MemberInfo{Account: acct("dave"), Role: RoleMember}})
	rr.must("alice", &MemberRemove{Account: acct("carol")})
	rr.must("alice", &RoomUpdate{Name: new("alice's")})
	rr.must("alice", &MemberRole{Account: acct("bob"), Role: RoleMember})
	for i := range 50 {
		rr.must("alice", &MessagePost{Body: fmt.Sprint("post ", i)})
	}
	rr.must("alice", &MemberAdd{Member: MemberInfo{Account: acct("erin"), Role: RoleAdmin}})
	return rr, promoted
}

// deliveries returns orders in which to hand base and extra to a fresh
// replica: base then every order of extra, extra first, and shuffles of
// everything (replicas park what arrives before its parents).
func deliveries(base, extra []*Signed, shuffles int) [][]*Signed {
	var out [][]*Signed
	for _, p := range permutations(extra) {
		out = append(out, slices.Concat(base, p))
	}
	out = append(out, slices.Concat(extra, base))
	rng := rand.New(rand.NewPCG(13, 1))
	for range shuffles {
		all := slices.Concat(base, extra)
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		out = append(out, all)
	}
	return out
}

// replayAll hands each order of events to a fresh replica of room, which
// may refuse events by the rules, and checks that every replica ends in the
// same state; it returns that state.
func replayAll(t *testing.T, room RoomID, orders [][]*Signed) *RoomState {
	t.Helper()
	var first *RoomState
	for i, order := range orders {
		r := NewReplica(room)
		for _, e := range order {
			if err := r.Add(e); err != nil && !errors.Is(err, ErrParked) && !errors.Is(err, ErrRule) {
				t.Fatalf("order %d: add %s by %s: %v", i, e.Type, e.Author, err)
			}
		}
		if r.Parked() != 0 {
			t.Fatalf("order %d: %d events parked", i, r.Parked())
		}
		st, err := r.State()
		if err != nil {
			t.Fatal(err)
		}
		if got := resolveAll(t, r); !bytes.Equal(enc(t, got.State), enc(t, st.Control)) {
			t.Fatalf("order %d: resolving the history gives %+v, the replica %+v", i, got.State, st.Control)
		}
		if first == nil {
			first = st
		} else if !bytes.Equal(st.Encode(), first.Encode()) {
			t.Fatalf("delivery order %d gives another state", i)
		}
	}
	return first
}

// TestExAdminCannotEraseHistory is issue 13's breakage in a version 2
// room: bob, demoted, has his node answer with backdated revocations on
// his promotion. A revocation of alice, the creator, is refused (bob is
// not senior to her); his removal of carol, his demotion of a member and
// the accomplice he makes admin on that branch are void. On every node, in
// every delivery order, alice's history stands.
func TestExAdminCannotEraseHistory(t *testing.T) {
	rr, promoted := eraseScenario(t, 2)
	hostile := func(c Content, parents ...*Signed) *Signed {
		return rr.event(fixedKey, "bob", c, parents...)
	}
	removeAlice := hostile(&MemberRemove{Account: acct("alice")}, promoted)
	demoteAlice := hostile(&MemberRole{Account: acct("alice"), Role: RoleMember}, promoted)
	for _, e := range []*Signed{removeAlice, demoteAlice} {
		if _, err := Check(rr.r, e); !errors.Is(err, ErrNotSenior) {
			t.Fatalf("bob's backdated %s of alice: %v, want ErrNotSenior", e.Type, err)
		}
	}
	removeCarol := hostile(&MemberRemove{Account: acct("carol")}, promoted)
	accomplice := hostile(&MemberAdd{Member: MemberInfo{Account: acct("mallory"), Role: RoleAdmin}}, promoted)
	rename := rr.event(fixedKey, "mallory", &RoomUpdate{Name: new("mallory's")}, accomplice)
	for _, e := range []*Signed{removeCarol, accomplice, rename} {
		if err := rr.r.Add(e); err != nil {
			t.Fatalf("backdated %s by %s: %v, want it accepted (it was allowed where it was made)", e.Type, e.Author, err)
		}
	}
	hostileEvents := []*Signed{removeAlice, demoteAlice, removeCarol, accomplice, rename}
	base := slices.DeleteFunc(rr.r.Events(), func(e *Signed) bool { return slices.Contains(hostileEvents, e) })
	st := replayAll(t, rr.create.RoomID(), deliveries(base, hostileEvents, 20))
	want := roles{"alice": RoleAdmin, "bob": RoleMember, "dave": RoleMember, "erin": RoleAdmin}
	if got := rolesOf(st.Control); !maps.Equal(got, want) || st.Control.Name != "alice's" {
		t.Fatalf("members %v, name %q; want %v, %q", got, st.Control.Name, want, "alice's")
	}
}

// TestExAdminErasesHistoryVersion1 pins the version 1 behaviour the
// version 2 rules fix, unchanged for version 1 rooms: the same backdated
// removal of alice voids every control event of hers since bob's
// promotion.
func TestExAdminErasesHistoryVersion1(t *testing.T) {
	rr, promoted := eraseScenario(t, 1)
	revenge := rr.event(fixedKey, "bob", &MemberRemove{Account: acct("alice")}, promoted)
	st := replayAll(t, rr.create.RoomID(), deliveries(rr.r.Events(), []*Signed{revenge}, 5))
	want := roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleReadonly}
	if got := rolesOf(st.Control); !maps.Equal(got, want) || st.Control.Name != "" {
		t.Fatalf("members %v, name %q; want version 1 to erase alice's history: %v, no name", got, st.Control.Name, want)
	}
}

// TestSeniorityRules checks who may demote or remove whom in a version 2
// room: an admin only a junior admin (or a non-admin), anyone themselves.
// Alice creates the room with bob (member) and carol (readonly).
func TestSeniorityRules(t *testing.T) {
	role := func(h Handle, r Role) Content { return &MemberRole{Account: acct(h), Role: r} }
	remove := func(h Handle) Content { return &MemberRemove{Account: acct(h)} }
	type move struct {
		by Handle
		c  Content
	}
	promote := func(hs ...Handle) []move {
		var ms []move
		for _, h := range hs {
			ms = append(ms, move{"alice", role(h, RoleAdmin)})
		}
		return ms
	}
	bobThenCarol := promote("bob", "carol")
	for _, c := range []struct {
		name   string
		prep   []move
		author Handle
		c      Content
		want   error
	}{
		{"creator demotes an admin", bobThenCarol, "alice", role("bob", RoleMember), nil},
		{"creator removes an admin", bobThenCarol, "alice", remove("bob"), nil},
		{"admin cannot demote the creator", bobThenCarol, "bob", role("alice", RoleMember), ErrNotSenior},
		{"admin cannot make the creator readonly", bobThenCarol, "bob", role("alice", RoleReadonly), ErrNotSenior},
		{"admin cannot remove the creator", bobThenCarol, "bob", remove("alice"), ErrNotSenior},
		{"senior admin demotes a junior", bobThenCarol, "bob", role("carol", RoleReadonly), nil},
		{"senior admin removes a junior", bobThenCarol, "bob", remove("carol"), nil},
		{"junior admin cannot demote a senior", bobThenCarol, "carol", role("bob", RoleMember), ErrNotSenior},
		{"junior admin cannot remove a senior", bobThenCarol, "carol", remove("bob"), ErrNotSenior},
		{"junior admin demotes a non-admin", promote("carol"), "carol", role("bob", RoleReadonly), nil},
		{"junior admin removes a non-admin", promote("carol"), "carol", remove("bob"), nil},
		{"junior admin promotes", promote("carol"), "carol", role("bob", RoleAdmin), nil},
		{"admin steps down", bobThenCarol, "carol", role("carol", RoleMember), nil},
		{"admin removes itself", bobThenCarol, "carol", remove("carol"), nil},
		{"admin leaves", bobThenCarol, "carol", &MemberLeave{}, nil},
		{"creator steps down", bobThenCarol, "alice", role("alice", RoleMember), nil},
		{"last admin still cannot step down", nil, "alice", role("alice", RoleMember), ErrLastAdmin},
		{"a new promotion is a new, later key", slices.Concat(bobThenCarol, []move{{"alice", role("bob", RoleMember)}, {"alice", role("bob", RoleAdmin)}}),
			"carol", role("bob", RoleMember), nil},
		{"the demoted admin is junior after its new promotion", slices.Concat(bobThenCarol, []move{{"alice", role("bob", RoleMember)}, {"alice", role("bob", RoleAdmin)}}),
			"bob", remove("carol"), ErrNotSenior},
		{"promoting an admin again keeps its key", slices.Concat(bobThenCarol, []move{{"carol", role("bob", RoleAdmin)}}),
			"carol", role("bob", RoleMember), ErrNotSenior},
		{"an admin added as admin is junior", []move{{"alice", &MemberAdd{Member: MemberInfo{Account: acct("dave"), Role: RoleAdmin}}}, {"alice", role("bob", RoleAdmin)}},
			"bob", remove("dave"), ErrNotSenior},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := newVersionRoom(t, 2, KindGroup, 0)
			for _, m := range c.prep {
				rr.must(m.by, m.c)
			}
			err := rr.try(c.author, c.c)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("version 1 has no seniority", func(t *testing.T) {
		rr := newRuleRoom(t, KindGroup, 0)
		rr.must("alice", role("bob", RoleAdmin))
		rr.must("bob", remove("alice"))
	})
	t.Run("admins the create lists rank after the creator, by account", func(t *testing.T) {
		rc := &RoomCreate{Kind: KindGroup, Creator: MemberInfo{Account: acct("zoe"), Role: RoleAdmin},
			Members: []MemberInfo{{Account: acct("carol"), Role: RoleAdmin}, {Account: acct("bob"), Role: RoleAdmin}}}
		create, err := Sign(keyOf("zoe"), Event{Author: "zoe"}, rc)
		if err != nil {
			t.Fatal(err)
		}
		rr := &ruleRoom{t: t, r: NewReplica(create.RoomID()), create: create}
		if err := rr.r.Add(create); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			by   Handle
			c    Content
			want error
		}{
			{"carol", role("bob", RoleMember), ErrNotSenior},
			{"bob", role("zoe", RoleMember), ErrNotSenior},
			{"bob", role("carol", RoleMember), nil},
			{"zoe", remove("bob"), nil},
		} {
			if err := rr.try(c.by, c.c); c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("%T by %s: %v, want %v", c.c, c.by, err, c.want)
			}
		}
	})
	t.Run("an event of version 1 in a version 2 room", func(t *testing.T) {
		rr := newVersionRoom(t, 2, KindGroup, 0)
		e := Successor(rr.create.RoomID(), 1, rr.r.Heads())
		e.Author = "bob"
		s, err := Sign(keyOf("bob"), e, &MessagePost{Body: "old"})
		if err != nil {
			t.Fatal(err)
		}
		if err := rr.r.Add(s); !errors.Is(err, ErrWrongVersion) {
			t.Fatalf("Add = %v, want ErrWrongVersion", err)
		}
	})
}

// TestSeniorityResolution covers the resolution rules of version 2 on
// concurrent and backdated control events. Each case builds events on a
// version 2 group where alice (creator), bob and carol are admins, in
// that order of seniority, and dave is a member; they are delivered in
// every order, for both ID orders of a concurrent pair, and every replica
// must reach the same state.
func TestSeniorityResolution(t *testing.T) {
	add := func(h Handle, r Role) Content { return &MemberAdd{Member: MemberInfo{Account: acct(h), Role: r}} }
	remove := func(h Handle) Content { return &MemberRemove{Account: acct(h)} }
	role := func(h Handle, r Role) Content { return &MemberRole{Account: acct(h), Role: r} }
	rename := func(n string) Content { return &RoomUpdate{Name: &n} }
	for _, c := range []struct {
		name     string
		build    func(rr *ruleRoom, xFirst bool) []*Signed // events under test, not yet added
		want     roles
		roomName string
	}{
		{"senior demotes a junior who acts concurrently", func(rr *ruleRoom, xFirst bool) []*Signed {
			x, y := concurrently(rr, xFirst, "bob", role("carol", RoleMember), "carol", add("erin", RoleMember))
			return []*Signed{x, y}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleMember, "dave": RoleMember}, ""},
		{"a junior's revocation is refused, the senior's concurrent one stands", func(rr *ruleRoom, xFirst bool) []*Signed {
			x, y := concurrently(rr, xFirst, "bob", remove("carol"), "carol", rename("carol's"))
			if _, err := Check(rr.r, rr.event(fixedKey, "carol", remove("bob"), rr.r.Events()[len(rr.r.Events())-1])); !errors.Is(err, ErrNotSenior) {
				t.Fatalf("carol removes bob: %v, want ErrNotSenior", err)
			}
			return []*Signed{x, y}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "dave": RoleMember}, ""},
		{"two admins revoke each other concurrently: the senior wins", func(rr *ruleRoom, xFirst bool) []*Signed {
			// Each is senior where it acts: bob on a branch before his
			// demotion and new promotion, carol after them.
			before := rr.r.Events()[len(rr.r.Events())-1]
			demote := rr.event(fixedKey, "alice", role("bob", RoleMember))
			again := rr.event(fixedKey, "alice", role("bob", RoleAdmin), demote)
			byCarol := rr.event(fixedKey, "carol", remove("bob"), again)
			byBob := rr.event(fixedKey, "bob", remove("carol"), before)
			return []*Signed{demote, again, byCarol, byBob}
		}, roles{"alice": RoleAdmin, "carol": RoleAdmin, "dave": RoleMember}, ""},
		{"a demoted senior admin's backdated revocation is void", func(rr *ruleRoom, xFirst bool) []*Signed {
			before := rr.r.Events()[len(rr.r.Events())-1]
			demote := rr.event(fixedKey, "alice", role("bob", RoleMember))
			carols := rr.event(fixedKey, "carol", rename("carol's"), demote)
			backdated := rr.event(fixedKey, "bob", role("carol", RoleReadonly), before)
			renamed := rr.event(fixedKey, "bob", rename("bob's"), backdated)
			return []*Signed{demote, carols, backdated, renamed}
		}, roles{"alice": RoleAdmin, "bob": RoleMember, "carol": RoleAdmin, "dave": RoleMember}, "carol's"},
		{"an accomplice an ex-admin promotes on a backdated branch has no rights", func(rr *ruleRoom, xFirst bool) []*Signed {
			// Bob, removed, adds mallory as admin on a branch from before;
			// mallory demotes dave, who, promoted by alice since, renames
			// the room. Mallory's add is void, and so is everything she
			// does with the rights it gave her: dave's rename stands.
			before := rr.r.Events()[len(rr.r.Events())-1]
			removal := rr.event(fixedKey, "alice", remove("bob"))
			promoteDave := rr.event(fixedKey, "alice", role("dave", RoleAdmin), removal)
			daves := rr.event(fixedKey, "dave", rename("dave's"), promoteDave)
			accomplice := rr.event(fixedKey, "bob", add("mallory", RoleAdmin), before)
			demoteDave := rr.event(fixedKey, "mallory", role("dave", RoleReadonly), accomplice)
			return []*Signed{removal, promoteDave, daves, accomplice, demoteDave}
		}, roles{"alice": RoleAdmin, "carol": RoleAdmin, "dave": RoleAdmin}, "dave's"},
		{"leaving voids the leaver's concurrent control events", func(rr *ruleRoom, xFirst bool) []*Signed {
			x, y := concurrently(rr, xFirst, "carol", &MemberLeave{}, "carol", rename("carol's"))
			return []*Signed{x, y}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "dave": RoleMember}, ""},
		{"a step down is never void", func(rr *ruleRoom, xFirst bool) []*Signed {
			x, y := concurrently(rr, xFirst, "bob", remove("carol"), "carol", role("carol", RoleMember))
			return []*Signed{x, y}
		}, nil, ""}, // carol's fate depends on the order; checked for convergence only
		{"before anyone acknowledged, a senior may revoke a junior concurrently", func(rr *ruleRoom, xFirst bool) []*Signed {
			// Bob, still an admin, revokes carol on parents before her
			// rename, which nobody else has acknowledged: his
			// revocation voids it.
			before := rr.r.Events()[len(rr.r.Events())-1]
			carols := rr.event(fixedKey, "carol", rename("carol's"))
			backdated := rr.event(fixedKey, "bob", role("carol", RoleMember), before)
			return []*Signed{carols, backdated}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleMember, "dave": RoleMember}, ""},
		{"finality: a senior cannot backdate past what every other node acknowledged", func(rr *ruleRoom, xFirst bool) []*Signed {
			// The limitation version 2 had: bob revokes carol on parents
			// before her rename. But alice's and dave's nodes, the
			// witnesses, acknowledged the rename without his revocation:
			// it cannot reach back past it, and is void.
			before := rr.r.Events()[len(rr.r.Events())-1]
			carols := rr.event(fixedKey, "carol", rename("carol's"))
			byAlice := rr.event(fixedKey, "alice", &NodeAck{}, carols)
			byDave := rr.event(fixedKey, "dave", &MessagePost{Body: "seen"}, carols)
			backdated := rr.event(fixedKey, "bob", role("carol", RoleMember), before)
			return []*Signed{carols, byAlice, byDave, backdated}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleAdmin, "dave": RoleMember}, "carol's"},
		{"finality needs every witness", func(rr *ruleRoom, xFirst bool) []*Signed {
			// Only alice's node acknowledged the rename: dave's had not,
			// so bob's revocation still reaches back.
			before := rr.r.Events()[len(rr.r.Events())-1]
			carols := rr.event(fixedKey, "carol", rename("carol's"))
			byAlice := rr.event(fixedKey, "alice", &NodeAck{}, carols)
			backdated := rr.event(fixedKey, "bob", role("carol", RoleMember), before)
			return []*Signed{carols, byAlice, backdated}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleMember, "dave": RoleMember}, ""},
		{"an acknowledgement that saw the revocation settles nothing", func(rr *ruleRoom, xFirst bool) []*Signed {
			// Dave's node saw bob's revocation before the rename: its
			// first event with the rename has the revocation in its past.
			before := rr.r.Events()[len(rr.r.Events())-1]
			carols := rr.event(fixedKey, "carol", rename("carol's"))
			backdated := rr.event(fixedKey, "bob", role("carol", RoleMember), before)
			byAlice := rr.event(fixedKey, "alice", &NodeAck{}, carols)
			byDave := rr.event(fixedKey, "dave", &NodeAck{}, carols, backdated)
			return []*Signed{carols, byAlice, byDave, backdated}
		}, roles{"alice": RoleAdmin, "bob": RoleAdmin, "carol": RoleMember, "dave": RoleMember}, ""},
	} {
		for _, xFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/x first %v", c.name, xFirst), func(t *testing.T) {
				base := newVersionRoom(t, 2, KindGroup, 0)
				base.must("alice", role("bob", RoleAdmin))
				base.must("alice", role("carol", RoleAdmin))
				base.must("alice", add("dave", RoleMember))
				es := c.build(base, xFirst)
				for _, e := range es {
					if _, err := Check(base.r, e); err != nil && !errors.As(err, new(*MissingError)) {
						t.Fatalf("%s by %s: %v, want it allowed where it was made", e.Type, e.Author, err)
					}
				}
				var orders [][]*Signed
				for _, p := range permutations(es) {
					orders = append(orders, slices.Concat(base.r.Events(), p))
				}
				st := replayAll(t, base.create.RoomID(), orders)
				if c.want != nil {
					if got := rolesOf(st.Control); !maps.Equal(got, c.want) {
						t.Fatalf("members %v, want %v", got, c.want)
					}
				}
				if st.Control.Name != c.roomName {
					t.Fatalf("name %q, want %q", st.Control.Name, c.roomName)
				}
			})
		}
	}
}

// TestFinalityWeighsAdminActs: bob, senior to carol, demotes or removes
// her on parents from before an event of hers that alice's and dave's
// nodes, the witnesses, acknowledged without his revocation. A rename
// needs admin rights, so his revocation cannot reach back past it, and is
// void, in every version with finality. A profile needs none: carol's
// node publishes one by itself when she joins or is renamed. Before
// version 4 a settled profile voided the revocation too, so a node could
// keep its account in a room by publishing profiles; from version 4 on
// the revocation stands. So does a removal concurrent with carol's
// stepping down, which no revocation voids.
func TestFinalityWeighsAdminActs(t *testing.T) {
	role := func(h Handle, r Role) Content { return &MemberRole{Account: acct(h), Role: r} }
	rename := &RoomUpdate{Name: new("carol's")}
	profile := &MemberProfile{Name: "Carol C."}
	demote, remove := role("carol", RoleMember), &MemberRemove{Account: acct("carol")}
	for _, c := range []struct {
		v          uint16
		act        Content // carol's, acknowledged
		revocation Content // bob's, backdated
		carol      Role    // "" if no member
	}{
		{3, rename, demote, RoleAdmin},
		{3, profile, demote, RoleAdmin},
		{3, profile, remove, RoleAdmin},
		{3, demote, remove, RoleMember},
		{4, rename, demote, RoleAdmin},
		{4, profile, demote, RoleMember},
		{4, profile, remove, ""},
		{4, demote, remove, ""}, // carol steps down: that always stands, and settles nothing
	} {
		t.Run(fmt.Sprintf("version %d/%T then %T", c.v, c.act, c.revocation), func(t *testing.T) {
			base := newVersionRoom(t, c.v, KindGroup, 0)
			base.must("alice", role("bob", RoleAdmin))
			base.must("alice", role("carol", RoleAdmin))
			base.must("alice", &MemberAdd{Member: MemberInfo{Account: acct("dave"), Role: RoleMember}})
			before := base.r.Events()[len(base.r.Events())-1]
			carols := base.event(fixedKey, "carol", c.act)
			byAlice := base.event(fixedKey, "alice", &NodeAck{}, carols)
			byDave := base.event(fixedKey, "dave", &MessagePost{Body: "seen"}, carols)
			backdated := base.event(fixedKey, "bob", c.revocation, before)
			es := []*Signed{carols, byAlice, byDave, backdated}
			var orders [][]*Signed
			for _, p := range permutations(es) {
				orders = append(orders, slices.Concat(base.r.Events(), p))
			}
			st := replayAll(t, base.create.RoomID(), orders)
			want := roles{"alice": RoleAdmin, "bob": RoleAdmin, "dave": RoleMember}
			if c.carol != "" {
				want["carol"] = c.carol
			}
			if got := rolesOf(st.Control); !maps.Equal(got, want) {
				t.Fatalf("members %v, want %v", got, want)
			}
		})
	}
}
