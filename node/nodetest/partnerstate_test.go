package nodetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// roomPartnersJSON is what GET /api/rooms/{room_id}/partners answers.
type roomPartnersJSON struct {
	Nodes []struct {
		NodeID   string `json:"node_id"`
		OrgName  string `json:"organization_name"`
		State    string `json:"state"`
		LastSeen int64  `json:"last_seen"`
		AckedSeq uint64 `json:"acknowledged_seq"`
	} `json:"nodes"`
}

// getJSON GETs path from nd's API as handle and decodes the answer.
func getJSON(t *testing.T, nd *Node, handle protocol.Handle, path string, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", nd.URL+path, nil)
	req.Header.Set("X-ChatWorkToken", nd.Token(handle))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestPartnerStateAndDeliveries checks what a room's people see of a
// partner: its organization and link state (offline since it stopped),
// and per message of theirs whether the partner's node has it, which
// changes only once that node acknowledged it; the live stream tells of
// both.
func TestPartnerStateAndDeliveries(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("A × B", bob.ID())
	alias := alice.Room(room).Alias
	partnersPath := fmt.Sprintf("/api/rooms/%d/partners", alias)

	partner := func() (state string, org string, lastSeen int64) {
		var out roomPartnersJSON
		getJSON(t, a, "alice", partnersPath, &out)
		if len(out.Nodes) != 1 || out.Nodes[0].NodeID != string(b.ID()) {
			t.Fatalf("partners of the room: %+v, want node b alone", out)
		}
		n := out.Nodes[0]
		return n.State, n.OrgName, n.LastSeen
	}
	deliveredTo := func(ids ...protocol.EventID) map[string][]string {
		var qs []string
		for _, id := range ids {
			m, err := a.MessageAlias(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			qs = append(qs, fmt.Sprint(m))
		}
		var out struct {
			Messages []struct {
				MessageID   string   `json:"message_id"`
				DeliveredTo []string `json:"delivered_to"`
			} `json:"messages"`
		}
		getJSON(t, a, "alice", fmt.Sprintf("/api/rooms/%d/deliveries?message_ids=%s", alias, strings.Join(qs, ",")), &out)
		m := map[string][]string{}
		for _, d := range out.Messages {
			m[d.MessageID] = d.DeliveredTo
		}
		return m
	}
	aliasOf := func(id protocol.EventID) string {
		m, err := a.MessageAlias(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(m)
	}

	hi := alice.Post(room, "hi")
	bob.AwaitMessages(room, "hi")
	hello := bob.Post(room, "hello")
	alice.AwaitMessages(room, "hi", "hello")
	Await(t, 10*time.Second, func() (bool, string) {
		state, org, _ := partner()
		d := deliveredTo(hi)
		return state == "connected" && org == b.Org && slices.Equal(d[aliasOf(hi)], []string{string(b.ID())}),
			fmt.Sprintf("node b is %q of %q, hi delivered to %v", state, org, d)
	})
	// Only this node's messages are listed.
	if d := deliveredTo(hi, hello); len(d) != 1 {
		t.Fatalf("deliveries of hi and bob's hello: %v, want hi alone", d)
	}

	after := a.LastChange()
	stopped := time.Now().Unix()
	b.Stop()
	Await(t, 10*time.Second, func() (bool, string) {
		state, _, seen := partner()
		return state == "offline" && seen >= stopped-1, fmt.Sprintf("node b is %q, last seen %d (stopped at %d)", state, seen, stopped)
	})
	awaitEvent(t, a, "alice", after, "partner", 0)

	away := alice.Post(room, "while b is away")
	if d := deliveredTo(hi, away); len(d[aliasOf(away)]) != 0 || len(d[aliasOf(hi)]) != 1 {
		t.Fatalf("deliveries while b is away: %v, want hi delivered and the new post not", d)
	}

	after = a.LastChange()
	b.Start()
	bob.AwaitMessages(room, "hi", "hello", "while b is away")
	Await(t, 10*time.Second, func() (bool, string) {
		state, _, _ := partner()
		d := deliveredTo(away)
		return state == "connected" && slices.Equal(d[aliasOf(away)], []string{string(b.ID())}),
			fmt.Sprintf("node b is %q, the post made while it was away delivered to %v", state, d)
	})
	awaitEvent(t, a, "alice", after, "receipt", alias)
	awaitEvent(t, a, "alice", after, "partner", 0)

	// The index and a walk from b's latest event agree.
	r := alice.Receipt(room, b)
	var out roomPartnersJSON
	getJSON(t, a, "alice", partnersPath, &out)
	if r.AckedSeq == 0 || out.Nodes[0].AckedSeq != r.AckedSeq {
		t.Fatalf("acknowledged seq: API %d, receipt %d", out.Nodes[0].AckedSeq, r.AckedSeq)
	}
}

// awaitEvent reads nd's live stream as handle from change after on, until
// an event of type kind for room alias room (0: none) arrives.
func awaitEvent(t *testing.T, nd *Node, handle protocol.Handle, after uint64, kind string, room uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/events?after=%d", nd.URL, after), nil)
	req.Header.Set("X-ChatWorkToken", nd.Token(handle))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var seen []string
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type   string `json:"type"`
			RoomID uint64 `json:"room_id"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		if ev.Type == kind && ev.RoomID == room {
			return
		}
		seen = append(seen, fmt.Sprintf("%s/%d", ev.Type, ev.RoomID))
	}
	t.Fatalf("no %s event for room %d on the live stream after %d; saw %v (%v)", kind, room, after, seen, sc.Err())
}
