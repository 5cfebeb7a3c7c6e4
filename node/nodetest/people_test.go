package nodetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestPeopleDirectoryWithPartners: a partner's account appears in the
// directory of the people who share a room with it, with its
// organization's name and without email; not in anyone else's.
func TestPeopleDirectoryWithPartners(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	a.User("amy")
	bob := b.User("bob")
	alice := a.As("alice")
	room := alice.CreateRoom("Shared", bob)
	alice.AwaitMembers(room, alice.ID(), bob)

	type person struct {
		ID      string `json:"id"`
		Handle  string `json:"chatwork_id"`
		Name    string `json:"name"`
		Email   string `json:"email"`
		OrgName string `json:"organization_name"`
		Local   bool   `json:"local"`
	}
	people := func(as string, q string) []person {
		t.Helper()
		req, err := http.NewRequest("GET", a.URL+"/api/people?"+url.Values{"q": {q}}.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-ChatWorkToken", a.Token(protocol.Handle(as)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ People []person }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/people: %d, %v", resp.StatusCode, err)
		}
		return out.People
	}
	// bob's name and organization reach node A with his node's profile.
	Await(t, 20*time.Second, func() (bool, string) {
		ps := people("alice", "bob")
		return len(ps) == 1 && ps[0].Name == "Bob" && ps[0].OrgName == b.Org, "alice finds " + jsonString(ps)
	})
	if ps := people("alice", "bob"); ps[0].ID != string(bob) || ps[0].Local || ps[0].Email != "" {
		t.Fatalf("bob in alice's directory = %+v", ps[0])
	}
	if ps := people("alice", ""); len(ps) != 3 || !ps[0].Local || !ps[1].Local || ps[2].Handle != "bob" {
		t.Fatalf("alice's directory = %+v, want alice, amy, then bob", ps)
	}
	if ps := people("amy", "bob"); len(ps) != 0 {
		t.Fatalf("amy shares no room with bob but finds %+v", ps)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPastPartnerName: bob, of a partner's node, writes in alice's room
// and leaves it, his last room on her node. Her node still names him as
// he was named there, "Bob" of his organization, not by his handle: the
// messages he wrote stay, and so must his name on them.
func TestPastPartnerName(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Deal", bob.ID())
	bob.AwaitRoom(room)
	bob.Post(room, "see you")
	alice.AwaitMessages(room, "see you")
	named := func() (string, string) {
		t.Helper()
		p, err := a.Profile(t.Context(), bob.ID())
		if err != nil {
			t.Fatal(err)
		}
		return p.Name, p.Org
	}
	Await(t, 30*time.Second, func() (bool, string) {
		name, _ := named()
		return name == "Bob", "alice's node names bob " + name
	})
	_, org := named()
	if err := b.LeaveRoom(t.Context(), "bob", room); err != nil {
		t.Fatal(err)
	}
	alice.AwaitMembers(room, alice.ID())
	if name, o := named(); name != "Bob" || o != org {
		t.Errorf("after he left, alice's node names bob %q of %q, want %q of %q", name, o, "Bob", org)
	}
}
