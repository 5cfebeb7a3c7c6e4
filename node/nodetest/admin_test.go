package nodetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// adminPartner is an entry of GET /api/admin/partners.
type adminPartner struct {
	NodeID    string `json:"node_id"`
	OrgName   string `json:"organization_name"`
	Connected bool   `json:"connected"`
	LastSeen  int64  `json:"last_seen"`
	Rooms     int    `json:"rooms_shared"`
}

// adminPartners reads nd's admin partner list with token.
func adminPartners(t *testing.T, nd *Node, token string) ([]adminPartner, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", nd.URL+"/api/admin/partners", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	var out []adminPartner
	return out, json.Unmarshal(body, &out)
}

// TestAdminPartnerState: node A's admin page lists partner B with the
// organization name its people carry in a shared room and as connected;
// with B stopped, as offline since it was last seen.
func TestAdminPartnerState(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	if _, err := a.CreateAccount(ctx, node.NewAccount{Handle: "root", Password: Password("root"), Admin: true}); err != nil {
		t.Fatal(err)
	}
	token := a.Token("root")
	a.User("alice")
	bob := b.User("bob")
	if _, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Shared", Members: []node.MemberSpec{{Account: bob}}}); err != nil {
		t.Fatal(err)
	}
	Await(t, 30*time.Second, func() (bool, string) {
		ps, err := adminPartners(t, a, token)
		if err != nil || len(ps) != 1 {
			return false, fmt.Sprint(ps, err)
		}
		p := ps[0]
		return p.NodeID == string(b.ID()) && p.OrgName == b.Org && p.Connected && p.Rooms == 1, fmt.Sprintf("%+v", p)
	})
	b.Stop()
	Await(t, 30*time.Second, func() (bool, string) {
		ps, err := adminPartners(t, a, token)
		if err != nil || len(ps) != 1 {
			return false, fmt.Sprint(ps, err)
		}
		p := ps[0]
		return !p.Connected && p.LastSeen > 0 && p.OrgName == b.Org, fmt.Sprintf("%+v", p)
	})
}

// TestNameReachesPartners: a new display name, set on A, shows in the
// shared room's member list on A and on partner B.
func TestNameReachesPartners(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	alice := a.User("alice")
	bob := b.User("bob")
	room, err := a.CreateRoom(ctx, "alice", node.NewRoom{Name: "Shared", Members: []node.MemberSpec{{Account: bob}}})
	if err != nil {
		t.Fatal(err)
	}
	Await(t, 30*time.Second, func() (bool, string) {
		_, err := b.Room(ctx, "bob", room.ID)
		return err == nil, fmt.Sprint(err)
	})
	if err := a.SetName(ctx, "alice", "Alice Sato-Kimura"); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		nd *Node
		as string
	}{{a, "alice"}, {b, "bob"}} {
		Await(t, 30*time.Second, func() (bool, string) {
			r, err := x.nd.Room(ctx, protocol.Handle(x.as), room.ID)
			if err != nil {
				return false, err.Error()
			}
			for _, m := range r.Members {
				if m.Account == alice {
					return m.Name == "Alice Sato-Kimura", fmt.Sprintf("on %s: %q", x.nd.Name, m.Name)
				}
			}
			return false, "alice is not a member on " + x.nd.Name
		})
	}
}
