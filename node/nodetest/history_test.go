package nodetest

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestHistoryVisibility: alice@a and bob@b share a room; one message is
// posted before the room's history visibility is set, then three after
// (one of them edited). Then carol@c and dave@a are added and alice posts
// again.
//
// With "joined", c is sent only the redacted forms of the three (its
// backup and its stored events hold none of their text) and the later
// post in full, and dave, on the node that holds every text, sees the
// three as deleted through the ChatWork API. The message posted before
// the setting stays readable for both: a setting applies from its
// room.update on. With "everything" both see every text.
func TestHistoryVisibility(t *testing.T) {
	for _, vis := range []protocol.HistoryVisibility{protocol.VisibilityJoined, protocol.VisibilityAll} {
		t.Run(string(vis), func(t *testing.T) {
			c := NewCluster(t, 3, Options{})
			a, b, cn := c.Nodes[0], c.Nodes[1], c.Nodes[2]
			a.User("alice")
			a.User("dave")
			b.User("bob")
			cn.User("carol")
			alice, bob, carol, dave := a.As("alice"), b.As("bob"), cn.As("carol"), a.As("dave")
			room := alice.CreateRoom("Deal", bob.ID())

			alice.Post(room, "before-setting-text")
			if err := a.SetHistory(t.Context(), "alice", room, node.HistoryChange{Visibility: &vis}); err != nil {
				t.Fatal(err)
			}
			bob.await(func() (bool, string) {
				h := bob.AwaitRoom(room).History
				return h != nil && h.Visibility == vis, fmt.Sprintf("sees history settings %+v", h)
			})
			early := []string{"early-alice-text", "early-bob-text", "early-edited-text"}
			alice.Post(room, "early-alice-text")
			bob.AwaitMessages(room, "before-setting-text", "early-alice-text")
			bob.Post(room, "early-bob-text")
			alice.AwaitMessages(room, "before-setting-text", "early-alice-text", "early-bob-text")
			edited := alice.Post(room, "early-posted-text")
			alice.Edit(edited, "early-edited-text")
			all := append([]string{"before-setting-text"}, early...)
			bob.AwaitMessages(room, all...)
			alice.AwaitMessages(room, all...)

			alice.AddMember(room, carol.ID(), protocol.RoleMember)
			alice.AddMember(room, dave.ID(), protocol.RoleMember)
			alice.Post(room, "late-alice-text")
			all = append(all, "late-alice-text")
			bob.AwaitMessages(room, all...)

			want := all
			if vis == protocol.VisibilityJoined {
				want = []string{"before-setting-text", "", "", "", "late-alice-text"}
			}
			for _, later := range []*Actor{carol, dave} {
				ms := later.AwaitMessages(room, want...)
				for _, m := range ms {
					if hidden := m.Body == ""; m.BeforeJoin != hidden || m.Deleted != hidden {
						t.Errorf("%s: message %q: before_join %v, deleted %v", later, m.Body, m.BeforeJoin, m.Deleted)
					}
				}
			}

			// Dave through the ChatWork API, as a bot would read the room.
			var ms []struct {
				ID   string `json:"message_id"`
				Body string `json:"body"`
			}
			// System messages aside: the node marks them.
			notices := map[string]bool{}
			daves, err := a.Messages(t.Context(), "dave", room, node.Page{Limit: node.MaxPage})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range daves {
				if m.Notice != "" {
					notices[strconv.FormatUint(m.Alias, 10)] = true
				}
			}
			path := fmt.Sprintf("/rooms/%d/messages?force=1", dave.Room(room).Alias)
			if code := v2(t, a, a.Token("dave"), "GET", path, url.Values{}, &ms); code != 200 {
				t.Fatalf("GET %s: %d", path, code)
			}
			var got []string
			for _, m := range ms {
				if !notices[m.ID] {
					got = append(got, m.Body)
				}
			}
			apiWant := slices.Clone(want)
			for i, s := range apiWant {
				if s == "" {
					apiWant[i] = "[deleted]"
				}
			}
			if !slices.Equal(got, apiWant) {
				t.Errorf("dave reads %q through the API, want %q", got, apiWant)
			}

			// What c holds: in full, or redacted, as c serves it to itself.
			redacted := 0
			err = cn.FederationForTest().Missing(t.Context(), cn.ID(), protocol.SyncWant{Room: room}, nil, func(w []byte) error {
				e, err := protocol.DecodeStored(w)
				if err != nil {
					return err
				}
				if e.Redacted() {
					redacted++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The edited message's post went when it was edited, whatever
			// the visibility; with "joined" its edit and the other two
			// posts too.
			if wantRedacted := map[protocol.HistoryVisibility]int{protocol.VisibilityJoined: 4, protocol.VisibilityAll: 1}[vis]; redacted != wantRedacted {
				t.Errorf("c holds %d redacted events, want %d", redacted, wantRedacted)
			}
			if vis == protocol.VisibilityJoined {
				requireGone(t, []*Node{cn}, early, []string{"before-setting-text", "late-alice-text"})
				// a and b keep what their members could read.
				requireGone(t, []*Node{a, b}, nil, all)
			} else {
				requireGone(t, c.Nodes, nil, all)
			}
		})
	}
}
