package nodetest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// React gives the account's reaction r to message id, or takes it back.
func (ac *Actor) React(id protocol.EventID, r protocol.Reaction, remove bool) {
	ac.t.Helper()
	_, err := ac.nd.React(ac.t.Context(), ac.Handle, id, r, remove)
	ac.check(fmt.Sprintf("react %s to %s (remove %v)", r, id, remove), err)
}

// reactionsText renders reactions as "kind:handle,handle kind:handle".
func reactionsText(rs []node.Reaction) string {
	var parts []string
	for _, r := range rs {
		var hs []string
		for _, a := range r.Accounts {
			hs = append(hs, string(a.Handle()))
		}
		slices.Sort(hs)
		parts = append(parts, string(r.Reaction)+":"+strings.Join(hs, ","))
	}
	return strings.Join(parts, " ")
}

// AwaitReactions waits until the account sees exactly the reactions want
// (as reactionsText renders them) on message id.
func (ac *Actor) AwaitReactions(id protocol.EventID, want string) {
	ac.t.Helper()
	ac.await(func() (bool, string) {
		rs, err := ac.nd.MessageReactions(ac.t.Context(), ac.Handle, id)
		got := reactionsText(rs)
		return err == nil && got == want, fmt.Sprintf("sees reactions %q (%v) on %s, want %q", got, err, id, want)
	})
}

// TestReactionsFederate: a reaction given on one organization's node
// shows on its partner's, with who gave it; taking it back, and
// concurrent reactions on both sides, converge; a read-only member may
// react.
func TestReactionsFederate(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	b.User("carol")
	alice, bob, carol := a.As("alice"), b.As("bob"), b.As("carol")

	room := alice.CreateRoom("A × B", bob.ID())
	alice.AddMember(room, carol.ID(), protocol.RoleReadonly)
	bob.AwaitRoom(room)
	carol.AwaitRoom(room)
	msg := bob.Post(room, "the contract is signed")
	alice.AwaitMessages(room, "the contract is signed")

	alice.React(msg, protocol.ReactionCracker, false)
	bob.AwaitReactions(msg, "cracker:alice")

	// Both sides at once, a read-only member among them.
	alice.React(msg, protocol.ReactionYes, false)
	bob.React(msg, protocol.ReactionYes, false)
	carol.React(msg, protocol.ReactionYes, false)
	alice.AwaitReactions(msg, "cracker:alice yes:alice,bob,carol")
	bob.AwaitReactions(msg, "cracker:alice yes:alice,bob,carol")

	// Taking one back, and reacting twice (a no-op).
	alice.React(msg, protocol.ReactionCracker, true)
	bob.React(msg, protocol.ReactionYes, false)
	bob.AwaitReactions(msg, "yes:alice,bob,carol")
	alice.AwaitReactions(msg, "yes:alice,bob,carol")

	// The live feed tells the message's room of each change.
	ctx := t.Context()
	cs, err := b.Changes(ctx, "bob", 0, node.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ch := range cs {
		if ch.Kind == node.ChangeReaction && ch.Event == msg {
			n++
		}
	}
	if n < 5 {
		t.Fatalf("bob's feed holds %d reaction changes of the message, want at least 5", n)
	}
}

// TestReactionsCatchUp: reactions given while two partners are cut off
// reach each other by catch-up sync once they are partners again, and a
// give and a take-back made on both sides converge.
func TestReactionsCatchUp(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bob")
	alice, bob := a.As("alice"), b.As("bob")
	room := alice.CreateRoom("A × B", bob.ID())
	bob.AwaitRoom(room)
	msg := alice.Post(room, "quarterly numbers")
	bob.AwaitMessages(room, "quarterly numbers")
	alice.React(msg, protocol.ReactionYes, false)
	bob.AwaitReactions(msg, "yes:alice")

	c.Unlink(a, b)
	bob.React(msg, protocol.ReactionClap, false)
	bob.React(msg, protocol.ReactionYes, false)
	alice.React(msg, protocol.ReactionYes, true)
	alice.React(msg, protocol.ReactionRoger, false)
	c.Link(a, b)
	for _, ac := range []*Actor{alice, bob} {
		ac.AwaitReactions(msg, "roger:alice clap:bob yes:bob")
	}
}

// TestHostileReactions: a partner node hosting a member of a room gossips
// reactions the rules refuse: by an account of its own that is not a
// member, and to a message of a room its member is not in. Node a rejects
// both and counts them; its member's honest reaction still shows.
func TestHostileReactions(t *testing.T) {
	c := NewCluster(t, 2, Options{})
	a := c.Nodes[0]
	ctx := t.Context()
	a.User("alice")
	alice := a.As("alice")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	evil := protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey))
	mallory := protocol.NewAccountID(evil, "mallory")
	room := alice.CreateRoom("Deal", mallory)
	other := alice.CreateRoom("Private")
	msg := alice.Post(room, "offer")
	secret := alice.Post(other, "a secret")

	hosted, err := a.FederationForTest().Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var serve [][]byte
	rooms := map[protocol.RoomID][]protocol.NodeID{room: hosted[room]}
	h := startHostile(t, "evil", key, hostile{rooms: rooms, serve: &serve})
	linkHostile(t, h, a)
	last := newest(t, a, room)
	sign := func(author protocol.Handle, c protocol.Content) []byte {
		ev := chained(context.Background(), a.FederationForTest(), room, evil, last)
		ev.Author, ev.Time = author, time.Now().UnixMilli()
		s, err := protocol.Sign(key, ev, c)
		if err != nil {
			t.Fatal(err)
		}
		return s.Wire()
	}
	gossip := map[string]func() []byte{
		"by a non-member of the partner's": func() []byte {
			return sign("eve", &protocol.MessageReact{Message: msg, Reaction: protocol.ReactionYes})
		},
		"to a message of another room": func() []byte {
			return sign("mallory", &protocol.MessageReact{Message: secret, Reaction: protocol.ReactionYes})
		},
	}
	if err := h.Join(room, rooms[room]); err != nil {
		t.Fatal(err)
	}
	// One at a time, publishing until a's pubsub has taken it (the
	// hostile node must first see a's subscription): each is rejected.
	for what, make := range gossip {
		before := a.Status(t).Network.GossipRejected
		Await(t, 20*time.Second, func() (bool, string) {
			h.Publish(ctx, room, make())
			return a.Status(t).Network.GossipRejected > before, "a has not rejected a reaction " + what
		})
	}
	h.Publish(ctx, room, sign("mallory", &protocol.MessageReact{Message: msg, Reaction: protocol.ReactionRoger}))
	alice.AwaitReactions(msg, "roger:mallory")
	alice.AwaitReactions(secret, "")
}
