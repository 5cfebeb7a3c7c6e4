package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestBulkPutMembers changes a room's members with ChatWork's bulk PUT:
// the accounts it adds join in one member.add (one per
// protocol.MaxListSize of them), so the room shows one notice naming all
// of them, as ChatWork's does, and every one is a member with its role.
func TestBulkPutMembers(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	rp := fmt.Sprintf("/v2/rooms/%d", e.room.Alias)
	put := func(admins, members, readonly []string) {
		t.Helper()
		r := e.do("PUT", rp+"/members", req{token: e.alice.token, form: form("members_admin_ids", strings.Join(admins, ","),
			"members_member_ids", strings.Join(members, ","), "members_readonly_ids", strings.Join(readonly, ","))})
		if r.status != 200 {
			t.Fatalf("PUT members = %s", r)
		}
	}
	// added returns the chatroom_added notices of the room, oldest first.
	added := func() []string {
		t.Helper()
		r := e.do("GET", rp+"/messages", req{token: e.alice.token, form: form("force", "1")})
		if r.status == http.StatusNoContent {
			return nil
		}
		ms := decodeAs[[]messageJSON](t, r)
		var out []string
		for _, m := range ms {
			if strings.Contains(m.Body, "[dtext:chatroom_added]") {
				out = append(out, m.Body)
			}
		}
		return out
	}
	alias := func(as ...uint64) []string {
		var out []string
		for _, a := range as {
			out = append(out, fmt.Sprint(a))
		}
		return out
	}

	// Three accounts at once: one event, one notice naming the three, in
	// the order of their account IDs.
	dave := must(e.node.CreateAccount(ctx, node.NewAccount{Handle: "dave", Name: "Dave"}))
	erin := must(e.node.CreateAccount(ctx, node.NewAccount{Handle: "erin", Name: "Erin"}))
	before := len(added())
	put(alias(e.alice.Alias, dave.Alias), alias(e.bob.Alias, e.carol.Alias), alias(erin.Alias))
	notices := added()
	if len(notices) != before+1 {
		t.Fatalf("%d new notices of additions, want 1: %q", len(notices)-before, notices[before:])
	}
	want := fmt.Sprintf("[info][dtext:chatroom_member_is][piconname:%d][piconname:%d][piconname:%d][dtext:chatroom_added][/info]",
		e.carol.Alias, dave.Alias, erin.Alias)
	if got := notices[len(notices)-1]; got != want {
		t.Fatalf("notice %q, want %q", got, want)
	}
	ms := decodeAs[[]memberJSON](t, e.do("GET", rp+"/members", req{token: e.bob.token}))
	roles := map[uint64]string{}
	for _, m := range ms {
		roles[m.AccountID] = m.Role
	}
	if roles[dave.Alias] != "admin" || roles[erin.Alias] != "readonly" || roles[e.carol.Alias] != "member" || len(ms) != 5 {
		t.Fatalf("members %v", roles)
	}

	// More than one event may list: as few events as the bound needs.
	n := protocol.MaxListSize + 10
	many := alias(e.bob.Alias, e.carol.Alias, erin.Alias)
	for i := range n {
		a := must(e.node.CreateAccount(ctx, node.NewAccount{Handle: protocol.Handle(fmt.Sprintf("p%03d", i))}))
		many = append(many, fmt.Sprint(a.Alias))
	}
	before = len(added())
	put(alias(e.alice.Alias, dave.Alias), many, nil)
	if got := len(added()) - before; got != 2 {
		t.Fatalf("adding %d accounts made %d notices of additions, want 2", n, got)
	}
	ms = decodeAs[[]memberJSON](t, e.do("GET", rp+"/members", req{token: e.bob.token}))
	if len(ms) != 5+n {
		t.Fatalf("%d members after adding %d to 5", len(ms), n)
	}

	tooMany := strings.Repeat(fmt.Sprint(e.bob.Alias)+",", maxMemberList) + fmt.Sprint(e.bob.Alias)
	if r := e.do("PUT", rp+"/members", req{token: e.alice.token, form: form("members_admin_ids", fmt.Sprint(e.alice.Alias),
		"members_member_ids", tooMany)}); r.status != 400 || !strings.Contains(r.String(), "more than") {
		t.Fatalf("PUT members with %d in a list = %s, want 400", maxMemberList+1, r)
	}
}

// TestEventsFollowBulkAddition checks that accounts added several at a
// time follow the room on their live streams from the addition on: the
// feed's change names no account, so the fan-out asks which streams'
// accounts joined.
func TestEventsFollowBulkAddition(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()
	dave := e.newUser("dave", "Dave")
	s := e.openStream(t, e.carol, "", nil)
	d := e.openStream(t, dave, "", nil)
	// A stream's response starts once the fan-out has it, with the rooms
	// its account is in then: the post below, before the addition, is not
	// theirs.
	e.api.fan.mu.Lock()
	streams := len(e.api.fan.subs)
	e.api.fan.mu.Unlock()
	if streams != 2 {
		t.Fatalf("%d streams registered once both responses began, want 2", streams)
	}
	e.post(e.alice, e.room, "before carol and dave")
	if err := e.node.AddMembers(ctx, e.alice.Handle, e.room.ID, []node.MemberSpec{{Account: e.carol.ID}, {Account: dave.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*stream{s, d} {
		if ev := st.nextBut("notice"); ev.event != "members" || ev.data.RoomID != e.room.Alias {
			t.Fatalf("first event = %+v, want the addition (a message of a room not joined leaked?)", ev)
		}
	}
	e.post(e.alice, e.room, "welcome both")
	for _, st := range []*stream{s, d} {
		if ev := st.nextBut("notice"); ev.event != "message" || ev.data.Message.Body != "welcome both" {
			t.Fatalf("after the addition: %+v", ev)
		}
	}
}

// TestBulkRemovalOutlivesWriteTimeout: a PUT that takes hundreds of
// members out (an event each) may take longer than WriteTimeout, which
// bounds the client's reading of the answer, not the work: the client
// still gets it.
func TestBulkRemovalOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, Config{WriteTimeout: 100 * time.Millisecond, RateLimit: -1})
	addr := serveReal(t, e)
	ctx := t.Context()
	members := map[protocol.AccountID]protocol.Role{e.alice.ID: protocol.RoleAdmin}
	for i := range 300 {
		a, err := e.node.CreateAccount(ctx, node.NewAccount{Handle: protocol.Handle(fmt.Sprintf("m%03d", i))})
		if err != nil {
			t.Fatal(err)
		}
		members[a.ID] = protocol.RoleMember
	}
	if err := e.node.SetMembers(ctx, e.alice.Handle, e.room.ID, members); err != nil {
		t.Fatal(err)
	}
	body := strings.NewReader(form("members_admin_ids", fmt.Sprint(e.alice.Alias)).Encode())
	r, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/v2/rooms/%d/members", addr, e.room.Alias), body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-ChatWorkToken", e.alice.token)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("PUT members: %v", err)
	}
	defer resp.Body.Close()
	var got map[string][]uint64
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT members after %v: %s, %v", time.Since(start), resp.Status, err)
	}
	if len(got["admin"]) != 1 || len(got["member"]) != 0 {
		t.Fatalf("answer %v, want alice alone", got)
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Logf("the removals took %v, less than the write timeout: the test proves nothing on this machine", took)
	}
}
