package nodetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// v2 calls the ChatWork API of nd with a token and decodes the JSON answer.
func v2(t *testing.T, nd *Node, token, method, path string, form url.Values, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, nd.URL+"/v2"+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, body, err)
		}
	}
	return resp.StatusCode
}

// TestBotsOnTwoNodes: a bot on node A posts into a shared room with the
// ChatWork v2 API, a bot on node B reads it with the v2 API, mention
// included, each with its own node's numeric IDs.
func TestBotsOnTwoNodes(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("abot")
	bbot := b.User("bbot")
	room, err := a.CreateRoom(ctx, "abot", node.NewRoom{Name: "Shared", Members: []node.MemberSpec{{Account: bbot}}})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Token("abot"), b.Token("bbot")

	// A's bot addresses B's bot by A's numeric account_id for it. A's
	// admin added it knowing only its ID; its name arrives from B's node.
	var bOnA uint64
	Await(t, 20*time.Second, func() (bool, string) {
		var members []struct {
			AccountID uint64 `json:"account_id"`
			Name      string `json:"name"`
		}
		if st := v2(t, a, ta, "GET", fmt.Sprintf("/rooms/%d/members", room.Alias), nil, &members); st != 200 {
			return false, fmt.Sprint("members on A: ", st)
		}
		for _, m := range members {
			if m.Name == "Bbot" {
				bOnA = m.AccountID
			}
		}
		return bOnA != 0, fmt.Sprintf("A's member list %+v lacks B's bot by name", members)
	})
	var posted struct {
		MessageID string `json:"message_id"`
	}
	body := fmt.Sprintf("[To:%d] Bbot\nbuild passed", bOnA)
	if st := v2(t, a, ta, "POST", fmt.Sprintf("/rooms/%d/messages", room.Alias), url.Values{"body": {body}}, &posted); st != 200 || posted.MessageID == "" {
		t.Fatalf("post on A: %d %+v", st, posted)
	}

	// B's bot finds the room under B's room_id and reads the message.
	var rooms []struct {
		RoomID  uint64 `json:"room_id"`
		Name    string `json:"name"`
		Mention int    `json:"mention_num"`
	}
	var onB uint64
	Await(t, 20*time.Second, func() (bool, string) {
		v2(t, b, tb, "GET", "/rooms", nil, &rooms)
		for _, r := range rooms {
			if r.Name == "Shared" && r.Mention == 1 {
				onB = r.RoomID
				return true, ""
			}
		}
		return false, fmt.Sprintf("B's rooms: %+v", rooms)
	})
	var me struct {
		AccountID uint64 `json:"account_id"`
	}
	v2(t, b, tb, "GET", "/me", nil, &me)
	var msgs []struct {
		Body    string `json:"body"`
		Account struct {
			Name string `json:"name"`
		} `json:"account"`
	}
	if st := v2(t, b, tb, "GET", fmt.Sprintf("/rooms/%d/messages?force=1", onB), nil, &msgs); st != 200 || len(msgs) != 1 {
		t.Fatalf("messages on B: %d %+v", st, msgs)
	}
	if want := fmt.Sprintf("[To:%d] Bbot\nbuild passed", me.AccountID); msgs[0].Body != want || msgs[0].Account.Name != "Abot" {
		t.Fatalf("B's bot read %+v, want body %q from Abot", msgs[0], want)
	}
}

// TestJuniorAdminCannotRemoveSenior: in a room of version 2 an admin may
// not remove or demote a more senior one, and the ChatWork API answers
// 403, as for any rule the node refuses; the creator may do both.
func TestJuniorAdminCannotRemoveSenior(t *testing.T) {
	c := NewCluster(t, 1, Options{})
	a := c.Nodes[0]
	a.User("alice")
	bob := a.User("bob")
	alice := a.As("alice")
	room := alice.CreateRoom("Deal", bob)
	alice.SetRole(room, bob, protocol.RoleAdmin)
	alias := alice.Room(room).Alias
	ids := map[protocol.AccountID]uint64{}
	for _, m := range alice.Room(room).Members {
		ids[m.Account] = m.Alias
	}
	path := fmt.Sprintf("/rooms/%d/members", alias)
	aliceID, bobID := fmt.Sprint(ids[alice.ID()]), fmt.Sprint(ids[bob])
	for _, form := range []url.Values{
		{"members_admin_ids": {bobID}},                                  // removes alice
		{"members_admin_ids": {bobID}, "members_member_ids": {aliceID}}, // demotes her
	} {
		if st := v2(t, a, a.Token("bob"), "PUT", path, form, nil); st != http.StatusForbidden {
			t.Errorf("bob sets members %v: %d, want 403", form, st)
		}
	}
	if st := v2(t, a, a.Token("alice"), "PUT", path, url.Values{"members_admin_ids": {aliceID}}, nil); st != http.StatusOK {
		t.Errorf("alice removes bob: %d, want 200", st)
	}
}
