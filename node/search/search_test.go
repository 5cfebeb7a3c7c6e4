package search

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *Index {
	t.Helper()
	x, err := Open(filepath.Join(t.TempDir(), "search"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func ids(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func TestLanguages(t *testing.T) {
	x := openTest(t)
	docs := []Doc{
		{ID: "m:1", Kind: KindMessage, Room: "r1", Author: "alice", Time: 1, Text: "新製品の発表は来週"},
		{ID: "m:2", Kind: KindMessage, Room: "r1", Author: "alice", Time: 2, Text: "定例会議は3時から"},
		{ID: "m:3", Kind: KindMessage, Room: "r1", Author: "bob", Time: 3, Text: "The Meetings were RUNNING late"},
		{ID: "m:4", Kind: KindMessage, Room: "r1", Author: "bob", Time: 4, Text: "明日のreleaseノートをreview してください"},
		{ID: "m:5", Kind: KindMessage, Room: "r1", Author: "bob", Time: 5, Text: "[To:alice@n1]アリスさん\n[info][title]議事録[/title]予算の承認[/info][code]deployScript[/code]"},
		{ID: "m:6", Kind: KindMessage, Room: "r1", Author: "bob", Time: 6, Text: "製品と新しい計画"},
		{ID: "m:7", Kind: KindMessage, Room: "r1", Author: "bob", Time: 7, Text: "ＡＢＣ全角テスト"},
	}
	if err := x.Apply(t.Context(), Batch{Put: docs, Cursor: 7}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"japanese word in sentence", "新製品", []string{"m:1"}},
		{"japanese compound tail", "会議", []string{"m:2"}},
		{"japanese single kanji", "発", []string{"m:1"}},
		{"english stemmed", "meeting", []string{"m:3"}},
		{"english case", "run", []string{"m:3"}},
		{"mixed text english", "release", []string{"m:4"}},
		{"mixed text japanese", "明日", []string{"m:4"}},
		{"mixed query", "release 明日", []string{"m:4"}},
		{"info text indexed", "予算", []string{"m:5"}},
		{"title text indexed", "議事録", []string{"m:5"}},
		{"code text indexed", "deployscript", []string{"m:5"}},
		{"tag name not indexed", "info", nil},
		{"tag argument not indexed", "alice", nil},
		{"To tag not indexed", "to", nil},
		{"width folded", "abc", []string{"m:7"}},
		{"phrase", `"were running"`, []string{"m:3"}},
		{"phrase order matters", `"running were"`, nil},
		{"all words needed", "新製品 会議", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.q, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			r, err := x.Search(t.Context(), Request{Words: p.Words, Phrases: p.Phrases, Rooms: []string{"r1"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r); !slices.Equal(got, tc.want) {
				t.Errorf("%q found %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestSnippetEscapesAndMarks(t *testing.T) {
	x := openTest(t)
	err := x.Apply(t.Context(), Batch{Put: []Doc{{ID: "m:1", Kind: KindMessage, Room: "r", Time: 1,
		Text: `<script>alert(1)</script> 新製品 & "quotes"`}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := x.Search(t.Context(), Request{Words: []string{"新製品"}, Rooms: []string{"r"}})
	if err != nil || len(r.Hits) != 1 {
		t.Fatalf("search: %v %v", r, err)
	}
	s := r.Hits[0].Snippet
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;") {
		t.Errorf("snippet not escaped: %s", s)
	}
	if !strings.Contains(s, "<mark>新製</mark>") && !strings.Contains(s, "<mark>新製品</mark>") {
		t.Errorf("snippet has no mark: %s", s)
	}
}

func TestFiltersAndOrder(t *testing.T) {
	x := openTest(t)
	day := func(d int) int64 { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC).UnixMilli() }
	docs := []Doc{
		{ID: "m:a", Kind: KindMessage, Room: "r1", Author: "alice", Time: day(1), Text: "budget plan"},
		{ID: "m:b", Kind: KindMessage, Room: "r1", Author: "bob", Time: day(2), Text: "budget budget budget"},
		{ID: "m:c", Kind: KindMessage, Room: "r2", Author: "alice", Time: day(3), Text: "budget file", HasFile: true},
		{ID: "t:d", Kind: KindTask, Room: "r1", Author: "alice", Time: day(4), Text: "budget task", Status: "open", Assignees: []string{"carol", "dave"}},
		{ID: "t:e", Kind: KindTask, Room: "r2", Author: "bob", Time: day(5), Text: "budget done", Status: "done"},
		{ID: "m:f", Kind: KindMessage, Room: "r3", Author: "alice", Time: day(6), Text: "budget secret"},
	}
	if err := x.Apply(t.Context(), Batch{Put: docs}); err != nil {
		t.Fatal(err)
	}
	both := []string{"r1", "r2"}
	for _, tc := range []struct {
		name string
		r    Request
		want []string
	}{
		{"newest first, rooms limit", Request{Words: []string{"budget"}, Rooms: both}, []string{"t:e", "t:d", "m:c", "m:b", "m:a"}},
		{"author", Request{Words: []string{"budget"}, Rooms: both, Authors: []string{"bob"}}, []string{"t:e", "m:b"}},
		{"kind", Request{Words: []string{"budget"}, Rooms: both, Kinds: []Kind{KindTask}}, []string{"t:e", "t:d"}},
		{"status", Request{Words: []string{"budget"}, Rooms: both, Kinds: []Kind{KindTask}, Status: "done"}, []string{"t:e"}},
		{"assignee", Request{Words: []string{"budget"}, Rooms: both, Assignees: []string{"carol"}}, []string{"t:d"}},
		{"has file", Request{Rooms: both, HasFile: true}, []string{"m:c"}},
		{"after", Request{Words: []string{"budget"}, Rooms: both, After: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)}, []string{"t:e", "t:d"}},
		{"before", Request{Words: []string{"budget"}, Rooms: both, Before: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, []string{"m:a"}},
		{"relevance", Request{Words: []string{"budget"}, Rooms: []string{"r1"}, Kinds: []Kind{KindMessage}, ByRelevance: true}, []string{"m:b", "m:a"}},
		{"paging", Request{Words: []string{"budget"}, Rooms: both, From: 1, Size: 2}, []string{"t:d", "m:c"}},
		{"room filter", Request{Words: []string{"budget"}, Rooms: []string{"r3"}}, []string{"m:f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := x.Search(t.Context(), Request{Words: []string{"budget"}}); err != ErrNoRooms {
		t.Errorf("search without rooms: %v, want ErrNoRooms", err)
	}
}

func TestApplyReplacesDeletesAndKeepsCursor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := x.Apply(ctx, Batch{Put: []Doc{{ID: "m:1", Kind: KindMessage, Room: "r", Text: "old words"}}, Cursor: 5}); err != nil {
		t.Fatal(err)
	}
	if err := x.Apply(ctx, Batch{Put: []Doc{{ID: "m:1", Kind: KindMessage, Room: "r", Text: "new words"}}, Cursor: 6, Built: true}); err != nil {
		t.Fatal(err)
	}
	find := func(x *Index, w string) []string {
		t.Helper()
		r, err := x.Search(ctx, Request{Words: []string{w}, Rooms: []string{"r"}})
		if err != nil {
			t.Fatal(err)
		}
		return ids(r)
	}
	if got := find(x, "old"); got != nil {
		t.Errorf("edited-away text found: %v", got)
	}
	if got := find(x, "new"); !slices.Equal(got, []string{"m:1"}) {
		t.Errorf("edited text: %v", got)
	}
	x.Close()
	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if c, err := x.Cursor(); err != nil || c != 6 {
		t.Errorf("cursor after reopen = %d, %v; want 6", c, err)
	}
	if ok, err := x.Built(); err != nil || !ok {
		t.Errorf("built after reopen = %v, %v", ok, err)
	}
	if err := x.Apply(ctx, Batch{Delete: []string{"m:1", "m:nothere"}, Cursor: 7}); err != nil {
		t.Fatal(err)
	}
	if got := find(x, "words"); got != nil {
		t.Errorf("deleted text found: %v", got)
	}
}

func TestParse(t *testing.T) {
	q, err := Parse(`from:alice in:"営業 部" "exact phrase" 会議 before:2026-12-01 after:2026-11-01 has:file is:done http://x.example/a:b`, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := Query{Words: []string{"会議", "http://x.example/a:b"}, Phrases: []string{"exact phrase"}, From: []string{"alice"},
		In: []string{"営業 部"}, Before: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), After: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		HasFile: true, IsTask: true, Status: "done"}
	if fmt.Sprint(*q) != fmt.Sprint(want) {
		t.Errorf("Parse = %+v\nwant    %+v", *q, want)
	}
	if q, err := Parse("is:file 見積", time.UTC); err != nil || !q.IsFile || q.IsTask || len(q.Words) != 1 {
		t.Errorf("Parse(is:file 見積) = %+v, %v", q, err)
	}
	for _, bad := range []string{"before:yesterday", "has:cat", "is:cake"} {
		if _, err := Parse(bad, time.UTC); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

// TestNewestFirstWindows checks that the time windows of a newest-first
// search give the same pages, in the same order, as sorting every match,
// whatever the page and however the matches spread over time.
func TestNewestFirstWindows(t *testing.T) {
	x := openTest(t)
	newest := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// Days back from the newest of each document; "odd" ones match.
	ago := []float64{0, 0.2, 0.5, 0.9, 2, 3, 6, 8, 12, 25, 29, 31, 40, 100, 200, 364, 366, 400, 800, 1500}
	var docs []Doc
	var want []string
	for i, d := range ago {
		id := fmt.Sprintf("m:%02d", i)
		text := "even"
		if i%2 == 1 || i == 0 {
			text = "odd 会議"
			want = append(want, id)
		}
		docs = append(docs, Doc{ID: id, Kind: KindMessage, Room: "r", Text: text,
			Time: newest.Add(-time.Duration(d * float64(24*time.Hour))).UnixMilli()})
	}
	if err := x.Apply(t.Context(), Batch{Put: docs}); err != nil {
		t.Fatal(err)
	}
	windowed := 0
	for size := 1; size <= len(want)+1; size++ {
		var got []string
		for from := 0; from < len(want)+2; from += size {
			r, err := x.Search(t.Context(), Request{Words: []string{"会議"}, Rooms: []string{"r"}, From: from, Size: size})
			if err != nil {
				t.Fatal(err)
			}
			if r.Exact && r.Total != uint64(len(want)) || r.Total > uint64(len(want)) {
				t.Errorf("size %d from %d: total %d (exact %v), %d match", size, from, r.Total, r.Exact, len(want))
			}
			got = append(got, ids(r)...)
			if !r.Exact {
				windowed++
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %d: %v, want %v", size, got, want)
		}
	}
	if windowed == 0 {
		t.Error("no page was found within a window")
	}
	// A lower bound of the caller's: the windows never reach past it.
	r, err := x.Search(t.Context(), Request{Words: []string{"odd"}, Rooms: []string{"r"}, Size: 3, After: newest.Add(-35 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r); !slices.Equal(got, want[:3]) {
		t.Errorf("after 35 days back: %v, want %v", got, want[:3])
	}
}
