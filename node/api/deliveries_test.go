package api

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestRoomPartnersAndDeliveries checks the shape of a room's partners and
// of its messages' deliveries on a node whose partner never answered: the
// partner node is listed offline, not a partner, with nothing
// acknowledged, and the messages of this node's accounts delivered to
// nobody; unknown IDs and other rooms' messages are left out; the
// parameter and membership are checked. (nodetest's
// TestPartnerStateAndDeliveries has a partner that answers.)
func TestRoomPartnersAndDeliveries(t *testing.T) {
	e := newEnv(t, Config{})
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	far := protocol.NodeIDFromKey(pub)
	r, err := e.node.CreateRoom(t.Context(), e.alice.Handle, node.NewRoom{Name: "With partner",
		Members: []node.MemberSpec{{Account: protocol.NewAccountID(far, "zoe")}, {Account: e.bob.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	mine := e.post(e.alice, r, "mine")
	bobs := e.post(e.bob, r, "bob's")
	other := e.post(e.alice, e.room, "elsewhere")

	var ps struct {
		Nodes []struct {
			NodeID   string `json:"node_id"`
			Org      string `json:"organization_name"`
			Partner  bool   `json:"partner"`
			State    string `json:"state"`
			LastSeen int64  `json:"last_seen"`
			Unacked  uint64 `json:"unacknowledged"`
		} `json:"nodes"`
	}
	e.do("GET", fmt.Sprintf("/api/rooms/%d/partners", r.Alias), req{token: e.alice.token}).decode(t, &ps)
	if len(ps.Nodes) != 1 || ps.Nodes[0].NodeID != string(far) || ps.Nodes[0].State != "offline" ||
		ps.Nodes[0].Partner || ps.Nodes[0].LastSeen != 0 || ps.Nodes[0].Unacked == 0 {
		t.Fatalf("partners = %+v, want the far node offline, never seen, not a partner, behind", ps)
	}

	path := fmt.Sprintf("/api/rooms/%d/deliveries", r.Alias)
	ids := func(ms ...*node.Message) string {
		var s []string
		for _, m := range ms {
			s = append(s, fmt.Sprint(m.Alias))
		}
		return strings.Join(s, ",")
	}
	resp := e.do("GET", path, req{token: e.alice.token, form: form("message_ids", ids(mine, bobs, other)+",999999")})
	if resp.status != http.StatusOK {
		t.Fatalf("deliveries = %s", resp)
	}
	if got, want := strings.TrimSpace(string(resp.body)),
		fmt.Sprintf(`{"room_id":%d,"messages":[{"message_id":"%d","delivered_to":[]},{"message_id":"%d","delivered_to":[]}]}`,
			r.Alias, mine.Alias, bobs.Alias); got != want {
		t.Fatalf("deliveries = %s, want %s", got, want)
	}
	// Bob reads the same: deliveries are the node's, not only the author's.
	if r2 := e.do("GET", path, req{token: e.bob.token, form: form("message_ids", ids(mine))}); !strings.Contains(string(r2.body), fmt.Sprintf(`"%d"`, mine.Alias)) {
		t.Fatalf("deliveries for bob = %s", r2)
	}

	many := strings.TrimSuffix(strings.Repeat("1,", 201), ",")
	for _, c := range []struct {
		name   string
		token  string
		ids    string
		status int
	}{
		{"not a member", e.carol.token, ids(mine), http.StatusNotFound},
		{"not a number", e.alice.token, "1,x", http.StatusBadRequest},
		{"too many", e.alice.token, many, http.StatusBadRequest},
		{"none", e.alice.token, "", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("GET", path, req{token: c.token, form: form("message_ids", c.ids)})
			if resp.status != c.status {
				t.Fatalf("status %s, want %d", resp, c.status)
			}
			if c.status != http.StatusOK {
				resp.errors(t)
			}
		})
	}
}
