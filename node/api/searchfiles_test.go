package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestSearchFilesAPI: GET /api/search finds a file by its Japanese or
// English name, as a result of type "file" carrying the file (its
// file_id for the download) and its post; kind=file keeps only files;
// an account outside the room finds nothing.
func TestSearchFilesAPI(t *testing.T) {
	e := newEnv(t, Config{})
	e.run()
	f, err := e.node.PostFile(t.Context(), e.alice.Handle, e.room.ID, node.NewFile{Name: "議事録_2026-12.pdf", Body: "今月の議事録",
		Data: strings.NewReader("minutes")})
	if err != nil {
		t.Fatal(err)
	}
	e.post(e.bob, e.room, "議事録は共有しました")

	res := e.searchFor(e.bob, "q", "議事録", "kind", "file")
	if len(res.Results) != 1 {
		t.Fatalf("kind=file found %+v, want the file", res.Results)
	}
	h := res.Results[0]
	if h.Type != "file" || h.File == nil || h.File.FileID != f.ID || h.File.Filename != "議事録_2026-12.pdf" ||
		h.RoomID != e.room.Alias || h.Message == nil || h.Message.MessageID != strconv.FormatUint(f.Message, 10) ||
		!strings.Contains(h.Snippet, "<mark>") {
		t.Errorf("file hit = %+v", h)
	}
	if res := e.searchFor(e.bob, "q", "議事録"); len(res.Results) != 2 {
		t.Errorf("all kinds found %d, want the file and the message", len(res.Results))
	}
	if res := e.searchFor(e.bob, "q", "議事録", "kind", "message"); len(res.Results) != 1 || res.Results[0].Type != "message" {
		t.Errorf("kind=message found %+v, want the message", res.Results)
	}
	if res := e.searchFor(e.bob, "q", "2026 is:file"); len(res.Results) != 1 || res.Results[0].File == nil {
		t.Errorf("is:file found %+v", res.Results)
	}
	if res := e.searchFor(e.carol, "q", "議事録", "kind", "file"); len(res.Results) != 0 {
		t.Errorf("carol, not in the room, found %+v", res.Results)
	}
	r := e.do(http.MethodGet, "/api/search", req{token: e.bob.token, form: form("q", "x", "kind", "folders")})
	if r.status != http.StatusBadRequest {
		t.Errorf("kind=folders: %s, want 400", r)
	}
}
