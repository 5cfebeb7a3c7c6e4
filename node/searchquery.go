package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/horenso/horenso/node/search"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// SearchQuery is a search as an account types it.
type SearchQuery struct {
	// Q is the search box's text: words, "phrases", and the filters
	// from:HANDLE, to:HANDLE, in:ROOM, before:/after:YYYY-MM-DD (UTC days), has:file,
	// is:task, is:file, is:open, is:done (see search.Parse).
	Q string
	// Kinds, if not empty, limits the search to these kinds of thing
	// (as is:task and is:file do).
	Kinds []SearchKind
	// ByRelevance orders by score; default: newest first.
	ByRelevance bool
	// Offset is where the page starts: 0, or a previous result's Next.
	Offset int
	// Limit is the page's size. Default 20, at most MaxSearchPage.
	Limit int
}

// SearchKind is what a search finds: "message", "task", "file" or
// "room" (search.KindMessage…), for callers that do not import
// node/search.
type SearchKind = search.Kind

// MaxSearchPage is the most hits one Search returns.
const MaxSearchPage = 100

// SearchHit is one thing found: a message (Message set), a task (Task
// set), a file (File set, and Message, its post), or a room's name or
// description (none set).
type SearchHit struct {
	Kind     search.Kind     `json:"kind"`
	Room     protocol.RoomID `json:"room"`
	RoomName string          `json:"room_name"`
	Time     int64           `json:"time"` // unix ms
	Score    float64         `json:"score"`
	// Snippet is HTML: the text around the match, escaped, with the
	// matched words in <mark>…</mark>; no other markup.
	Snippet string   `json:"snippet"`
	Message *Message `json:"message,omitempty"`
	Task    *Task    `json:"task,omitempty"`
	File    *File    `json:"file,omitempty"`
}

// SearchResult is a page of hits.
type SearchResult struct {
	// Total counts the matches among the rooms the account is in, before
	// each is checked (a message the account may not read under its
	// room's history visibility is counted but not shown). Newest first,
	// a page found among recent messages is not counted further:
	// TotalExact is then false and Total a lower bound.
	Total      uint64      `json:"total"`
	TotalExact bool        `json:"total_exact"`
	Hits       []SearchHit `json:"hits"`
	// Next is the Offset of the next page; 0 if this is the last.
	Next int `json:"next,omitempty"`
	// Lag is how many change feed entries the index is behind: what
	// happened in them may not be found yet.
	Lag uint64 `json:"lag"`
}

// Search finds the messages, tasks and rooms matching q that as may read
// now: in rooms it is a member of, and, in a room whose history is
// visible only to members since they joined, only what it may read. It
// returns ErrInvalid (with a problem for the client) for a query it
// cannot read or one that searches for nothing.
func (n *Node) Search(ctx context.Context, as protocol.Handle, q SearchQuery) (*SearchResult, error) {
	p, err := search.Parse(q.Q, time.UTC)
	if err != nil {
		return nil, problem(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), search.ErrQuery.Error()+": "))
	}
	if len(p.Words)+len(p.Phrases)+len(p.From)+len(p.To)+len(p.In) == 0 && !p.HasFile && !p.IsTask && !p.IsFile && p.After.IsZero() && p.Before.IsZero() {
		return nil, problem(ErrInvalid, "the search is empty")
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, MaxSearchPage)
	q.Offset = max(q.Offset, 0)
	req := search.Request{Words: p.Words, Phrases: p.Phrases, After: p.After, Before: p.Before, HasFile: p.HasFile,
		Status: p.Status, ByRelevance: q.ByRelevance}
	req.Kinds = append(req.Kinds, q.Kinds...)
	if p.IsTask {
		req.Kinds = append(req.Kinds, search.KindTask)
	}
	if p.IsFile {
		req.Kinds = append(req.Kinds, search.KindFile)
	}
	for _, f := range p.From {
		req.Authors = append(req.Authors, string(n.authorID(f)))
	}
	for _, f := range p.To {
		req.Assignees = append(req.Assignees, string(n.authorID(f)))
	}
	names := map[string]string{} // room ID → name, of the rooms searched
	var aliasRooms []protocol.RoomID
	for _, in := range p.In {
		if a, err := strconv.ParseUint(in, 10, 64); err == nil {
			if id, err := n.RoomByAlias(ctx, a); err == nil {
				aliasRooms = append(aliasRooms, id)
			}
		}
	}
	err = n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		ms, err := tx.RoomsOf(me.ID)
		if err != nil {
			return err
		}
		all := map[string]string{}
		for _, m := range ms {
			c, err := n.control(tx, m.Room)
			if err != nil {
				return err
			}
			all[m.Room.String()] = c.Name
		}
		if len(p.In) == 0 {
			names = all
			return nil
		}
		for _, id := range aliasRooms {
			if name, ok := all[id.String()]; ok {
				names[id.String()] = name
			}
		}
		for _, in := range p.In {
			if name, ok := all[strings.ToLower(in)]; ok {
				names[strings.ToLower(in)] = name
			}
			exact := false
			for id, name := range all {
				if strings.EqualFold(name, in) {
					names[id], exact = name, true
				}
			}
			if exact {
				continue
			}
			for id, name := range all {
				if name != "" && strings.Contains(strings.ToLower(name), strings.ToLower(in)) {
					names[id] = name
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &SearchResult{Hits: []SearchHit{}, Lag: n.SearchStatus().Lag}
	if len(names) == 0 {
		return out, nil
	}
	for id := range names {
		req.Rooms = append(req.Rooms, id)
	}
	// Hits the account may not read are dropped, so a page is filled
	// from a few index pages; Next says where the index left off.
	offset := q.Offset
	for round := 0; round < 5 && len(out.Hits) < q.Limit; round++ {
		req.From, req.Size = offset, q.Limit-len(out.Hits)
		n.search.mu.RLock()
		var res *search.Result
		if n.search.idx == nil {
			err = errors.New("search index is being replaced")
		} else {
			res, err = n.search.idx.Search(ctx, req)
		}
		n.search.mu.RUnlock()
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out.Total, out.TotalExact = res.Total, res.Exact
		for _, h := range res.Hits {
			offset++
			if hit, ok := n.readableHit(ctx, as, h); ok {
				hit.RoomName = names[h.Room]
				out.Hits = append(out.Hits, hit)
			}
		}
		if len(res.Hits) < req.Size || res.Exact && uint64(offset) >= res.Total {
			offset = 0
			break
		}
	}
	out.Next = offset
	return out, nil
}

// readableHit reads the thing hit names as as would through the message,
// task or room API, and reports whether as may read it now.
func (n *Node) readableHit(ctx context.Context, as protocol.Handle, h search.Hit) (SearchHit, bool) {
	hit := SearchHit{Kind: h.Kind, Time: h.Time, Score: h.Score, Snippet: h.Snippet}
	_, raw, _ := strings.Cut(h.ID, ":")
	switch h.Kind {
	case search.KindMessage:
		id, err := protocol.ParseEventID(raw)
		if err != nil {
			return hit, false
		}
		m, err := n.Message(ctx, as, id)
		if err != nil || m.Deleted {
			return hit, false
		}
		hit.Message, hit.Room = m, m.Room
	case search.KindTask:
		id, err := protocol.ParseEventID(raw)
		if err != nil {
			return hit, false
		}
		t, err := n.Task(ctx, as, id)
		if err != nil {
			return hit, false
		}
		hit.Task, hit.Room = t, t.Room
	case search.KindFile:
		id, err := protocol.ParseEventID(raw)
		if err != nil {
			return hit, false
		}
		f, m, err := n.fileOfPost(ctx, as, id)
		if err != nil {
			return hit, false
		}
		hit.File, hit.Message, hit.Room = f, m, f.Room
	case search.KindRoom:
		id, err := protocol.ParseRoomID(raw)
		if err != nil {
			return hit, false
		}
		if _, err := n.Room(ctx, as, id); err != nil {
			return hit, false
		}
		hit.Room = id
	default:
		return hit, false
	}
	return hit, true
}

// authorID is the account a from: filter names: a full account ID
// (handle@node), or a handle of this node.
func (n *Node) authorID(s string) protocol.AccountID {
	s = strings.TrimPrefix(s, "@")
	if strings.Contains(s, "@") {
		return protocol.AccountID(s)
	}
	return protocol.NewAccountID(n.id, protocol.Handle(s))
}
