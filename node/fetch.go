package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Fetching blobs from partners. A member node that lacks the bytes of a
// file post's file fetches them from another member node of the room over
// a blob stream (p2p.Host.FetchBlob): the file's author's node first,
// then every other node hosting a member. Bytes go to a partial transfer
// in the blob store, which is checked against the hash when complete; a
// transfer that ends early resumes from what it holds, from the same node
// or another. A file up to Config.EagerFetchMax is fetched as soon as its
// post is applied (putFile marks it, storage.Tx.SetFetch, and runFiles
// fetches what is marked, also after a restart or a catch-up); a larger
// one when someone first downloads it (OpenFile).

// fetcher is the node's blob fetching and collecting state.
type fetcher struct {
	wake chan struct{} // a blob was marked for fetching; buffered 1

	// mu guards inflight and collect.
	mu       sync.Mutex
	inflight map[string]*inflight // by hash: transfers under way, one per blob
	collect  map[string]bool      // blobs to remove if no file has them

	// corrupt counts transfers refused because their bytes did not
	// match the hash, or a partner sent more or fewer than it said.
	corrupt atomic.Uint64
}

type inflight struct {
	done chan struct{}
	err  error
}

func (f *fetcher) init() {
	f.wake = make(chan struct{}, 1)
	f.inflight = map[string]*inflight{}
	f.collect = map[string]bool{}
}

// wakeFetcher tells runFiles there is work; it never blocks.
func (n *Node) wakeFetcher() {
	select {
	case n.fetcher.wake <- struct{}{}:
	default:
	}
}

// queueCollect asks runFiles to remove blob sum if no file has it; it
// never blocks.
func (n *Node) queueCollect(sum []byte) {
	n.fetcher.mu.Lock()
	n.fetcher.collect[string(sum)] = true
	n.fetcher.mu.Unlock()
	n.wakeFetcher()
}

// FileStats counts blob transfers.
type FileStats struct {
	p2p.BlobStats
	Corrupt uint64 // transfers refused: bytes that did not match the hash, or too many
	// Store says where the blobs are: "directory DATA/blobs", or "s3
	// bucket B at URL, prefix P".
	Store string
}

// FileStats returns the node's blob transfer counters.
func (n *Node) FileStats() FileStats {
	return FileStats{BlobStats: n.net.host.BlobStats(), Corrupt: n.fetcher.corrupt.Load(), Store: n.blobs.store.String()}
}

// fetchRetry is how long runFiles waits before it tries again the blobs it
// could not fetch.
const fetchRetry = 10 * time.Second

// runFiles fetches the blobs marked for fetching and removes the blobs no
// file has any more, until ctx ends.
func (n *Node) runFiles(ctx context.Context) error {
	select {
	case <-n.Ready():
	case <-ctx.Done():
		return nil
	}
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.fetcher.wake:
		case <-retry.C:
		}
		n.collectBlobs(ctx)
		var todo []storage.Fetch
		err := n.store.View(func(tx *storage.Tx) error {
			var err error
			todo, err = tx.Fetches(64)
			return err
		})
		if err != nil {
			n.log.Warn("list blobs to fetch", "err", err)
		}
		failed := false
		for _, f := range todo {
			if ctx.Err() != nil {
				return nil
			}
			if err := n.fetchMarked(ctx, f); err != nil {
				failed = true
				if ctx.Err() == nil {
					n.log.Debug("fetch blob", "hash", fmt.Sprintf("%x", f.Hash[:8]), "room", f.Room, "err", err)
				}
			}
		}
		if failed || len(todo) == 64 {
			retry.Reset(jitter(fetchRetry))
		}
	}
}

// jitter returns d scaled by a factor in [7/8, 9/8).
func jitter(d time.Duration) time.Duration {
	return d - d/8 + time.Duration(time.Now().UnixNano()%int64(d/4+1))
}

// fetchMarked fetches a blob marked for fetching and unmarks it.
func (n *Node) fetchMarked(ctx context.Context, f storage.Fetch) error {
	var file *storage.File
	err := n.store.View(func(tx *storage.Tx) error {
		fs, err := tx.FilesOfBlob(f.Hash, 1)
		if len(fs) > 0 {
			file = fs[0]
		}
		return err
	})
	if err != nil {
		return err
	}
	if file != nil && !n.blobs.has(f.Hash) {
		if err := n.fetchBlob(ctx, file.Room, f.Hash, int64(file.Size), file.Author.Node()); err != nil {
			return err
		}
	}
	return n.store.Update(ctx, func(tx *storage.Tx) error { return tx.DeleteFetch(f.Hash) })
}

// collectBlobs removes the blobs queued for collection that no file has.
func (n *Node) collectBlobs(ctx context.Context) {
	n.fetcher.mu.Lock()
	sums := n.fetcher.collect
	n.fetcher.collect = map[string]bool{}
	n.fetcher.mu.Unlock()
	if len(sums) == 0 {
		return
	}
	n.blobs.mu.Lock()
	defer n.blobs.mu.Unlock()
	for s := range sums {
		sum := []byte(s)
		var referenced bool
		err := n.store.View(func(tx *storage.Tx) error {
			var err error
			referenced, err = tx.BlobReferenced(sum)
			return err
		})
		if err == nil && !referenced {
			err = n.blobs.remove(ctx, sum)
		}
		if err != nil {
			n.log.Warn("remove unused blob", "hash", fmt.Sprintf("%x", sum[:8]), "err", err)
		}
	}
}

// fetchBlob fetches blob sum of size bytes, which a file post of room
// names, from the room's member nodes, author (the post's origin) first.
// One transfer runs per blob: a second caller waits for the first's.
func (n *Node) fetchBlob(ctx context.Context, room protocol.RoomID, sum []byte, size int64, author protocol.NodeID) error {
	key := string(sum)
	n.fetcher.mu.Lock()
	if in, ok := n.fetcher.inflight[key]; ok {
		n.fetcher.mu.Unlock()
		select {
		case <-in.done:
			if in.err == nil || n.blobs.has(sum) {
				return nil
			}
			return in.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	in := &inflight{done: make(chan struct{})}
	n.fetcher.inflight[key] = in
	n.fetcher.mu.Unlock()
	in.err = n.fetchFrom(ctx, room, sum, size, author)
	n.fetcher.mu.Lock()
	delete(n.fetcher.inflight, key)
	n.fetcher.mu.Unlock()
	close(in.done)
	return in.err
}

// errUnavailable is returned by fetchBlob when no member node served the
// whole blob.
var errUnavailable = errors.New("no member node served the file")

func (n *Node) fetchFrom(ctx context.Context, room protocol.RoomID, sum []byte, size int64, author protocol.NodeID) error {
	if n.blobs.has(sum) {
		return nil
	}
	if size > n.cfg.MaxFetchSize {
		return problem(ErrForbidden, "file is too large to fetch from partners (max %d bytes)", n.cfg.MaxFetchSize)
	}
	nodes, err := n.memberNodes(room)
	if err != nil {
		return err
	}
	var order []protocol.NodeID
	if nodes[author] && author != n.id {
		order = append(order, author)
	}
	others := make([]protocol.NodeID, 0, len(nodes))
	for id := range nodes {
		if id != n.id && id != author {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	order = append(order, others...)
	var errs []error
	for _, from := range order {
		err := n.fetchOnce(ctx, from, room, sum, size)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, fmt.Errorf("from %s: %w", from.Short(), err))
	}
	return fmt.Errorf("fetch blob %x: %w: %w", sum[:8], errUnavailable, errors.Join(errs...))
}

// fetchTries is how many times in a row fetchOnce asks a node again after
// a transfer that brought no bytes (a reset stream drops what the
// receiver had not read yet, so an interruption may bring none).
const fetchTries = 3

// fetchOnce fetches blob sum from node from, resuming the partial
// transfer the blob store holds; after an interruption it asks again from
// where the bytes it holds end, as long as tries bring bytes, and at most
// fetchTries times in a row when they do not.
func (n *Node) fetchOnce(ctx context.Context, from protocol.NodeID, room protocol.RoomID, sum []byte, size int64) error {
	idle := 0
	for {
		p, err := n.blobs.resume(sum)
		if err != nil {
			return err
		}
		if p.size > size {
			p.drop() // left by an older build, or a full disk: start again
			continue
		}
		got, copied, err := n.net.host.FetchBlob(ctx, from, room, sum, uint64(p.size), uint64(size), p)
		switch {
		case err == nil && got != uint64(size):
			p.drop()
			n.fetcher.corrupt.Add(1)
			return fmt.Errorf("partner says %d bytes, the post %d", got, size)
		case err == nil:
			n.blobs.mu.RLock()
			err = p.finish(ctx)
			n.blobs.mu.RUnlock()
			if errors.Is(err, errBlobCorrupt) {
				n.fetcher.corrupt.Add(1)
			}
			return err
		case errors.Is(err, p2p.ErrBadBlob):
			n.fetcher.corrupt.Add(1)
			if p.size > size {
				p.drop() // more bytes than announced: none can be trusted
			} else {
				// An early end: the bytes so far stay for another member
				// node, or a later try, to go on from.
				p.close()
			}
			return err
		}
		p.close()
		if errors.Is(err, p2p.ErrNoBlob) || ctx.Err() != nil {
			return err
		}
		if copied > 0 {
			idle = 0
		} else if idle++; idle >= fetchTries {
			return err
		}
	}
}

// blobServer serves the node's blobs to partners (p2p.BlobServer).
type blobServer struct{ n *Node }

var _ p2p.BlobServer = blobServer{}

// OpenBlob opens blob sum for node peer if peer hosts a member of room and
// a file the node shows in room has the bytes.
func (b blobServer) OpenBlob(ctx context.Context, peer protocol.NodeID, room protocol.RoomID, sum []byte) (io.ReadSeekCloser, int64, error) {
	n := b.n
	nodes, err := n.memberNodes(room)
	if err != nil {
		return nil, 0, err
	}
	if !nodes[peer] {
		return nil, 0, p2p.ErrNoBlob
	}
	inRoom := false
	err = n.store.View(func(tx *storage.Tx) error {
		fs, err := tx.FilesOfBlob(sum, 1000)
		for _, f := range fs {
			inRoom = inRoom || f.Room == room
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if !inRoom {
		return nil, 0, p2p.ErrNoBlob
	}
	f, size, err := n.blobs.open(ctx, sum)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %w", p2p.ErrNoBlob, err)
	}
	if err != nil {
		return nil, 0, err
	}
	return f, size, nil
}

// FetchBlobForTest asks node from for blob sum for room, as a member node
// would, and discards what comes; it returns how many bytes came.
func (n *Node) FetchBlobForTest(ctx context.Context, from protocol.NodeID, room protocol.RoomID, sum []byte) (int64, error) {
	_, c, err := n.net.host.FetchBlob(ctx, from, room, sum, 0, protocol.MaxFileSize, io.Discard)
	return c, err
}
