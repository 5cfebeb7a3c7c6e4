package node

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// runTestNode runs n until the test ends.
func runTestNode(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		// Run may return the cancellation when it is stopped while still
		// starting (p2p's room listing): only an error before that counts.
		if err := n.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	<-n.Ready()
}

// awaitIndexed waits until n's search index has caught up with its feed.
func awaitIndexed(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := n.SearchStatus()
		if st.Lag == 0 && !st.Building && st.Error == "" && n.LastChange() == st.Cursor {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search index not caught up: %+v, feed at %d", st, n.LastChange())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// find returns what as finds for q, in order: a message's body as it is,
// the rest as findKinds has them.
func find(t *testing.T, n *Node, as protocol.Handle, q string) []string {
	t.Helper()
	out := findKinds(t, n, as, q)
	for i, s := range out {
		out[i] = strings.TrimPrefix(s, "message:")
	}
	return out
}

func wantFound(t *testing.T, n *Node, as protocol.Handle, q string, want ...string) {
	t.Helper()
	if got := find(t, n, as, q); !slices.Equal(got, want) {
		t.Errorf("%s searching %q found %q, want %q", as, q, got, want)
	}
}

// searchNode is a running node with accounts alice, bob and carol, and a
// clock tests move.
type searchNode struct {
	*Node
	mu  sync.Mutex
	now time.Time
}

func (s *searchNode) setNow(tm time.Time) { s.mu.Lock(); s.now = tm; s.mu.Unlock() }

func newSearchNode(t *testing.T, dir string) *searchNode {
	t.Helper()
	if !Initialized(dir) {
		if _, err := Init(dir, "Acme"); err != nil {
			t.Fatal(err)
		}
	}
	s := &searchNode{now: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
	n, err := New(Config{DataDir: dir, Logger: testLogger(t), Now: func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.now = s.now.Add(time.Millisecond)
		return s.now
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	s.Node = n
	runTestNode(t, n)
	return s
}

func (s *searchNode) accounts(t *testing.T, hs ...protocol.Handle) {
	t.Helper()
	for _, h := range hs {
		if _, err := s.CreateAccount(t.Context(), NewAccount{Handle: h, Name: strings.ToUpper(string(h))}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSearchJapaneseAndEnglish(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice")
	ctx := t.Context()
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "営業部", Description: "Sales team room"}))
	for _, b := range []string{"新製品の発表は来週", "定例会議は月曜", "The meetings are Running late",
		"明日のreleaseノートをreviewしてください", "[info][title]議事録[/title]予算の承認[/info]", "[To:alice@x]info"} {
		must[*Message](t)(n.Post(ctx, "alice", room.ID, b))
	}
	wantFound(t, n.Node, "alice", "新製品", "新製品の発表は来週")
	wantFound(t, n.Node, "alice", "会議", "定例会議は月曜")
	wantFound(t, n.Node, "alice", "meeting", "The meetings are Running late")
	wantFound(t, n.Node, "alice", "RUN", "The meetings are Running late")
	wantFound(t, n.Node, "alice", "release 明日", "明日のreleaseノートをreviewしてください")
	wantFound(t, n.Node, "alice", "予算", "[info][title]議事録[/title]予算の承認[/info]")
	wantFound(t, n.Node, "alice", "info", "[To:alice@x]info") // the word, not the tag
	wantFound(t, n.Node, "alice", `"are running"`, "The meetings are Running late")
	wantFound(t, n.Node, "alice", "営業", "room:営業部")
	wantFound(t, n.Node, "alice", "sales", "room:営業部")
}

func TestSearchFilters(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice", "bob")
	ctx := t.Context()
	bob := protocol.NewAccountID(n.ID(), "bob")
	sales := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Sales", Members: []MemberSpec{{Account: bob}}}))
	dev := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Dev team", Members: []MemberSpec{{Account: bob}}}))
	n.setNow(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	must[*Message](t)(n.Post(ctx, "alice", sales.ID, "budget from alice"))
	n.setNow(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	must[*Message](t)(n.Post(ctx, "bob", sales.ID, "budget from bob"))
	n.setNow(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
	must[*Message](t)(n.Post(ctx, "bob", dev.ID, "budget in dev [download:12]budget.xlsx"))
	n.setNow(time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC))
	task := must[*Task](t)(n.CreateTask(ctx, "alice", dev.ID, NewTask{Body: "budget review", Assignees: []protocol.AccountID{bob}}))
	for _, tc := range []struct{ q, want string }{
		{"budget", "task:budget review|budget in dev [download:12]budget.xlsx|budget from bob|budget from alice"},
		{"budget from:bob", "budget in dev [download:12]budget.xlsx|budget from bob"},
		{"budget from:bob@" + string(n.ID()), "budget in dev [download:12]budget.xlsx|budget from bob"},
		{"budget in:sales", "budget from bob|budget from alice"},
		{`budget in:"dev team"`, "task:budget review|budget in dev [download:12]budget.xlsx"},
		{"budget in:" + dev.ID.String(), "task:budget review|budget in dev [download:12]budget.xlsx"},
		{"budget in:nowhere", ""},
		{"budget after:2026-11-03", "task:budget review|budget in dev [download:12]budget.xlsx"},
		{"budget before:2026-11-02", "budget from alice"},
		{"budget after:2026-11-02 before:2026-11-03", "budget from bob"},
		{"has:file", "budget in dev [download:12]budget.xlsx"},
		{"is:task", "task:budget review"},
		{"budget is:open", "task:budget review"},
		{"budget is:done", ""},
		{"to:bob", "task:budget review"},
		{"budget to:alice", ""},
	} {
		t.Run(tc.q, func(t *testing.T) {
			if got := strings.Join(find(t, n.Node, "bob", tc.q), "|"); got != tc.want {
				t.Errorf("%q found %q, want %q", tc.q, got, tc.want)
			}
		})
	}
	done := protocol.TaskDone
	must[*Task](t)(n.UpdateTask(ctx, "bob", task.ID, TaskChange{Status: &done}))
	wantFound(t, n.Node, "bob", "budget is:done", "task:budget review")

	// Paging: pages of one, newest first, then relevance order.
	var got []string
	offset := 0
	for range 10 {
		res, err := n.Search(ctx, "bob", SearchQuery{Q: "budget from:bob", Limit: 1, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			got = append(got, h.Message.Body)
			if !strings.Contains(h.Snippet, "<mark>budget</mark>") {
				t.Errorf("snippet %q has no highlighted word", h.Snippet)
			}
		}
		if offset = res.Next; offset == 0 {
			break
		}
	}
	if want := []string{"budget in dev [download:12]budget.xlsx", "budget from bob"}; !slices.Equal(got, want) {
		t.Errorf("pages: %q, want %q", got, want)
	}
	if _, err := n.Search(ctx, "bob", SearchQuery{Q: "before:someday"}); err == nil {
		t.Error("a bad date was accepted")
	}
	if _, err := n.Search(ctx, "bob", SearchQuery{Q: "   "}); err == nil {
		t.Error("an empty search was accepted")
	}
}

func TestSearchPermissions(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice", "bob", "carol")
	ctx := t.Context()
	bob := protocol.NewAccountID(n.ID(), "bob")
	carol := protocol.NewAccountID(n.ID(), "carol")
	private := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Alice private"}))
	shared := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Shared", Members: []MemberSpec{{Account: bob}}}))
	must[*Message](t)(n.Post(ctx, "alice", private.ID, "secret merger plan"))
	must[*Message](t)(n.Post(ctx, "alice", shared.ID, "shared merger notes"))
	wantFound(t, n.Node, "alice", "merger", "shared merger notes", "secret merger plan")
	wantFound(t, n.Node, "bob", "merger", "shared merger notes")
	wantFound(t, n.Node, "bob", "secret")
	wantFound(t, n.Node, "bob", "private")
	wantFound(t, n.Node, "bob", "merger in:"+private.ID.String())

	if err := n.RemoveMember(ctx, "alice", shared.ID, bob); err != nil {
		t.Fatal(err)
	}
	wantFound(t, n.Node, "bob", "merger")

	// History visible to members only since they joined: carol, added
	// later, finds what was posted after she joined, and what was posted
	// before the setting (which it does not change), but not what was
	// posted under it before she joined.
	joined := protocol.VisibilityJoined
	if err := n.SetHistory(ctx, "alice", shared.ID, HistoryChange{Visibility: &joined}); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "alice", shared.ID, "merger before carol"))
	if err := n.AddMember(ctx, "alice", shared.ID, MemberSpec{Account: carol}); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "alice", shared.ID, "merger after carol"))
	wantFound(t, n.Node, "carol", "merger", "merger after carol", "shared merger notes")
	wantFound(t, n.Node, "alice", "merger in:shared", "merger after carol", "merger before carol", "shared merger notes")
}

func TestSearchEditAndDelete(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice")
	ctx := t.Context()
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Room"}))
	m := must[*Message](t)(n.Post(ctx, "alice", room.ID, "first draft wording"))
	gone := must[*Message](t)(n.Post(ctx, "alice", room.ID, "delete this wording"))
	wantFound(t, n.Node, "alice", "wording", "delete this wording", "first draft wording")
	if err := n.EditMessage(ctx, "alice", m.ID, "final text"); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteMessage(ctx, "alice", gone.ID); err != nil {
		t.Fatal(err)
	}
	wantFound(t, n.Node, "alice", "wording")
	wantFound(t, n.Node, "alice", "draft")
	wantFound(t, n.Node, "alice", "final", "final text")
	newName := "Renamed"
	if err := n.UpdateRoom(ctx, "alice", room.ID, RoomChange{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	wantFound(t, n.Node, "alice", "renamed", "room:Renamed")
	task := must[*Task](t)(n.CreateTask(ctx, "alice", room.ID, NewTask{Body: "old task body",
		Assignees: []protocol.AccountID{protocol.NewAccountID(n.ID(), "alice")}}))
	body := "new task body"
	must[*Task](t)(n.UpdateTask(ctx, "alice", task.ID, TaskChange{Body: &body}))
	wantFound(t, n.Node, "alice", "old")
	wantFound(t, n.Node, "alice", "new", "task:new task body")
}

// TestSearchReindexAndRebuild checks that Reindex rebuilds the index
// from the store, and that a node whose index is gone (or was never
// built, as after an upgrade) builds it at start.
func TestSearchReindex(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice")
	ctx := t.Context()
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Room"}))
	for i := range 30 {
		must[*Message](t)(n.Post(ctx, "alice", room.ID, strings.Repeat("x", i)+" 議事録"))
	}
	awaitIndexed(t, n.Node)
	before := n.SearchStatus().Documents
	if err := n.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if got := find(t, n.Node, "alice", "議事録"); len(got) != 30 {
		t.Fatalf("after reindex found %d, want 30", len(got))
	}
	if st := n.SearchStatus(); st.Documents != before || st.Documents < 31 {
		t.Errorf("documents = %d after reindex, %d before; want the same, at least 31", st.Documents, before)
	}
	// The index keeps following the feed after the swap.
	must[*Message](t)(n.Post(ctx, "alice", room.ID, "after the reindex"))
	wantFound(t, n.Node, "alice", "reindex", "after the reindex")
}

func TestSearchBuildsMissingIndex(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	// A node that never ran its indexer (as one upgraded from before
	// search): posts without Run.
	n, err := New(Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice"}))
	room := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Room"}))
	for range 5 {
		must[*Message](t)(n.Post(ctx, "alice", room.ID, "会議の議題"))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, searchDir)); err != nil {
		t.Fatal(err)
	}
	m := newSearchNode(t, dir)
	if got := find(t, m.Node, "alice", "会議"); len(got) != 5 {
		t.Fatalf("found %d, want 5", len(got))
	}
}
