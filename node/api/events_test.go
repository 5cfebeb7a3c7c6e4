package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// sse is one Server-Sent Event as the test reads it.
type sse struct {
	id, event string
	data      eventJSON
	comment   bool
}

// stream is an open /api/events connection.
type stream struct {
	t      *testing.T
	cancel context.CancelFunc
	events chan sse
	resp   *http.Response
}

// openStream connects to /api/events as u with extra headers and query.
func (e *env) openStream(t *testing.T, u *user, query string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/events"+query, nil)
	r.Header.Set("X-ChatWorkToken", u.token)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("events = %d %v", resp.StatusCode, resp.Header)
	}
	s := &stream{t: t, cancel: cancel, events: make(chan sse, 100), resp: resp}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.id != "" || cur.comment {
					s.events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				cur.comment = true
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &cur.data); err != nil {
					t.Errorf("event data %q: %v", line, err)
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.cancel() }

// next returns the next event that is not a comment.
func (s *stream) next() sse {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("event stream ended")
			}
			if !ev.comment {
				return ev
			}
		case <-timeout:
			s.t.Fatal("no event within 10s")
		}
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	s := e.openStream(t, e.bob, "", nil)
	m := e.post(e.alice, e.room, fmt.Sprintf("[To:%s] hello", e.bob.ID))
	ev := s.next()
	if ev.event != "message" || ev.data.Type != "message" || ev.data.RoomID != e.room.Alias || ev.data.Message == nil ||
		ev.data.Message.Body != fmt.Sprintf("[To:%d] hello", e.bob.Alias) || ev.data.Message.MessageID != fmt.Sprint(m.Alias) ||
		ev.id != fmt.Sprint(ev.data.Seq) {
		t.Fatalf("first event = %+v %+v", ev, ev.data.Message)
	}
	first := ev.data.Seq
	if err := e.node.EditMessage(ctx, e.alice.Handle, m.ID, "hello again"); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "message_updated" || ev.data.Message == nil || ev.data.Message.Body != "hello again" {
		t.Fatalf("edit event = %+v", ev)
	}
	task, err := e.node.CreateTask(ctx, e.alice.Handle, e.room.ID, node.NewTask{Body: "do it", Assignees: []protocol.AccountID{e.bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "task" || ev.data.Task == nil || ev.data.Task.TaskID != task.Alias || ev.data.Task.Body != "do it" {
		t.Fatalf("task event = %+v", ev)
	}
	if ev := s.next(); ev.event != "notice" || ev.data.Message == nil || !strings.Contains(ev.data.Message.Body, "[dtext:task_added]") {
		t.Fatalf("task notice event = %+v", ev)
	}
	if err := e.node.DeleteMessage(ctx, e.alice.Handle, m.ID); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "message_deleted" || ev.data.Message == nil || ev.data.Message.Body != "[deleted]" {
		t.Fatalf("delete event = %+v", ev)
	}
	if _, _, err := e.node.MarkRead(ctx, e.bob.Handle, e.room.ID, protocol.EventID{}); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "read" || ev.data.AccountID != e.bob.Alias {
		t.Fatalf("read event = %+v", ev)
	}
	// Alice's read marker and a room bob is not in stay hidden from him.
	if _, _, err := e.node.MarkRead(ctx, e.alice.Handle, e.room.ID, protocol.EventID{}); err != nil {
		t.Fatal(err)
	}
	e.newRoom(e.alice, "Secret", e.carol)
	if err := e.node.UpdateRoom(ctx, e.alice.Handle, e.room.ID, node.RoomChange{Name: ptr("Launch!")}); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "room" || ev.data.RoomID != e.room.Alias {
		t.Fatalf("room event = %+v (hidden changes leaked?)", ev)
	}
	if ev := s.next(); ev.event != "notice" || ev.data.Message == nil || !strings.Contains(ev.data.Message.Body, "Launch![dtext:chatroom_changed]") {
		t.Fatalf("room notice event = %+v", ev)
	}
	if err := e.node.AddMember(ctx, e.alice.Handle, e.room.ID, node.MemberSpec{Account: e.carol.ID}); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.event != "members" || ev.data.AccountID != e.carol.Alias {
		t.Fatalf("members event = %+v", ev)
	}
	if ev := s.next(); ev.event != "notice" || ev.data.Message == nil || !strings.Contains(ev.data.Message.Body, "[dtext:chatroom_added]") {
		t.Fatalf("members notice event = %+v", ev)
	}
	s.close()

	// Resuming after the first event replays everything after it, in order.
	for _, resume := range []struct {
		name   string
		query  string
		header map[string]string
	}{
		{"Last-Event-ID", "", map[string]string{"Last-Event-ID": fmt.Sprint(first)}},
		{"after", "?after=" + fmt.Sprint(first), nil},
	} {
		t.Run(resume.name, func(t *testing.T) {
			s := e.openStream(t, e.bob, resume.query, resume.header)
			var kinds []string
			var last uint64
			for range 9 {
				ev := s.next()
				if ev.data.Seq <= last || ev.data.Seq <= first {
					t.Fatalf("event %d after %d", ev.data.Seq, last)
				}
				last = ev.data.Seq
				kinds = append(kinds, ev.event)
			}
			if got := strings.Join(kinds, " "); got != "message_updated task notice message_deleted read room notice members notice" {
				t.Fatalf("replayed %s", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEventsHeartbeatAndEnd(t *testing.T) {
	e := newEnv(t, Config{Heartbeat: 20 * time.Millisecond})
	s := e.openStream(t, e.bob, "", nil)
	select {
	case ev := <-s.events:
		if !ev.comment {
			t.Fatalf("first event = %+v, want a heartbeat", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat")
	}
	// Disabling bob ends his stream at the next wake-up.
	if err := e.node.SetDisabled(t.Context(), e.bob.Handle, true); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				goto ended
			}
		case <-timeout:
			t.Fatal("stream of a disabled account did not end")
		}
	}
ended:
	// Server shutdown ends streams too.
	s2 := e.openStream(t, e.alice, "", nil)
	e.api.Shutdown()
	timeout = time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s2.events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream did not end on Shutdown")
		}
	}
}

func TestEventsBadResume(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct{ query, header string }{{"?after=x", ""}, {"?after=-1", ""}, {"", "x"}} {
		h := map[string]string{}
		if c.header != "" {
			h["Last-Event-ID"] = c.header
		}
		r := e.do("GET", "/api/events"+c.query, req{token: e.bob.token, header: h})
		if r.status != 400 {
			t.Errorf("events%s Last-Event-ID %q = %s, want 400", c.query, c.header, r)
		}
	}
	if r := e.do("GET", "/api/events", req{}); r.status != 401 {
		t.Fatalf("events without token = %s", r)
	}
}
