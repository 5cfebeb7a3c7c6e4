package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// nextNotice returns the stream's next notice event, skipping the task,
// room and members events that come before it.
func (s *stream) nextNotice() sse {
	s.t.Helper()
	for {
		ev := s.next()
		switch ev.event {
		case "notice":
			return ev
		case "task", "room", "members":
		default:
			s.t.Fatalf("event %s %+v before the notice", ev.event, ev.data)
		}
	}
}

// TestEventsNoticesLive: each kind of system message reaches an open
// /api/events stream as a "notice" event as it happens, with the same
// message_id and body as the message GET /v2 reads back afterwards, and
// not the stream of someone outside the room.
func TestEventsNoticesLive(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	ctx := t.Context()
	dave := e.newUser("dave", "Dave Ito")
	bob := e.openStream(t, e.bob, "", nil)
	outsider := e.openStream(t, dave, "", nil)

	task, err := e.node.CreateTask(ctx, e.alice.Handle, e.room.ID, node.NewTask{Body: "send the quote", Assignees: []protocol.AccountID{e.bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	done := protocol.TaskDone
	steps := []struct {
		kind string
		do   func() error
		want string // in the body, besides [dtext:kind]
	}{
		{"task_added", func() error { return nil }, fmt.Sprintf("[task aid=%d st=open", e.bob.Alias)},
		{"task_done", func() error {
			_, err := e.node.UpdateTask(ctx, e.bob.Handle, task.ID, node.TaskChange{Status: &done})
			return err
		}, "st=done"},
		{"chatroom_added", func() error {
			return e.node.AddMember(ctx, e.alice.Handle, e.room.ID, node.MemberSpec{Account: e.carol.ID})
		}, fmt.Sprintf("[piconname:%d]", e.carol.Alias)},
		{"chatroom_leaved", func() error { return e.node.LeaveRoom(ctx, e.carol.Handle, e.room.ID) }, fmt.Sprintf("[piconname:%d]", e.carol.Alias)},
		{"chatroom_changed", func() error {
			return e.node.UpdateRoom(ctx, e.alice.Handle, e.room.ID, node.RoomChange{Description: ptr("Ship it")})
		}, "[dtext:chatroom_description_is]Ship it"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.kind, err)
		}
		ev := bob.nextNotice()
		m := ev.data.Message
		if m == nil || ev.data.RoomID != e.room.Alias || !strings.HasPrefix(m.Body, "[info]") ||
			!strings.Contains(m.Body, "[dtext:"+st.kind+"]") || !strings.Contains(m.Body, st.want) {
			t.Fatalf("%s: notice event %+v %+v", st.kind, ev.data, m)
		}
		var stored messageJSON
		r := e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, m.MessageID), req{token: e.bob.token})
		r.decode(t, &stored)
		if r.status != 200 || !reflect.DeepEqual(stored, *m) {
			t.Errorf("%s: live %+v, read back %s", st.kind, *m, r)
		}
	}

	// Dave, in none of those rooms, hears first of the room he is added to.
	withDave := e.newRoom(e.alice, "With Dave", dave)
	ev := outsider.next()
	if ev.data.RoomID != withDave.Alias {
		t.Fatalf("dave's first event %s %+v, want one of room %d", ev.event, ev.data, withDave.Alias)
	}
}
