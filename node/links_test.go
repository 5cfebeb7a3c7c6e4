package node

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/protocol"
)

func TestLinks(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	for _, h := range []protocol.Handle{"alice", "bob", "carol", "dave"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	id := func(h protocol.Handle) protocol.AccountID { return protocol.NewAccountID(n.ID(), h) }
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch", Members: []MemberSpec{{Account: id("bob")}}}))
	other := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Other"}))
	alice := must[*Account](t)(n.Account(ctx, "alice"))

	for _, c := range []struct {
		name string
		as   protocol.Handle
		room protocol.RoomID
		spec LinkSpec
		want error
	}{
		{"member", "bob", room.ID, LinkSpec{Code: "x"}, ErrForbidden},
		{"non-member", "carol", room.ID, LinkSpec{Code: "x"}, ErrNotFound},
		{"my chat", "alice", alice.MyChat, LinkSpec{Code: "x"}, ErrForbidden},
		{"bad code", "alice", room.ID, LinkSpec{Code: "a/b"}, ErrInvalid},
		{"long code", "alice", room.ID, LinkSpec{Code: string(make([]byte, 51))}, ErrInvalid},
		{"long description", "alice", room.ID, LinkSpec{Code: "x", Description: string(make([]byte, MaxLinkDescription+1))}, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := n.CreateLink(ctx, c.as, c.room, c.spec); !errors.Is(err, c.want) {
				t.Fatalf("CreateLink = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := n.RoomLink(ctx, "bob", room.ID); !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrNoLink) {
		t.Fatalf("RoomLink before any = %v", err)
	}
	l := must[*Link](t)(n.CreateLink(ctx, "alice", room.ID, LinkSpec{Code: "launch", Description: "Welcome"}))
	if l.Code != "launch" || l.NeedAcceptance || l.Creator != id("alice") || l.Room != room.ID {
		t.Fatalf("link = %+v", l)
	}
	if _, err := n.CreateLink(ctx, "alice", room.ID, LinkSpec{Code: "again"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second link = %v, want ErrConflict", err)
	}
	if _, err := n.CreateLink(ctx, "alice", other.ID, LinkSpec{Code: "launch"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("taken code = %v, want ErrConflict", err)
	}
	random := must[*Link](t)(n.CreateLink(ctx, "alice", other.ID, LinkSpec{}))
	if err := ValidLinkCode(random.Code); err != nil || len(random.Code) < 16 {
		t.Fatalf("random code %q: %v", random.Code, err)
	}
	if got := must[*Link](t)(n.RoomLink(ctx, "bob", room.ID)); *got != *l {
		t.Fatalf("RoomLink = %+v, want %+v", got, l)
	}
	if _, err := n.RoomLink(ctx, "carol", room.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RoomLink by non-member = %v", err)
	}

	// Renaming frees the old code; only admins may.
	code := "launch-2"
	if _, err := n.UpdateLink(ctx, "bob", room.ID, LinkChange{Code: &code}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("UpdateLink by member = %v", err)
	}
	if _, err := n.UpdateLink(ctx, "alice", room.ID, LinkChange{Code: &random.Code}); !errors.Is(err, ErrConflict) {
		t.Fatalf("UpdateLink to a taken code = %v", err)
	}
	l = must[*Link](t)(n.UpdateLink(ctx, "alice", room.ID, LinkChange{Code: &code}))
	if l.Code != code || l.Description != "Welcome" {
		t.Fatalf("updated = %+v", l)
	}
	if _, err := n.LinkByCode(ctx, "carol", "launch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old code = %v", err)
	}
	target := must[*LinkTarget](t)(n.LinkByCode(ctx, "carol", code))
	if target.Room != room.ID || target.RoomAlias != room.Alias || target.Name != "Launch" || target.Member {
		t.Fatalf("target = %+v", target)
	}

	// Joining without acceptance.
	joined, pending, err := n.JoinByLink(ctx, "carol", code, "")
	if err != nil || pending || joined != room.ID {
		t.Fatalf("JoinByLink = %v %v %v", joined, pending, err)
	}
	if r, err := n.Room(ctx, "carol", room.ID); err != nil || r.Role != protocol.RoleMember {
		t.Fatalf("carol in room: %+v %v", r, err)
	}
	if _, pending, err := n.JoinByLink(ctx, "carol", code, ""); err != nil || pending {
		t.Fatalf("joining again = %v %v", pending, err)
	}
	if _, _, err := n.JoinByLink(ctx, "carol", "nope", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown code = %v", err)
	}

	// Joining with acceptance.
	need := true
	must[*Link](t)(n.UpdateLink(ctx, "alice", room.ID, LinkChange{NeedAcceptance: &need}))
	if _, pending, err := n.JoinByLink(ctx, "dave", code, "please"); err != nil || !pending {
		t.Fatalf("JoinByLink needing acceptance = %v %v", pending, err)
	}
	if _, err := n.Room(ctx, "dave", room.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dave joined before approval: %v", err)
	}
	if _, err := n.JoinRequests(ctx, "bob", room.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("JoinRequests by member = %v", err)
	}
	reqs := must[[]*JoinRequest](t)(n.JoinRequests(ctx, "alice", room.ID))
	if len(reqs) != 1 || reqs[0].Account != id("dave") || reqs[0].Message != "please" || reqs[0].Alias == 0 {
		t.Fatalf("requests = %+v", reqs)
	}
	if err := n.DecideJoin(ctx, "alice", room.ID, id("bob"), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deciding a request never made = %v", err)
	}

	// The node survives a restart with its links and requests.
	n.Close()
	n = newTestNode(t, dir)
	if got := must[*Link](t)(n.RoomLink(ctx, "bob", room.ID)); got.Code != code || !got.NeedAcceptance {
		t.Fatalf("link after restart = %+v", got)
	}
	if err := n.DecideJoin(ctx, "alice", room.ID, id("dave"), true); err != nil {
		t.Fatal(err)
	}
	if r, err := n.Room(ctx, "dave", room.ID); err != nil || r.Role != protocol.RoleMember {
		t.Fatalf("dave after approval: %+v %v", r, err)
	}
	if reqs := must[[]*JoinRequest](t)(n.JoinRequests(ctx, "alice", room.ID)); len(reqs) != 0 {
		t.Fatalf("requests after approval = %+v", reqs)
	}

	// A join is authored by a local admin even if the link's creator has
	// stepped down.
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "erin"}))
	if err := n.SetRole(ctx, "alice", room.ID, id("bob"), protocol.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	// She steps down herself: in a room of version 2 nobody else may
	// demote the room's creator.
	if err := n.SetRole(ctx, "alice", room.ID, id("alice"), protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	need = false
	must[*Link](t)(n.UpdateLink(ctx, "bob", room.ID, LinkChange{NeedAcceptance: &need}))
	if _, _, err := n.JoinByLink(ctx, "erin", code, ""); err != nil {
		t.Fatalf("join after the creator stepped down = %v", err)
	}
	if _, err := n.Room(ctx, "erin", room.ID); err != nil {
		t.Fatal(err)
	}

	if err := n.DeleteLink(ctx, "alice", room.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("DeleteLink by non-admin = %v", err)
	}
	if err := n.DeleteLink(ctx, "bob", room.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.LinkByCode(ctx, "carol", code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted link's code = %v", err)
	}
	if err := n.DeleteLink(ctx, "bob", room.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting again = %v", err)
	}
}
