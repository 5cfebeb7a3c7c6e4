package node

import (
	"testing"

	"github.com/horenso/horenso/protocol"
)

func TestMentionsOutsideQuotes(t *testing.T) {
	const bob protocol.AccountID = "bob@node"
	for _, tc := range []struct {
		name string
		body string
		want bool
	}{
		{"to", "[To:bob@node] hi", true},
		{"toall", "[toall] hi", true},
		{"reply", "[rp aid=bob@node to=r-m] ok", true},
		{"someone else", "[To:carol@node] hi", false},
		{"to in a quote", "[qt][qtmeta aid=carol@node time=1][To:bob@node] hi[/qt] what she said", false},
		{"toall in a quote", "[qt][toall] all hands[/qt]", false},
		{"reply in a quote", "[qt][rp aid=bob@node to=r-m] ok[/qt]", false},
		{"nested quotes", "[qt][qt][To:bob@node][/qt] inner [To:bob@node][/qt] outer", false},
		{"after a nested quote", "[qt][qt]a[/qt]b[/qt][To:bob@node]", true},
		{"between quotes", "[qt]a[/qt] [To:bob@node] [qt]b[/qt]", true},
		{"unclosed quote is text", "[qt][To:bob@node] never closed", true},
		{"stray close", "[/qt][To:bob@node]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mentions(tc.body, bob); got != tc.want {
				t.Fatalf("mentions(%q) = %v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

// TestUnreadAfterDeleteAndEdit checks that a member's unread and mention
// counts follow what a message is now: a deleted one is neither, an edit
// that takes a mention out (or puts one in) changes the mention count, and
// a mention in a quote is no mention.
func TestUnreadAfterDeleteAndEdit(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	for _, h := range []protocol.Handle{"alice", "bob", "carol"} {
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: h}))
	}
	bob := protocol.NewAccountID(n.ID(), "bob")
	carol := protocol.NewAccountID(n.ID(), "carol")
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Launch", Members: []MemberSpec{{Account: bob}}}))
	counts := func(step string, unread, mentions uint64) {
		t.Helper()
		r := must[*Room](t)(n.Room(ctx, "bob", room.ID))
		if r.Unread != unread || r.Mentions != mentions {
			t.Fatalf("%s: bob's unread/mentions = %d/%d, want %d/%d", step, r.Unread, r.Mentions, unread, mentions)
		}
	}
	to := "[To:" + string(bob) + "]"
	m1 := must[*Message](t)(n.Post(ctx, "alice", room.ID, to+" please review"))
	must[*Message](t)(n.Post(ctx, "alice", room.ID, "[qt][qtmeta aid="+string(bob)+" time=1]"+to+" old[/qt] quoted"))
	m3 := must[*Message](t)(n.Post(ctx, "alice", room.ID, "plain"))
	counts("posted", 3, 1)
	// carol joins after the posts: the deletions must not touch her counts.
	if err := n.AddMember(ctx, "alice", room.ID, MemberSpec{Account: carol}); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "alice", room.ID, "[To:"+string(carol)+"] welcome"))

	if err := n.DeleteMessage(ctx, "alice", m1.ID); err != nil {
		t.Fatal(err)
	}
	counts("mention deleted", 3, 0)
	if err := n.DeleteMessage(ctx, "alice", m1.ID); err == nil {
		counts("deleted twice", 3, 0)
	}
	if err := n.EditMessage(ctx, "alice", m3.ID, to+" plain, now for bob"); err != nil {
		t.Fatal(err)
	}
	counts("mention edited in", 3, 1)
	if err := n.EditMessage(ctx, "alice", m3.ID, "plain again"); err != nil {
		t.Fatal(err)
	}
	counts("mention edited out", 3, 0)
	if err := n.DeleteMessage(ctx, "alice", m3.ID); err != nil {
		t.Fatal(err)
	}
	counts("plain deleted", 2, 0)
	if r := must[*Room](t)(n.Room(ctx, "carol", room.ID)); r.Unread != 1 || r.Mentions != 1 {
		t.Fatalf("carol's unread/mentions = %d/%d, want 1/1", r.Unread, r.Mentions)
	}
	// Marking all unread again counts from the messages as they are now.
	if _, _, err := n.MarkUnread(ctx, "bob", m1.ID); err != nil {
		t.Fatal(err)
	}
	counts("marked unread", 2, 0)
}
