package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/horenso/horenso/node/search"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// The search index (package node/search) lives in DataDir/search. The
// indexer (runIndexer, one goroutine that Run owns) follows the change
// feed: for each change after the index's cursor it reads the current
// state of what the change is about (a message, a task, a room) and puts
// it in the index, or takes it out if it is gone (deleted, soft-failed,
// expired). The cursor is kept inside the index and written in the same
// Bleve batch as the documents, so after a crash the index is exactly as
// of some cursor, and the indexer resumes after it: nothing is missed,
// and what is applied twice replaces itself (documents are keyed by the
// message, task or room ID). Posts never wait for it: the feed is written
// by the post's own transaction, the indexer reads it later.
//
// A new index, one of an older format, or a reindex (Reindex) is built
// by walking the store rather than the feed (which nodes older than the
// feed never wrote in full): the feed's position is read first, then
// every room, message and task is indexed, then the feed is followed
// from that position, which re-applies what changed during the walk.
//
// Permissions are not in the index: Search asks the index only for rooms
// the account is a member of now, and then reads each hit through the
// same checks as the message and task APIs (membership, history
// visibility, hidden events), dropping what the account may not read.

const (
	searchDir = "search"
	// indexBatch is how many feed changes (or walked documents) the
	// indexer writes in one durable batch.
	indexBatch = 1000
	// idleCursorLag is how far the index's stored cursor may trail the
	// changes read when none of them touched a document.
	idleCursorLag = 10_000
)

// searcher is the node's search index and its indexer's state.
type searcher struct {
	// mu guards idx, which Reindex swaps: Search holds it for reading.
	mu  sync.RWMutex
	idx *search.Index
	// reindex carries Reindex's requests to the indexer.
	reindex chan chan error
	// lullSeq is the feed's last entry when awaitLull last returned; only
	// the indexer's goroutine uses it.
	lullSeq uint64
	// state is what Status reports.
	stateMu sync.Mutex
	state   SearchStatus
}

// SearchStatus is the state of the search index, for operators.
type SearchStatus struct {
	// Cursor is the last change feed entry the index reflects; Lag is
	// how many entries it is behind the feed.
	Cursor uint64 `json:"cursor"`
	Lag    uint64 `json:"lag"`
	// Building is set while the index is (re)built from the store;
	// Built counts the documents indexed so far by that build.
	Building bool   `json:"building,omitempty"`
	Built    uint64 `json:"built,omitempty"`
	// Documents and Bytes are the index's size.
	Documents uint64 `json:"documents"`
	Bytes     int64  `json:"bytes"`
	// Error is the indexer's last error, if its last round failed.
	Error string `json:"error,omitempty"`
}

func (n *Node) openSearch() error {
	dir := filepath.Join(n.cfg.DataDir, searchDir)
	if err := search.Remove(dir + ".new"); err != nil { // a reindex the node did not finish
		return err
	}
	idx, err := search.Open(dir)
	if err != nil {
		// The index is derived data: a damaged one is rebuilt.
		n.log.Warn("search index unreadable; rebuilding it", "err", err)
		if err := search.Remove(dir); err != nil {
			return err
		}
		if idx, err = search.Open(dir); err != nil {
			return err
		}
	}
	n.search.idx = idx
	n.search.reindex = make(chan chan error)
	return nil
}

func (n *Node) closeSearch() error {
	n.search.mu.Lock()
	defer n.search.mu.Unlock()
	if n.search.idx == nil {
		return nil
	}
	err := n.search.idx.Close()
	n.search.idx = nil
	return err
}

// SearchStatus reports the search index's state.
func (n *Node) SearchStatus() SearchStatus {
	n.search.stateMu.Lock()
	s := n.search.state
	n.search.stateMu.Unlock()
	last := n.LastChange()
	if last > s.Cursor {
		s.Lag = last - s.Cursor
	}
	n.search.mu.RLock()
	if n.search.idx != nil {
		s.Documents, _ = n.search.idx.Count()
		s.Bytes = n.search.idx.Size()
	}
	n.search.mu.RUnlock()
	return s
}

func (n *Node) setSearchState(f func(*SearchStatus)) {
	n.search.stateMu.Lock()
	f(&n.search.state)
	n.search.stateMu.Unlock()
}

// Reindex rebuilds the search index from the store and returns once the
// new index has replaced the old one; searches keep using the old one
// until then. It fails if ctx ends first (the rebuild then goes on) or
// the node is not running.
func (n *Node) Reindex(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case n.search.reindex <- done:
	case <-ctx.Done():
		return fmt.Errorf("reindex: %w", ctx.Err())
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("reindex: %w", ctx.Err())
	}
}

// runIndexer keeps the search index up with the change feed until ctx
// ends. A failed round is logged and retried after a pause.
func (n *Node) runIndexer(ctx context.Context) error {
	var pause time.Duration
	for {
		err := n.indexRound(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			pause = min(max(2*pause, 100*time.Millisecond), 30*time.Second)
			n.log.Error("search indexer", "err", err, "retry_in", pause)
			n.setSearchState(func(s *SearchStatus) { s.Error = err.Error() })
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		pause = 0
	}
}

// indexRound brings the index up to date (building it if it must) and
// then waits for the feed to grow or a reindex request.
func (n *Node) indexRound(ctx context.Context) error {
	n.search.mu.Lock()
	if n.search.idx == nil { // a reindex failed half-way through its swap
		x, err := search.Open(filepath.Join(n.cfg.DataDir, searchDir))
		if err != nil {
			n.search.mu.Unlock()
			return err
		}
		n.search.idx = x
	}
	idx := n.search.idx
	n.search.mu.Unlock()
	built, err := idx.Built()
	if err != nil {
		return err
	}
	if !built {
		if err := n.buildIndex(ctx, idx); err != nil {
			return err
		}
	}
	cursor, err := idx.Cursor()
	if err != nil {
		return err
	}
	for {
		n.setSearchState(func(s *SearchStatus) { s.Cursor, s.Error = cursor, "" })
		last, grown := n.feed.state()
		if last > cursor {
			if err := n.awaitLull(ctx); err != nil {
				return nil
			}
			if cursor, err = n.indexChanges(ctx, idx, cursor); err != nil {
				return err
			}
			continue
		}
		select {
		case <-grown:
		case done := <-n.search.reindex:
			err := n.rebuildIndex(ctx)
			done <- err
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// The indexer yields to the node's own work: on two cores, indexing at
// full speed while a partner's catch-up or a burst of posts goes on took
// CPU from them (catch-up of 100,000 events took 15 s instead of 10). So
// before each batch it waits for the change feed to be quiet, and no
// partner's events taken in or served, for indexLull, but no longer than
// indexMaxDefer while only the node's own posts keep it busy, or
// indexMaxDeferPartner while partners' events are taken in or served (a
// catch-up is over in seconds, and indexing a batch every 2 s took a
// tenth of the CPU of one and doubled it under load). Under sustained
// load it indexes a batch every indexMaxDefer (a few percent of a core),
// and catches up at full speed once the load stops. Search results lag
// meanwhile; `horenso status` shows by how much.
const (
	indexLull            = 150 * time.Millisecond
	indexMaxDefer        = 2 * time.Second
	indexMaxDeferPartner = 10 * time.Second
)

// partnerWork notes that the node takes in or serves a partner's events
// until the function it returns is called: the indexer waits meanwhile.
func (n *Node) partnerWork() (done func()) {
	n.busy.Add(1)
	return func() {
		n.busy.Add(-1)
		n.lastBusy.Store(time.Now().UnixNano())
	}
}

// partnerBusy reports whether a partner's events are being taken in or
// served, or were within indexLull.
func (n *Node) partnerBusy() bool {
	return n.busy.Load() > 0 || time.Since(time.Unix(0, n.lastBusy.Load())) < indexLull
}

// awaitLull waits until the change feed has not grown for indexLull and
// no partner's events were taken in or served meanwhile (partnerWork), or
// indexMaxDefer has passed (indexMaxDeferPartner while partner work goes
// on).
//
// If the feed has not grown since awaitLull last returned (the batch
// indexed since took longer than indexLull, and nothing was written
// meanwhile) and no partner work went on, it returns at once: waiting
// indexLull before every batch of a backlog on an idle node capped
// indexing at a few thousand messages a second.
func (n *Node) awaitLull(ctx context.Context) error {
	defer func() { n.search.lullSeq, _ = n.feed.state() }()
	if last, _ := n.feed.state(); last == n.search.lullSeq && !n.partnerBusy() {
		return nil
	}
	start := time.Now()
	deadline := time.NewTimer(indexMaxDefer)
	defer deadline.Stop()
	for {
		_, grown := n.feed.state()
		quiet := time.NewTimer(indexLull)
		select {
		case <-quiet.C:
			if n.partnerBusy() {
				continue // serving or taking in a partner's events
			}
			return nil
		case <-deadline.C:
			quiet.Stop()
			if n.partnerBusy() {
				if left := indexMaxDeferPartner - time.Since(start); left > 0 {
					deadline.Reset(min(left, indexMaxDefer))
					continue
				}
			}
			return nil
		case <-grown:
			quiet.Stop()
		case <-ctx.Done():
			quiet.Stop()
			return ctx.Err()
		}
	}
}

// indexChanges applies the feed changes after cursor, up to indexBatch
// of them, in one batch, and returns the last one it read. Changes that
// touch no document (read markers, membership) are not worth a write of
// their own: a batch of only those is skipped, and the cursor written
// with the next documents, or once idleCursorLag of them have passed, so
// that a restart does not re-read too many.
func (n *Node) indexChanges(ctx context.Context, idx *search.Index, cursor uint64) (uint64, error) {
	var b search.Batch
	err := n.store.View(func(tx *storage.Tx) error {
		type target struct {
			kind search.Kind
			id   [32]byte
		}
		seen := map[target]bool{}
		count := 0
		var ferr error
		err := tx.Changes(cursor, func(seq uint64, c *storage.Change) bool {
			count++
			b.Cursor = seq
			var t target
			switch ChangeKind(c.Kind) {
			case ChangeMessage, ChangeMessageUpdated, ChangeMessageDeleted:
				t = target{search.KindMessage, c.Event}
			case ChangeTask:
				t = target{search.KindTask, c.Event}
			case ChangeRoom:
				t = target{search.KindRoom, c.Room}
			// A file is its post's: the message changes above
			// bring it (searchfiles.go).
			default:
				return count < indexBatch
			}
			if !seen[t] {
				seen[t] = true
				if t.kind == search.KindMessage {
					ferr = postDocsOf(tx, c, &b)
				} else {
					ferr = n.docFor(tx, t.kind, t.id, &b)
				}
			}
			return ferr == nil && count < indexBatch && ctx.Err() == nil
		})
		return errors.Join(err, ferr)
	})
	if err != nil {
		return cursor, fmt.Errorf("index changes after %d: %w", cursor, err)
	}
	if b.Cursor == 0 {
		return cursor, ctx.Err()
	}
	if len(b.Put)+len(b.Delete) == 0 {
		durable, err := idx.Cursor()
		if err != nil || b.Cursor-durable < idleCursorLag {
			return b.Cursor, err
		}
	}
	if err := n.roomForIndex(); err != nil {
		return cursor, err
	}
	if err := idx.Apply(ctx, b); err != nil {
		return cursor, err
	}
	return b.Cursor, nil
}

// roomForIndex fails with ErrDiskFull while the store refuses writes for
// want of space: the index is on the same disk, and must not take the
// room the store keeps for itself. The indexer retries, and catches up
// once space is freed.
func (n *Node) roomForIndex() error {
	if _, full := n.store.Space(); full {
		return fmt.Errorf("search index: %w", ErrDiskFull)
	}
	return nil
}

// docFor adds to b the current document of kind's thing id, or its
// deletion if it is gone: a task or a room (postDocsOf does messages).
func (n *Node) docFor(tx *storage.Tx, kind search.Kind, id [32]byte, b *search.Batch) error {
	var doc *search.Doc
	var err error
	switch kind {
	case search.KindTask:
		doc, err = taskDoc(tx, protocol.EventID(id))
	case search.KindRoom:
		doc, err = n.roomDoc(tx, protocol.RoomID(id))
	}
	if err != nil {
		return err
	}
	if doc == nil {
		b.Delete = append(b.Delete, search.DocID(kind, protocol.EventID(id).String()))
	} else {
		b.Put = append(b.Put, *doc)
	}
	return nil
}

func messageDocOf(room protocol.RoomID, m *storage.Message) *search.Doc {
	if m.Deleted || m.Body == "" {
		return nil
	}
	return &search.Doc{ID: search.DocID(search.KindMessage, m.ID.String()), Kind: search.KindMessage,
		Room: room.String(), Author: string(m.Author), Time: m.Time, Text: m.Body,
		HasFile: strings.Contains(m.Body, "[download:") || strings.Contains(m.Body, "[preview ")}
}

func taskDoc(tx *storage.Tx, id protocol.EventID) (*search.Doc, error) {
	t, err := tx.Task(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &search.Doc{ID: search.DocID(search.KindTask, id.String()), Kind: search.KindTask, Room: t.Room.String(),
		Author: string(t.Creator), Time: t.Time, Text: t.Body, Status: string(t.Status), Due: t.Due}
	for _, a := range t.Assignees {
		d.Assignees = append(d.Assignees, string(a))
	}
	return d, nil
}

func (n *Node) roomDoc(tx *storage.Tx, id protocol.RoomID) (*search.Doc, error) {
	r, err := tx.Room(id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := n.control(tx, id)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(c.Name + "\n" + c.Description)
	if text == "" {
		return nil, nil
	}
	return &search.Doc{ID: search.DocID(search.KindRoom, id.String()), Kind: search.KindRoom, Room: id.String(),
		Time: r.Created, Text: text}, nil
}

// buildIndex indexes everything the store holds into idx, which may hold
// some of it already, and marks it built at the feed position read before
// the walk.
func (n *Node) buildIndex(ctx context.Context, idx *search.Index) error {
	start := time.Now()
	n.setSearchState(func(s *SearchStatus) { s.Building, s.Built = true, 0 })
	defer n.setSearchState(func(s *SearchStatus) { s.Building = false })
	cursor := n.LastChange()
	var rooms []protocol.RoomID
	err := n.store.View(func(tx *storage.Tx) error {
		return tx.Rooms(func(r *storage.Room) bool {
			rooms = append(rooms, r.ID)
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	var b search.Batch
	total := uint64(0)
	flush := func() error {
		if len(b.Put)+len(b.Delete) == 0 {
			return nil
		}
		total += uint64(len(b.Put))
		if err := n.roomForIndex(); err != nil {
			return err
		}
		err := idx.Apply(ctx, b)
		b = search.Batch{}
		n.setSearchState(func(s *SearchStatus) { s.Built = total })
		return err
	}
	for _, room := range rooms {
		err := n.store.View(func(tx *storage.Tx) error {
			if err := n.docFor(tx, search.KindRoom, room, &b); err != nil {
				return err
			}
			tasks, err := tx.RoomTasks(room, "")
			if err != nil {
				return err
			}
			for _, t := range tasks {
				if err := n.docFor(tx, search.KindTask, t, &b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build search index: %w", err)
		}
		var at protocol.Order
		for {
			var ms []*storage.Message
			err := n.store.View(func(tx *storage.Tx) error {
				ms, err = tx.Messages(room, at, false, indexBatch)
				if err != nil {
					return err
				}
				for _, m := range ms {
					if strings.Contains(m.Body, fileNotice) { // a file post: a file, not a message
						if err := postDocs(tx, room, m, &b); err != nil {
							return err
						}
					} else if d := messageDocOf(room, m); d != nil {
						b.Put = append(b.Put, *d)
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("build search index: %w", err)
			}
			if len(b.Put) >= indexBatch {
				if err := flush(); err != nil {
					return err
				}
			}
			if len(ms) < indexBatch {
				break
			}
			at = ms[0].Order()
		}
	}
	b.Cursor, b.Built = cursor, true
	total += uint64(len(b.Put))
	if err := idx.Apply(ctx, b); err != nil {
		return err
	}
	n.log.Info("search index built", "documents", total, "cursor", cursor, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// rebuildIndex builds a new index beside the current one and swaps it in.
func (n *Node) rebuildIndex(ctx context.Context) error {
	dir := filepath.Join(n.cfg.DataDir, searchDir)
	tmp := dir + ".new"
	if err := search.Remove(tmp); err != nil {
		return err
	}
	nx, err := search.Open(tmp)
	if err != nil {
		return err
	}
	if err := n.buildIndex(ctx, nx); err != nil {
		nx.Close()
		return err
	}
	if err := nx.Close(); err != nil {
		return err
	}
	n.search.mu.Lock()
	defer n.search.mu.Unlock()
	if err := n.search.idx.Close(); err != nil {
		return err
	}
	n.search.idx = nil
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("swap search index: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("swap search index: %w", err)
	}
	n.search.idx, err = search.Open(dir)
	return err
}
