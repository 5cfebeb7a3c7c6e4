package nodetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestReceipts checks delivery receipts between two and three real nodes:
// each node acknowledges what it receives (with its own events, or a
// node.ack), a stopped node's receipt shows the events it missed as not
// acknowledged, and once it is back they are acknowledged; the API
// serves the same receipts.
func TestReceipts(t *testing.T) {
	c := NewCluster(t, 3, Options{})
	a, b, cc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	a.User("alice")
	b.User("bob")
	cc.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), cc.As("carol")

	pair := alice.CreateRoom("A × B", bob.ID())
	alice.Post(pair, "hi")
	bob.AwaitMessages(pair, "hi")
	alice.AwaitAcknowledged(pair, b)
	bob.Post(pair, "hello")
	bob.AwaitAcknowledged(pair, a)
	// Acknowledgements are shown nowhere.
	alice.AwaitMessages(pair, "hi", "hello")

	room := alice.CreateRoom("A × B × C", bob.ID(), carol.ID())
	alice.Post(room, "one")
	carol.AwaitMessages(room, "one")
	bob.AwaitMessages(room, "one")
	alice.AwaitAcknowledged(room, b)
	alice.AwaitAcknowledged(room, cc)

	cc.Stop()
	away := alice.Post(room, "while c is away")
	bob.AwaitMessages(room, "one", "while c is away")
	alice.AwaitAcknowledged(room, b)
	r := alice.Receipt(room, cc)
	if r.Unacked == 0 || len(r.Pending) == 0 || r.Pending[0].ID != away {
		t.Fatalf("stopped node c: %d not acknowledged, pending %+v; want the post made while it was away", r.Unacked, r.Pending)
	}

	// The API shows the same.
	var out struct {
		Nodes []struct {
			NodeID  string `json:"node_id"`
			Unacked uint64 `json:"unacknowledged"`
			Pending []struct {
				EventID   string `json:"event_id"`
				MessageID string `json:"message_id"`
			} `json:"pending"`
		} `json:"nodes"`
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/rooms/%d/partners", a.URL, alice.Room(room).Alias), nil)
	req.Header.Set("X-ChatWorkToken", a.Token("alice"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET partners: %d, %v", resp.StatusCode, err)
	}
	found := false
	for _, n := range out.Nodes {
		if n.NodeID == string(cc.ID()) {
			found = n.Unacked > 0 && len(n.Pending) > 0 && n.Pending[0].EventID == away.String() && n.Pending[0].MessageID != ""
		}
	}
	if !found || len(out.Nodes) != 2 {
		t.Fatalf("API receipts %+v, want two nodes, c with the post pending", out)
	}

	cc.Start()
	carol.AwaitMessages(room, "one", "while c is away")
	alice.AwaitAcknowledged(room, cc)
}
