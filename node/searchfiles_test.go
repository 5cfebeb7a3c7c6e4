package node

import (
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/node/search"
	"github.com/horenso/horenso/protocol"
)

// findKinds returns what as finds for q, in order, as "kind:text": a
// file's name, a message's body, a task's body, a room's name.
func findKinds(t *testing.T, n *Node, as protocol.Handle, q string) []string {
	t.Helper()
	awaitIndexed(t, n)
	res, err := n.Search(t.Context(), as, SearchQuery{Q: q, Limit: MaxSearchPage})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var out []string
	for _, h := range res.Hits {
		switch {
		case h.File != nil:
			if h.Kind != search.KindFile || h.Message == nil || h.Message.ID != h.File.Post || h.Room != h.File.Room {
				t.Errorf("search %q: file hit %+v does not name its post and room", q, h)
			}
			out = append(out, "file:"+h.File.Name)
		case h.Message != nil:
			out = append(out, "message:"+h.Message.Body)
		case h.Task != nil:
			out = append(out, "task:"+h.Task.Body)
		default:
			out = append(out, "room:"+h.RoomName)
		}
	}
	return out
}

func wantKinds(t *testing.T, n *Node, as protocol.Handle, q string, want ...string) {
	t.Helper()
	if got := findKinds(t, n, as, q); !slices.Equal(got, want) {
		t.Errorf("%s searching %q found %q, want %q", as, q, got, want)
	}
}

// TestSearchFiles checks that a file is found by its name, in Japanese
// and English, once (as a file, not also as its post's message), only by
// those who may read its post, and no longer once the post is deleted.
func TestSearchFiles(t *testing.T) {
	n := newSearchNode(t, t.TempDir())
	n.accounts(t, "alice", "bob")
	ctx := t.Context()
	bob := protocol.NewAccountID(n.ID(), "bob")
	shared := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Shared", Members: []MemberSpec{{Account: bob}}}))
	private := must[*Room](t)(n.CreateRoom(ctx, "alice", NewRoom{Name: "Private"}))
	post := func(room protocol.RoomID, name, body string) *File {
		t.Helper()
		return must[*File](t)(n.PostFile(ctx, "alice", room, NewFile{Name: name, Body: body, Data: strings.NewReader("bytes of " + name)}))
	}
	quote := post(shared.ID, "見積書_新製品.pdf", "来月の見積です")
	post(shared.ID, "Quarterly Reports.xlsx", "")
	post(private.ID, "merger-plans.docx", "")
	must[*Message](t)(n.Post(ctx, "alice", shared.ID, "見積書は明日送ります"))

	wantKinds(t, n.Node, "alice", "is:file 見積書", "file:見積書_新製品.pdf")
	wantKinds(t, n.Node, "alice", "見積書", "message:見積書は明日送ります", "file:見積書_新製品.pdf")
	wantKinds(t, n.Node, "bob", "新製品", "file:見積書_新製品.pdf")
	wantKinds(t, n.Node, "bob", "来月", "file:見積書_新製品.pdf") // the message posted with it
	wantKinds(t, n.Node, "bob", "report", "file:Quarterly Reports.xlsx")
	wantKinds(t, n.Node, "bob", "xlsx", "file:Quarterly Reports.xlsx")
	wantKinds(t, n.Node, "alice", "plan", "file:merger-plans.docx")
	wantKinds(t, n.Node, "bob", "plan")
	wantKinds(t, n.Node, "bob", "is:file", "file:Quarterly Reports.xlsx", "file:見積書_新製品.pdf")
	wantKinds(t, n.Node, "bob", "has:file from:alice", "file:Quarterly Reports.xlsx", "file:見積書_新製品.pdf")
	// The file notice's words (its size, "file_uploaded") are not the
	// file's.
	wantKinds(t, n.Node, "alice", "file_uploaded")
	wantKinds(t, n.Node, "alice", "KB")

	// The API's kind filter, as is:file.
	res, err := n.Search(ctx, "bob", SearchQuery{Q: "見積書", Kinds: []search.Kind{search.KindFile}})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].File == nil || res.Hits[0].File.ID != quote.ID {
		t.Errorf("search 見積書 of kind file = %+v, %v; want the file %d", res, err, quote.ID)
	}

	if err := n.RemoveMember(ctx, "alice", shared.ID, bob); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, n.Node, "bob", "is:file")

	if err := n.DeleteMessage(ctx, "alice", quote.Post); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, n.Node, "alice", "見積書", "message:見積書は明日送ります")

	// A rebuilt index holds the same files.
	if err := n.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, n.Node, "alice", "is:file", "file:merger-plans.docx", "file:Quarterly Reports.xlsx")
	wantKinds(t, n.Node, "alice", "見積書", "message:見積書は明日送ります")
}
