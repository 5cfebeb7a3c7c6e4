package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// nextBut returns the stream's next event that is neither a comment nor
// of kind skip.
func (s *stream) nextBut(skip string) sse {
	s.t.Helper()
	for {
		if ev := s.next(); ev.event != skip {
			return ev
		}
	}
}

// A stream that does not keep up is cut off without holding up the
// others, and resuming with Last-Event-ID gives it everything it missed.
func TestEventsSlowStreamCutOff(t *testing.T) {
	e := newEnv(t, Config{})
	// Only the slow stream gets the small buffer: a fast one with it is
	// cut off too when the machine is busy and its reader falls behind.
	e.api.fan.buffer = 2
	slow, _, err := e.api.fan.subscribe(t.Context(), e.bob.Account) // never read
	e.api.fan.buffer = streamBuffer
	if err != nil {
		t.Fatal(err)
	}
	defer e.api.fan.unsubscribe(slow)
	fast := e.openStream(t, e.alice, "", nil)
	const posts = 5
	for i := range posts {
		e.post(e.alice, e.room, fmt.Sprintf("post %d", i))
	}
	var first uint64
	for i := range posts {
		ev := fast.next()
		if ev.event != "message" || ev.data.Message == nil || ev.data.Message.Body != fmt.Sprintf("post %d", i) {
			t.Fatalf("fast stream event %d = %+v", i, ev)
		}
		if i == 0 {
			first = ev.data.Seq
		}
	}
	select {
	case <-slow.cut:
	case <-time.After(10 * time.Second):
		t.Fatal("a stream with a full buffer was not cut off")
	}
	if len(slow.frames) != 2 {
		t.Fatalf("cut-off stream holds %d frames, want its buffer's 2", len(slow.frames))
	}
	resumed := e.openStream(t, e.bob, "", map[string]string{"Last-Event-ID": fmt.Sprint(first)})
	for i := 1; i < posts; i++ {
		if ev := resumed.next(); ev.event != "message" || ev.data.Message.Body != fmt.Sprintf("post %d", i) {
			t.Fatalf("resumed stream event %d = %+v", i, ev)
		}
	}
}

// The fan-out follows a stream's account into and out of rooms: added to
// a room, made a first member of a new one, removed from one.
func TestEventsFollowMembership(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	s := e.openStream(t, e.carol, "", nil)
	e.post(e.alice, e.room, "before carol")
	if err := e.node.AddMember(ctx, e.alice.Handle, e.room.ID, node.MemberSpec{Account: e.carol.ID}); err != nil {
		t.Fatal(err)
	}
	if ev := s.nextBut("notice"); ev.event != "members" || ev.data.AccountID != e.carol.Alias {
		t.Fatalf("first event = %+v, want carol's addition (a message of a room she was not in leaked?)", ev)
	}
	e.post(e.alice, e.room, "welcome")
	if ev := s.nextBut("notice"); ev.event != "message" || ev.data.Message.Body != "welcome" {
		t.Fatalf("after the addition: %+v", ev)
	}
	side := e.newRoom(e.alice, "Side", e.carol)
	if ev := s.nextBut("notice"); ev.event != "room" || ev.data.RoomID != side.Alias {
		t.Fatalf("new room: %+v", ev)
	}
	if err := e.node.RemoveMember(ctx, e.alice.Handle, e.room.ID, e.carol.ID); err != nil {
		t.Fatal(err)
	}
	if ev := s.nextBut("notice"); ev.event != "members" || ev.data.AccountID != e.carol.Alias || ev.data.RoomID != e.room.Alias {
		t.Fatalf("removal: %+v", ev)
	}
	e.post(e.alice, e.room, "after carol")
	e.post(e.alice, side, "side talk")
	if ev := s.nextBut("notice"); ev.event != "message" || ev.data.Message.Body != "side talk" || ev.data.RoomID != side.Alias {
		t.Fatalf("after the removal: %+v (a message of a room she left leaked?)", ev)
	}
}

// TestEventsMemberRole: a members change about one account says its role
// now, "none" once it is out, so that a client updates its member list
// without reading the whole of it.
func TestEventsMemberRole(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	s := e.openStream(t, e.alice, "", nil)
	want := func(who *user, role string) {
		t.Helper()
		if ev := s.nextBut("notice"); ev.event != "members" || ev.data.AccountID != who.Alias || ev.data.Role != role {
			t.Fatalf("event = %+v, want %s's members change with role %q", ev, who.Handle, role)
		}
	}
	if err := e.node.AddMember(ctx, e.alice.Handle, e.room.ID, node.MemberSpec{Account: e.carol.ID}); err != nil {
		t.Fatal(err)
	}
	want(e.carol, "member")
	if err := e.node.SetMember(ctx, e.alice.Handle, e.room.ID, e.bob.ID, protocol.RoleReadonly); err != nil {
		t.Fatal(err)
	}
	want(e.bob, "readonly")
	if err := e.node.RemoveMember(ctx, e.alice.Handle, e.room.ID, e.carol.ID); err != nil {
		t.Fatal(err)
	}
	want(e.carol, "none")
}
