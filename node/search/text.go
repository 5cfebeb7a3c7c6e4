package search

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// tag matches a ChatWork notation tag as the web app's parser
// (node/web/static/js/notation.js) recognizes it.
var tag = regexp.MustCompile(`\[/?(?:To|toall|rp|qtmeta|qt|info|title|code|hr|piconname|picon|pname|dtext|task|deleted|download|preview)(?::[A-Za-z0-9._@:-]{1,200})?(?: [a-z]{1,10}=[^\s\[\]]{0,200})*\]`)

// Strip returns body with its ChatWork notation tags replaced by spaces
// (so that they are not indexed as words, and words on either side of a
// tag stay apart) and control characters dropped. The text between
// paired tags ([info]…[/info], [qt]…[/qt], [code]…[/code]) stays.
func Strip(body string) string {
	body = tag.ReplaceAllString(body, " ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, body)
}

func htmlEscape(s string) string { return html.EscapeString(s) }

// Query is a search box's input, parsed: free words, "quoted phrases" and
// filters. Names (from:, in:) are left for the caller to resolve.
type Query struct {
	Words, Phrases []string
	From           []string // from:handle
	To             []string // to:handle (tasks assigned to)
	In             []string // in:room (a name or an ID)
	After, Before  time.Time
	HasFile        bool // has:file
	IsTask         bool // is:task
	IsFile         bool // is:file
	Status         string
}

// ErrQuery is returned (wrapped) by Parse for input it cannot read.
var ErrQuery = fmt.Errorf("bad search query")

// Parse reads a query: whitespace-separated words, phrases in double
// quotes, and the filters from:HANDLE, to:HANDLE (tasks assigned to
// it), in:ROOM (in:"a room name"),
// before:YYYY-MM-DD and after:YYYY-MM-DD (days in loc: after: includes
// the day, before: excludes it), has:file, is:task, is:file (files, by
// name), is:open and is:done
// (tasks of that status). A word that only looks like a filter (an
// unknown key, a URL) is a word.
func Parse(s string, loc *time.Location) (*Query, error) {
	q := &Query{}
	for _, t := range tokens(s) {
		if t.quoted {
			if strings.TrimSpace(t.val) != "" {
				q.Phrases = append(q.Phrases, t.val)
			}
			continue
		}
		key, val, ok := strings.Cut(t.val, ":")
		if !ok || val == "" && !t.valQuoted {
			q.Words = append(q.Words, t.val)
			continue
		}
		switch strings.ToLower(key) {
		case "from":
			q.From = append(q.From, val)
		case "to":
			q.To, q.IsTask = append(q.To, val), true
		case "in":
			q.In = append(q.In, val)
		case "before", "after":
			d, err := time.ParseInLocation(time.DateOnly, val, loc)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: want a date like 2026-12-31", ErrQuery, t.val)
			}
			if strings.EqualFold(key, "before") {
				q.Before = d
			} else {
				q.After = d
			}
		case "has":
			if !strings.EqualFold(val, "file") {
				return nil, fmt.Errorf("%w: %s: only has:file is known", ErrQuery, t.val)
			}
			q.HasFile = true
		case "is":
			switch strings.ToLower(val) {
			case "task":
				q.IsTask = true
			case "file":
				q.IsFile = true
			case "open", "done":
				q.IsTask, q.Status = true, strings.ToLower(val)
			default:
				return nil, fmt.Errorf("%w: %s: want is:task, is:file, is:open or is:done", ErrQuery, t.val)
			}
		default:
			q.Words = append(q.Words, t.val)
		}
	}
	return q, nil
}

type token struct {
	val       string
	quoted    bool // "a phrase"
	valQuoted bool // key:"a value"
}

// tokens splits s at whitespace outside double quotes.
func tokens(s string) []token {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		if rs[i] == '"' {
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			out = append(out, token{val: string(rs[i+1 : j]), quoted: true})
			i = j + 1
			continue
		}
		j := i
		var b strings.Builder
		vq := false
		for j < len(rs) && !unicode.IsSpace(rs[j]) {
			if rs[j] == '"' && j > 0 && rs[j-1] == ':' {
				k := j + 1
				for k < len(rs) && rs[k] != '"' {
					k++
				}
				b.WriteString(string(rs[j+1 : min(k, len(rs))]))
				vq = true
				j = k + 1
				continue
			}
			b.WriteRune(rs[j])
			j++
		}
		out = append(out, token{val: b.String(), valQuoted: vq})
		i = j
	}
	return out
}
