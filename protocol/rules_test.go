package protocol

import (
	"crypto/ed25519"
	"errors"
	"testing"
)

// ruleRoom is a group room on one node with alice (admin), bob (member)
// and carol (readonly), a post by bob and a task, built on a Replica.
type ruleRoom struct {
	t       *testing.T
	r       *Replica
	create  *Signed
	post    *Signed
	task    *Signed
	node    NodeID
	heads   []Order
	foreign *Signed // a post in that other room
}

func (rr *ruleRoom) id(h Handle) AccountID { return NewAccountID(rr.node, h) }

// try signs an event by author following the room's heads and offers it
// to the replica, returning the replica's verdict.
func (rr *ruleRoom) try(author Handle, c Content) error {
	rr.t.Helper()
	e := Successor(rr.create.RoomID(), rr.heads)
	e.Author = author
	s, err := Sign(fixedKey, e, c)
	if err != nil {
		rr.t.Fatal(err)
	}
	err = rr.r.Add(s)
	if err == nil {
		rr.heads = rr.r.Heads()
	}
	return err
}

func newRuleRoom(t *testing.T, kind RoomKind) *ruleRoom {
	node := NodeIDFromKey(fixedKey.Public().(ed25519.PublicKey))
	rr := &ruleRoom{t: t, node: node}
	rc := &RoomCreate{Kind: kind, Creator: MemberInfo{Account: rr.id("alice"), Role: RoleAdmin}}
	switch kind {
	case KindGroup:
		rc.Members = []MemberInfo{{Account: rr.id("bob"), Role: RoleMember}, {Account: rr.id("carol"), Role: RoleReadonly}}
	case KindDirect:
		rc.Members = []MemberInfo{{Account: rr.id("bob"), Role: RoleAdmin}}
	}
	var err error
	if rr.create, err = Sign(fixedKey, Event{Author: "alice"}, rc); err != nil {
		t.Fatal(err)
	}
	rr.r = NewReplica(rr.create.RoomID())
	if err := rr.r.Add(rr.create); err != nil {
		t.Fatal(err)
	}
	rr.heads = rr.r.Heads()
	poster := Handle("bob")
	if kind == KindMy {
		poster = "alice"
	}
	if err := rr.try(poster, &MessagePost{Body: "bob's"}); err != nil {
		t.Fatal(err)
	}
	rr.post = rr.r.Events()[1]
	if err := rr.try("alice", &TaskCreate{Body: "t", Assignees: []AccountID{rr.id(poster)}, Limit: LimitNone}); err != nil {
		t.Fatal(err)
	}
	rr.task = rr.r.Events()[2]
	other, err := Sign(fixedKey, Event{Author: "alice"}, &RoomCreate{Kind: KindGroup, Nonce: []byte{1},
		Creator: MemberInfo{Account: rr.id("alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	e := Successor(other.RoomID(), []Order{other.Order()})
	e.Author = "alice"
	if rr.foreign, err = Sign(fixedKey, e, &MessagePost{Body: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	return rr
}

func TestRoomRules(t *testing.T) {
	done := TaskDone
	name := "n"
	for _, c := range []struct {
		name    string
		kind    RoomKind
		author  Handle
		content func(rr *ruleRoom) Content
		want    error // nil: allowed
	}{
		{"member posts", KindGroup, "bob", func(*ruleRoom) Content { return &MessagePost{Body: "hi"} }, nil},
		{"readonly cannot post", KindGroup, "carol", func(*ruleRoom) Content { return &MessagePost{Body: "hi"} }, ErrReadOnly},
		{"non-member cannot post", KindGroup, "dave", func(*ruleRoom) Content { return &MessagePost{Body: "hi"} }, ErrNotMember},
		{"readonly cannot create tasks", KindGroup, "carol", func(rr *ruleRoom) Content {
			return &TaskCreate{Body: "t", Assignees: []AccountID{rr.id("carol")}, Limit: LimitNone}
		}, ErrReadOnly},
		{"assignees must be members", KindGroup, "bob", func(rr *ruleRoom) Content {
			return &TaskCreate{Body: "t", Assignees: []AccountID{rr.id("dave")}, Limit: LimitNone}
		}, ErrBadTarget},
		{"member completes a task", KindGroup, "bob", func(rr *ruleRoom) Content { return &TaskUpdate{Task: rr.task.ID, Status: &done} }, nil},
		{"readonly cannot complete a task", KindGroup, "carol", func(rr *ruleRoom) Content { return &TaskUpdate{Task: rr.task.ID, Status: &done} }, ErrReadOnly},
		{"task update must name a task", KindGroup, "bob", func(rr *ruleRoom) Content { return &TaskUpdate{Task: rr.post.ID, Status: &done} }, ErrBadTarget},
		{"author edits", KindGroup, "bob", func(rr *ruleRoom) Content { return &MessageEdit{Message: rr.post.ID, Body: "x"} }, nil},
		{"only the author edits", KindGroup, "alice", func(rr *ruleRoom) Content { return &MessageEdit{Message: rr.post.ID, Body: "x"} }, ErrNotAuthor},
		{"admin deletes", KindGroup, "alice", func(rr *ruleRoom) Content { return &MessageDelete{Message: rr.post.ID} }, nil},
		{"others cannot delete", KindGroup, "carol", func(rr *ruleRoom) Content { return &MessageDelete{Message: rr.post.ID} }, ErrNotAuthor},
		{"member cannot rename", KindGroup, "bob", func(*ruleRoom) Content { return &RoomUpdate{Name: &name} }, ErrNotAdmin},
		{"member cannot add", KindGroup, "bob", func(rr *ruleRoom) Content {
			return &MemberAdd{Member: MemberInfo{Account: rr.id("dave"), Role: RoleMember}}
		}, ErrNotAdmin},
		{"admin adds", KindGroup, "alice", func(rr *ruleRoom) Content {
			return &MemberAdd{Member: MemberInfo{Account: rr.id("dave"), Role: RoleMember}}
		}, nil},
		{"no adding twice", KindGroup, "alice", func(rr *ruleRoom) Content {
			return &MemberAdd{Member: MemberInfo{Account: rr.id("bob"), Role: RoleMember}}
		}, ErrBadTarget},
		{"member cannot change roles", KindGroup, "bob", func(rr *ruleRoom) Content { return &MemberRole{Account: rr.id("bob"), Role: RoleAdmin} }, ErrNotAdmin},
		{"last admin cannot step down", KindGroup, "alice", func(rr *ruleRoom) Content { return &MemberRole{Account: rr.id("alice"), Role: RoleMember} }, ErrLastAdmin},
		{"last admin cannot leave", KindGroup, "alice", func(*ruleRoom) Content { return &MemberLeave{} }, ErrLastAdmin},
		{"member leaves", KindGroup, "bob", func(*ruleRoom) Content { return &MemberLeave{} }, nil},
		{"no members added to a direct chat", KindDirect, "alice", func(rr *ruleRoom) Content {
			return &MemberAdd{Member: MemberInfo{Account: rr.id("dave"), Role: RoleMember}}
		}, ErrRoomKind},
		{"no renaming a direct chat", KindDirect, "alice", func(*ruleRoom) Content { return &RoomUpdate{Name: &name} }, ErrRoomKind},
		{"no leaving a my chat", KindMy, "alice", func(*ruleRoom) Content { return &MemberLeave{} }, ErrRoomKind},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := newRuleRoom(t, c.kind)
			err := rr.try(c.author, c.content(rr))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRuleParentsAndReferences(t *testing.T) {
	rr := newRuleRoom(t, KindGroup)
	// An edit citing a message of another room is parked as missing here:
	// this room never holds that event, so it is never accepted.
	if err := rr.try("alice", &MessageEdit{Message: rr.foreign.ID, Body: "x"}); !errors.Is(err, ErrParked) {
		t.Fatalf("edit of another room's message: %v, want ErrParked", err)
	}
	// Wrong depth.
	e := Successor(rr.create.RoomID(), rr.heads)
	e.Author, e.Depth = "bob", e.Depth+5
	s, err := Sign(fixedKey, e, &MessagePost{Body: "deep"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rr.r.Add(s); !errors.Is(err, ErrBadParents) {
		t.Fatalf("wrong depth: %v, want ErrBadParents", err)
	}
}
