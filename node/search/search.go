// Package search is the node's full-text index of what people wrote:
// messages, tasks, room names and descriptions, and file names. It wraps a Bleve index on disk and knows nothing of
// rooms, accounts or permissions: package node feeds it documents from
// its change feed and decides, at query time, which rooms the asking
// account may read (see docs/ARCHITECTURE.md, "Search").
//
// Text is analyzed for Japanese and English at once: the unicode
// tokenizer splits words, CJK runs become overlapping bigrams (so
// "会議" finds "定例会議" without a word dictionary), everything is
// lower-cased and width-folded (full-width "ＡＢＣ" is "abc"), and Latin
// words are reduced to their English stem ("meetings" finds "meeting").
// ChatWork notation tags are removed before indexing (Strip); the text
// inside [info], [qt], [code] and [title] stays.
package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	tokunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Kind is what a document is.
type Kind string

// Document kinds.
const (
	KindMessage Kind = "message"
	KindTask    Kind = "task"
	KindRoom    Kind = "room"
	KindFile    Kind = "file"
)

// Doc is one searchable thing. ID is unique across kinds (see DocID).
type Doc struct {
	ID     string
	Kind   Kind
	Room   string // the room's ID
	Author string // account ID of the author (creator of a task, uploader of a file)
	Time   int64  // unix ms: when it was posted or created
	// Text is what is searched: a message or task body (ChatWork
	// notation; Apply strips the tags), a room's name and description, a
	// file's name.
	Text      string
	HasFile   bool     // a message that carries a file
	Status    string   // a task's status: open or done
	Assignees []string // a task's assignees' account IDs
	Due       int64    // a task's due time, unix seconds; 0 if none
}

// DocID is the document ID of kind's thing id (an event, room or file ID).
func DocID(kind Kind, id string) string { return string(kind[:1]) + ":" + id }

// record is a Doc as the index holds it: field names are the mapping's.
type record struct {
	Kind      string   `json:"kind"`
	Room      string   `json:"room"`
	Author    string   `json:"author"`
	Time      float64  `json:"time"`
	Text      string   `json:"text"`
	HasFile   bool     `json:"has_file"`
	Status    string   `json:"status,omitempty"`
	Assignees []string `json:"assignee,omitempty"`
	Due       float64  `json:"due,omitempty"`
}

// Internal keys, written in the same batch as the documents they describe.
var (
	cursorKey  = []byte("cursor")  // uint64 decimal: the last change feed entry applied
	versionKey = []byte("version") // the index format; another means rebuild
	newestKey  = []byte("newest")  // int64 decimal: the latest Time of a document put
)

// FormatVersion is the index format this package writes. An index built
// with another (an older mapping or analyzer) is rebuilt by the node.
//
// Version 2: a file post is one file document (its name and message),
// no longer a message document whose text held the file notice.
const FormatVersion = "2"

// Index is a search index on disk. Its methods are safe for concurrent
// use; Apply calls are serialized.
type Index struct {
	dir string
	idx bleve.Index
	// mu serializes Apply, so that cursors only grow.
	mu sync.Mutex
	// newest is the latest Time of a document put (unix ms), kept as an
	// internal value too: where Search's time windows start.
	newest atomic.Int64
}

// Open opens the index in dir, creating an empty one if dir does not
// exist. Bleve locks dir until Close.
func Open(dir string) (*Index, error) {
	idx, err := bleve.Open(dir)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		idx, err = bleve.New(dir, newMapping())
	}
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}
	x := &Index{dir: dir, idx: idx}
	v, err := idx.GetInternal(newestKey)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		x.newest.Store(n)
	}
	return x, nil
}

// Remove deletes the index in dir, which must be closed.
func Remove(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove search index: %w", err)
	}
	return nil
}

// Close closes the index.
func (x *Index) Close() error {
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("close search index: %w", err)
	}
	return nil
}

// Dir is the index's directory.
func (x *Index) Dir() string { return x.dir }

// Built reports whether the index was completely built in this package's
// FormatVersion: false for a new index, an index of another version, or
// one whose first build was interrupted (MarkBuilt is written last).
func (x *Index) Built() (bool, error) {
	v, err := x.idx.GetInternal(versionKey)
	if err != nil {
		return false, fmt.Errorf("search index version: %w", err)
	}
	return string(v) == FormatVersion, nil
}

// Cursor returns the last change feed sequence number whose documents
// the index holds; 0 if none.
func (x *Index) Cursor() (uint64, error) {
	v, err := x.idx.GetInternal(cursorKey)
	if err != nil || v == nil {
		return 0, wrap("search index cursor", err)
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("search index cursor %q: %w", v, err)
	}
	return n, nil
}

// Batch is a set of changes Apply makes at once.
type Batch struct {
	Put    []Doc
	Delete []string // document IDs
	// Cursor, if not 0, is stored with the documents: the change feed
	// entry they bring the index up to.
	Cursor uint64
	// Built marks the index complete in FormatVersion (see Built).
	Built bool
}

// Apply writes b in one atomic, durable batch: after a crash the index
// holds all of it or none of it, its cursor with it. (Scorch's default
// waits until the batch is persisted; its unsafe_batch mode, which does
// not, also drops unpersisted batches on Close, and saved no CPU here.) Putting a document
// whose ID the index holds replaces it; deleting one it does not hold is
// no error. So applying the same changes twice leaves the same index.
func (x *Index) Apply(ctx context.Context, b Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	bb := x.idx.NewBatch()
	newest := x.newest.Load()
	for _, d := range b.Put {
		newest = max(newest, d.Time)
		r := record{Kind: string(d.Kind), Room: d.Room, Author: d.Author, Time: float64(d.Time),
			Text: Strip(d.Text), HasFile: d.HasFile, Status: d.Status, Assignees: d.Assignees, Due: float64(d.Due)}
		if err := bb.Index(d.ID, r); err != nil {
			return fmt.Errorf("index %s: %w", d.ID, err)
		}
	}
	for _, id := range b.Delete {
		bb.Delete(id)
	}
	if b.Cursor != 0 {
		bb.SetInternal(cursorKey, strconv.AppendUint(nil, b.Cursor, 10))
	}
	if b.Built {
		bb.SetInternal(versionKey, []byte(FormatVersion))
	}
	if newest != x.newest.Load() {
		bb.SetInternal(newestKey, strconv.AppendInt(nil, newest, 10))
	}
	if err := x.idx.Batch(bb); err != nil {
		return fmt.Errorf("apply search batch: %w", err)
	}
	x.newest.Store(newest)
	return nil
}

// Count returns how many documents the index holds.
func (x *Index) Count() (uint64, error) {
	n, err := x.idx.DocCount()
	return n, wrap("count search documents", err)
}

// Size returns the bytes the index takes on disk.
func (x *Index) Size() int64 {
	var total int64
	_ = walkSize(x.dir, &total)
	return total
}

func walkSize(dir string, total *int64) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.IsDir() {
			walkSize(dir+"/"+e.Name(), total)
			continue
		}
		if fi, err := e.Info(); err == nil {
			*total += fi.Size()
		}
	}
	return nil
}

// Request is a search.
type Request struct {
	// Words must each occur (for Japanese, as a run of characters);
	// Phrases must occur as written, word after word.
	Words, Phrases []string
	// Rooms limits results to these room IDs; it must not be empty (the
	// caller decides what the asker may read).
	Rooms []string
	// Authors, if not empty, limits results to these account IDs.
	Authors []string
	// Assignees, if not empty, limits results to tasks assigned to one
	// of these account IDs.
	Assignees []string
	// Kinds, if not empty, limits results to these kinds.
	Kinds []Kind
	// After and Before, if not zero, limit results to [After, Before).
	After, Before time.Time
	HasFile       bool   // only messages that carry a file, and files
	Status        string // if set, only tasks of this status
	// ByRelevance orders by score rather than newest first.
	ByRelevance bool
	From, Size  int // paging; Size default 20
}

// Hit is one result.
type Hit struct {
	ID      string
	Kind    Kind
	Room    string
	Time    int64
	Score   float64
	Snippet string // HTML: the text around the match, escaped, matches in <mark>
}

// Result is a page of results and how many match in all.
type Result struct {
	// Total is how many match; if not Exact, how many match among the
	// newest documents the search looked at: at least that many.
	Total uint64
	Exact bool
	Hits  []Hit
}

// ErrNoRooms is returned by Search for a request naming no rooms.
var ErrNoRooms = errors.New("search names no rooms")

// windows are the time spans, back from the newest document, that a
// newest-first Search looks in before it looks at everything.
var windows = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour}

// Search runs r. Newest first, it looks first among the documents of the
// last day before the newest, then the last week, month and year (skipping
// those too short for the page at the rate of matches of the last one
// tried, and going to everything after a window with none), and
// stops at the first that fills the page: every document outside a
// window is older than every one inside, so the page is the same as
// from a search of everything, at a fraction of the cost (a query's cost
// grows with how many documents match; collecting and sorting all of
// them took most of it). Total is then only a lower bound (not Exact).
func (x *Index) Search(ctx context.Context, r Request) (*Result, error) {
	if len(r.Rooms) == 0 {
		return nil, ErrNoRooms
	}
	if r.Size <= 0 {
		r.Size = 20
	}
	newest := x.newest.Load()
	if r.ByRelevance || newest == 0 {
		return x.search(ctx, r, false)
	}
	var need time.Duration // the span the matches seen so far say a page needs
	for _, w := range windows {
		if w < need {
			continue
		}
		lo := time.UnixMilli(newest).Add(-w)
		if !r.After.IsZero() && !lo.After(r.After) {
			break // the window holds all that r allows
		}
		wr := r
		wr.After = lo
		res, err := x.search(ctx, wr, true)
		if err != nil {
			return nil, err
		}
		if len(res.Hits) == r.Size {
			res.Exact = false
			return res, nil
		}
		if res.Total == 0 {
			break // rare: the whole index costs little more than a window
		}
		// At the rate of this window, the page needs twice this span
		// (the next window that holds it, or everything).
		need = time.Duration(min(2*float64(w)*float64(r.From+r.Size)/float64(res.Total), float64(1<<62)))
	}
	return x.search(ctx, r, false)
}

// search runs r over the whole index. With inline, the snippets come
// with the hits (see below for when that is the cheaper way).
func (x *Index) search(ctx context.Context, r Request, inline bool) (*Result, error) {
	var must []query.Query
	must = append(must, anyOf("room", r.Rooms))
	for _, w := range r.Words {
		must = append(must, wordQuery(w))
	}
	for _, p := range r.Phrases {
		q := query.NewMatchPhraseQuery(p)
		q.SetField("text")
		must = append(must, q)
	}
	if len(r.Authors) > 0 {
		must = append(must, anyOf("author", r.Authors))
	}
	if len(r.Assignees) > 0 {
		must = append(must, anyOf("assignee", r.Assignees))
	}
	if len(r.Kinds) > 0 {
		ks := make([]string, len(r.Kinds))
		for i, k := range r.Kinds {
			ks[i] = string(k)
		}
		must = append(must, anyOf("kind", ks))
	}
	if !r.After.IsZero() || !r.Before.IsZero() {
		var lo, hi *float64
		if !r.After.IsZero() {
			v := float64(r.After.UnixMilli())
			lo = &v
		}
		if !r.Before.IsZero() {
			v := float64(r.Before.UnixMilli())
			hi = &v
		}
		t := true
		f := false
		q := query.NewNumericRangeInclusiveQuery(lo, hi, &t, &f)
		q.SetField("time")
		must = append(must, q)
	}
	if r.HasFile {
		q := query.NewBoolFieldQuery(true)
		q.SetField("has_file")
		must = append(must, query.NewDisjunctionQuery([]query.Query{q, term("kind", string(KindFile))}))
	}
	if r.Status != "" {
		must = append(must, term("status", r.Status))
	}
	if r.Size <= 0 {
		r.Size = 20
	}
	req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(must), r.Size, r.From, false)
	req.Fields = []string{"kind", "room", "time"}
	if r.ByRelevance {
		req.SortBy([]string{"-_score", "-time"})
	} else {
		req.SortBy([]string{"-time", "-_id"})
		req.Score = bleve.ScoreNone // not shown, not used: skip computing it
	}
	text := len(r.Words)+len(r.Phrases) > 0
	if !text {
		req.Fields = append(req.Fields, "text")
	}
	// Highlighting makes every searcher of the query read term
	// locations, which turns off scorch's bitmap evaluation of the room,
	// time and other filters: they are then iterators that skip to the
	// next candidate. Over everything, bitmaps win (a rare word, a
	// sender: 2–3× less CPU at 1,000,000 messages), and the page's
	// snippets are made by a second search of its hits alone. Inside a
	// time window iterators win (a common word: the window is small and
	// the word's bitmap is a quarter of the index), so the snippets come
	// with the hits. PERFORMANCE.md has the figures.
	if inline && text {
		req.Highlight = bleve.NewHighlightWithStyle(html.Name)
		req.Highlight.AddField("text")
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: res.Total, Exact: true, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		hit := Hit{ID: h.ID, Score: h.Score}
		hit.Kind = Kind(str(h.Fields["kind"]))
		hit.Room = str(h.Fields["room"])
		if t, ok := h.Fields["time"].(float64); ok {
			hit.Time = int64(t)
		}
		if fs := h.Fragments["text"]; len(fs) > 0 {
			hit.Snippet = fs[0]
		} else if t := str(h.Fields["text"]); t != "" {
			hit.Snippet = escapeHead(t, 200)
		}
		out.Hits = append(out.Hits, hit)
	}
	if text && !inline && len(out.Hits) > 0 {
		if err := x.snippets(ctx, out.Hits, must[1:1+len(r.Words)+len(r.Phrases)]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// snippets sets the Snippet of hits: the text around what matched the
// words and phrases of texts, highlighted, found by a search of hits
// alone. A hit changed since (edited away meanwhile) gets the head of its
// text.
func (x *Index) snippets(ctx context.Context, hits []Hit, texts []query.Query) error {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(append([]query.Query{query.NewDocIDQuery(ids)}, texts...)),
		len(ids), 0, false)
	req.Score = bleve.ScoreNone
	req.Highlight = bleve.NewHighlightWithStyle(html.Name)
	req.Highlight.AddField("text")
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return fmt.Errorf("search snippets: %w", err)
	}
	frags := make(map[string]string, len(res.Hits))
	for _, h := range res.Hits {
		if fs := h.Fragments["text"]; len(fs) > 0 {
			frags[h.ID] = fs[0]
		}
	}
	var missing []string
	for i := range hits {
		if f, ok := frags[hits[i].ID]; ok {
			hits[i].Snippet = f
		} else {
			missing = append(missing, hits[i].ID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	req = bleve.NewSearchRequestOptions(query.NewDocIDQuery(missing), len(missing), 0, false)
	req.Fields = []string{"text"}
	if res, err = x.idx.SearchInContext(ctx, req); err != nil {
		return fmt.Errorf("search snippets: %w", err)
	}
	for _, h := range res.Hits {
		for i := range hits {
			if hits[i].ID == h.ID {
				hits[i].Snippet = escapeHead(str(h.Fields["text"]), 200)
			}
		}
	}
	return nil
}

// wordQuery matches a word of the search box: every token it analyzes
// to. A single CJK character is indexed only inside bigrams (and alone
// when it has no CJK neighbour), so it is looked up as a prefix of them:
// "発" finds "発表" and a lone "発", though not a run's last character.
func wordQuery(w string) query.Query {
	if rs := []rune(strings.ToLower(w)); len(rs) == 1 && isCJK(rs[0]) {
		q := query.NewPrefixQuery(string(rs))
		q.SetField("text")
		return q
	}
	q := query.NewMatchQuery(w)
	q.SetField("text")
	q.SetOperator(query.MatchQueryOperatorAnd)
	return q
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func term(field, v string) query.Query {
	q := query.NewTermQuery(v)
	q.SetField(field)
	return q
}

func anyOf(field string, vs []string) query.Query {
	qs := make([]query.Query, len(vs))
	for i, v := range vs {
		qs[i] = term(field, v)
	}
	return query.NewDisjunctionQuery(qs)
}

// analyzer is the name of the text analyzer (see the package comment).
const analyzer = "horenso"

func newMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	err := m.AddCustomAnalyzer(analyzer, map[string]any{
		"type":      custom.Name,
		"tokenizer": tokunicode.Name,
		"token_filters": []any{
			cjk.WidthName,
			lowercase.Name,
			en.PossessiveName,
			cjk.BigramName,
			en.SnowballStemmerName,
		},
	})
	if err != nil {
		panic(fmt.Sprintf("search analyzer: %v", err)) // a static definition: cannot fail once it works
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	stored := kw()
	stored.Store = true
	text := bleve.NewTextFieldMapping()
	text.Analyzer = analyzer
	text.Store = true
	text.IncludeTermVectors = true
	text.IncludeInAll = false
	text.DocValues = false
	num := bleve.NewNumericFieldMapping()
	num.IncludeInAll = false
	storedNum := bleve.NewNumericFieldMapping()
	storedNum.Store = true
	storedNum.IncludeInAll = false
	boolean := bleve.NewBooleanFieldMapping()
	boolean.IncludeInAll = false
	boolean.DocValues = false
	boolean.Store = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("kind", stored)
	doc.AddFieldMappingsAt("room", stored)
	doc.AddFieldMappingsAt("author", kw())
	doc.AddFieldMappingsAt("status", kw())
	doc.AddFieldMappingsAt("assignee", kw())
	doc.AddFieldMappingsAt("text", text)
	doc.AddFieldMappingsAt("time", storedNum)
	doc.AddFieldMappingsAt("due", num)
	doc.AddFieldMappingsAt("has_file", boolean)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzer
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// escapeHead returns the first max runes of s, HTML-escaped: the snippet
// of a hit that matched no words (a filter-only search).
func escapeHead(s string, max int) string {
	rs := []rune(strings.TrimSpace(s))
	if len(rs) > max {
		rs = append(rs[:max], '…')
	}
	return htmlEscape(string(rs))
}
