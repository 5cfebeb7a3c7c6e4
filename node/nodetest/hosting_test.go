package nodetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// plant makes a room of version 2 created by mallory on the node with
// key, listing members, followed by posts messages of mallory's; it
// returns the room and the events' wire forms, parents first.
func plant(t *testing.T, key ed25519.PrivateKey, members []protocol.AccountID, posts int) (protocol.RoomID, [][]byte, []protocol.EventID) {
	t.Helper()
	origin := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	rc := &protocol.RoomCreate{Kind: protocol.KindGroup, Name: "Planted", Nonce: make([]byte, 8),
		Creator: protocol.MemberInfo{Account: protocol.NewAccountID(origin, "mallory"), Role: protocol.RoleAdmin}}
	for _, a := range members {
		rc.Members = append(rc.Members, protocol.MemberInfo{Account: a, Role: protocol.RoleMember})
	}
	rand.Read(rc.Nonce)
	e, err := protocol.Sign(key, protocol.Event{Version: protocol.Version, Author: "mallory", Time: time.Now().UnixMilli()}, rc)
	if err != nil {
		t.Fatal(err)
	}
	room := e.RoomID()
	wires, ids := [][]byte{e.Wire()}, []protocol.EventID{e.ID}
	for i := range posts {
		ev := protocol.ChainSuccessor(room, e.Version, []protocol.Order{e.Order()}, e.Order(), e.Seq)
		ev.Author, ev.Time = "mallory", time.Now().UnixMilli()
		if e, err = protocol.Sign(key, ev, &protocol.MessagePost{Body: fmt.Sprintf("%d %s", i, strings.Repeat("x", 30_000))}); err != nil {
			t.Fatal(err)
		}
		wires, ids = append(wires, e.Wire()), append(ids, e.ID)
	}
	return room, wires, ids
}

// TestHostingRule: a hostile partner names rooms to node b so that b pulls
// them. A room naming none of b's accounts (3 MB of events) and one naming
// a made-up account ceo@b are refused and counted, and nothing of them is
// stored; a room naming b's real account bob is kept.
func TestHostingRule(t *testing.T) {
	c := NewCluster(t, 1, Options{})
	b := c.Nodes[0]
	ctx := t.Context()
	bob := b.User("bob")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	carol := protocol.NewAccountID(evil, "carol")
	ceo := protocol.NewAccountID(b.ID(), "ceo")

	planted, plantedWires, plantedIDs := plant(t, key, []protocol.AccountID{carol}, 100)
	ghosted, ghostWires, ghostIDs := plant(t, key, []protocol.AccountID{ceo}, 3)
	invited, invitedWires, _ := plant(t, key, []protocol.AccountID{bob}, 3)
	rooms := map[protocol.RoomID][][]byte{planted: plantedWires, ghosted: ghostWires, invited: invitedWires}
	var none [][]byte
	h := startHostile(t, "evil", key, roomServer{hostile{serve: &none}, rooms})
	linkHostile(t, h, b)
	before := b.Status(t)

	// Naming a room b holds nothing of makes b pull it from the namer.
	name := func(room protocol.RoomID) {
		Await(t, 20*time.Second, func() (bool, string) {
			err := h.SyncRoom(ctx, b.ID(), room)
			return err == nil || errors.Is(err, p2p.ErrRefused), fmt.Sprintf("name room to b: %v", err)
		})
	}
	name(planted)
	Await(t, 20*time.Second, func() (bool, string) {
		st := b.Status(t).Hosting
		return st.RoomsRefused == 1, fmt.Sprintf("b's hosting counters %+v, want 1 room refused", st)
	})
	name(ghosted)
	Await(t, 20*time.Second, func() (bool, string) {
		st := b.Status(t).Hosting
		return st.RoomsRefused == 2 && st.GhostAccounts == 1, fmt.Sprintf("b's hosting counters %+v, want 2 rooms refused, 1 ghost", st)
	})
	name(invited)
	Await(t, 20*time.Second, func() (bool, string) {
		ms, err := b.Messages(ctx, "bob", invited, node.Page{})
		return err == nil && len(ms) == 3, fmt.Sprintf("bob sees %d messages of the room he was invited to (%v)", len(ms), err)
	})

	if held := b.FederationForTest().Held(ctx, slices.Concat(plantedIDs, ghostIDs), nil); slices.Contains(held, true) {
		t.Errorf("b stored events of refused rooms: %v", held)
	}
	after := b.Status(t)
	if after.Rooms != before.Rooms+1 || after.Hosting.RoomsRefused != 2 || after.Hosting.GhostAccounts != 1 {
		t.Errorf("b holds %d rooms (was %d), hosting %+v; want one more room, 2 refused, 1 ghost",
			after.Rooms, before.Rooms, after.Hosting)
	}
	hosted, err := b.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := hosted[invited]; !ok || len(hosted) != 2 { // bob's my chat, and the invitation
		t.Errorf("b hosts %v, want bob's rooms only", hosted)
	}
}

// TestLateInvitationInLongRoom: alice writes more than a sync frame
// (1 MiB) into a room before she adds bob. b refuses the first frame,
// which names none of its accounts, sees bob's invitation in the next one
// and fetches the room again from its start: bob reads all of it.
func TestLateInvitationInLongRoom(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("Archive")
	var bodies []string
	for i := range 50 {
		body := fmt.Sprintf("%d %s", i, strings.Repeat("x", 30_000))
		alice.Post(room, body)
		bodies = append(bodies, body)
	}
	alice.AddMember(room, bob.ID(), protocol.RoleMember)
	bob.AwaitMessages(room, bodies...)
}

// apiGet calls GET /api/path on nd with a token and decodes the answer.
func apiGet(t *testing.T, nd *Node, token, path string, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", nd.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ChatWorkToken", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: decode %q: %v", path, body, err)
	}
}

// TestUnconfirmedMembers: alice adds bob and a made-up ceo@b to a room.
// b keeps the room (bob exists) and counts ceo as a ghost. /api/ shows
// ceo unconfirmed on both nodes, and bob unconfirmed on a only until b
// has signed something naming him; the /v2 view keeps ChatWork's shape.
func TestUnconfirmedMembers(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	ctx := t.Context()
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	ceo := protocol.NewAccountID(b.ID(), "ceo")
	room := alice.CreateRoom("Deal", bob.ID(), ceo)
	bob.AwaitRoom(room)

	type member struct {
		Name        string `json:"name"`
		ChatworkID  string `json:"chatwork_id"`
		Unconfirmed *bool  `json:"unconfirmed"`
	}
	flags := func(nd *Node, token string) (map[string]bool, string) {
		alias, err := nd.RoomAlias(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		var ms []member
		apiGet(t, nd, token, fmt.Sprintf("/api/rooms/%d/members", alias), &ms)
		out := map[string]bool{}
		for _, m := range ms {
			if m.Unconfirmed == nil {
				t.Fatalf("node %s: member %+v has no unconfirmed field", nd.Name, m)
			}
			out[m.ChatworkID] = *m.Unconfirmed
		}
		return out, fmt.Sprintf("node %s: unconfirmed %v", nd.Name, out)
	}
	want := map[string]bool{"alice": false, "bob": false, "ceo": true}
	ta, tb := a.Token("alice"), b.Token("bob")
	for _, v := range []struct {
		nd    *Node
		token string
	}{{a, ta}, {b, tb}} {
		Await(t, 20*time.Second, func() (bool, string) {
			got, why := flags(v.nd, v.token)
			return fmt.Sprint(got) == fmt.Sprint(want), why
		})
	}
	if st := b.Status(t).Hosting; st.GhostAccounts != 1 || st.RoomsRefused != 0 {
		t.Errorf("b's hosting counters %+v, want 1 ghost, no room refused", st)
	}
	alias, _ := b.RoomAlias(ctx, room)
	var raw []map[string]any
	if st := v2(t, b, tb, "GET", fmt.Sprintf("/rooms/%d/members", alias), nil, &raw); st != 200 || len(raw) != 3 {
		t.Fatalf("v2 members: %d %v", st, raw)
	}
	for _, m := range raw {
		if _, ok := m["unconfirmed"]; ok {
			t.Errorf("the /v2 members view has a field ChatWork's has not: %v", m)
		}
	}
	// b does not host the room for ceo: removing bob leaves its topic.
	alice.RemoveMember(room, bob.ID())
	Await(t, 20*time.Second, func() (bool, string) {
		hosted, err := b.FederationForTest().Rooms(ctx)
		_, ok := hosted[room]
		return err == nil && !ok, fmt.Sprintf("b still hosts the room with only ceo in it (%v)", err)
	})
}
