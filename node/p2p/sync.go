package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/sync/errgroup"
)

// Catch-up sync, both sides. The requester opens a stream of
// protocol.SyncProtocolID, or of SyncProtocolV1 if the partner speaks
// only that, writes a request naming rooms with its heads and (not on
// SyncProtocolV1) its chain positions in each (Handler.Have), as many as
// fit in a frame (protocol.SplitRequest), and reads the answer: events
// frames, then a done frame; it repeats for further rooms, then closes
// the stream. The responder serves each room as
// far as Handler.Scope allows for the requester's node (all of it, only up
// to the removal of its members, or nothing), streaming what
// Handler.Missing emits in frames of up to serveBatchBytes of events. Every
// read and write waits SyncTimeout at most. A peer that sends a frame that
// does not decode, a frame of the wrong type, events of a room not
// requested or an event that does not decode, is not of the frame's room
// or that the Handler finds invalid (see peerFault), has the stream reset
// and is counted in Stats.SyncMisbehaved; a frame cut short by the peer's
// end of the stream is counted too. A peer that lets a read or a write
// wait past SyncTimeout has the stream reset and is counted in
// Stats.SyncStalled.
//
// A responder's memory per stream is bounded: the request frame being read
// (allocated as it arrives), and while answering, one frame of events of
// at most serveBatchBytes. Answers take a serving slot (serveSlots, at
// most servePeerSlots per peer), so a partner that opens many streams and
// never reads holds few frames. Each stream is answered under its own
// context, cancelled when the stream ends (the requester resets it, a
// write fails or times out), which stops Handler.Missing.

// serveBatchBytes is how many bytes of events a responder packs into one
// frame. The frame limit is 2 MiB; a smaller frame bounds what a reader
// that does not read holds of the responder's memory, and still carries
// hundreds of events.
const serveBatchBytes = 256 << 10

// serveSlots bounds the answers (Handler.Missing calls) a host sends at
// once, and servePeerSlots those of one peer: walking a room is CPU and
// disk work, and a node has 2 cores; more would only queue there.
const (
	serveSlots     = 8
	servePeerSlots = 2
)

// eventOverhead bounds what one event adds to a frame beyond its bytes:
// a CBOR byte string header.
const eventOverhead = 5

// resubscribeGrace is how long a connection must be up before a responder
// asks the requester to announce a subscription it has not seen: right
// after connecting, subscriptions may still be on their way.
const resubscribeGrace = 2 * time.Second

// syncStream reads and writes frames with deadlines: each read of a frame,
// and each write, must end within timeout.
type syncStream struct {
	s       network.Stream
	r       *bufio.Reader
	in      countingReader // what r took from s
	framed  int64          // the bytes of in that whole frames read so far were
	buf     []byte
	timeout time.Duration
	stalled *atomic.Uint64 // counts reads and writes that timed out
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newSyncStream(s network.Stream, timeout time.Duration, stalled *atomic.Uint64) *syncStream {
	st := &syncStream{s: s, timeout: timeout, stalled: stalled}
	st.in.r = s
	st.r = bufio.NewReader(&st.in)
	return st
}

func (st *syncStream) read() (protocol.SyncFrame, error) {
	if err := st.s.SetReadDeadline(time.Now().Add(st.timeout)); err != nil {
		return nil, err
	}
	f, err := protocol.ReadFrame(st.r)
	st.count(err)
	if err == nil {
		st.framed = st.in.n - int64(st.r.Buffered())
	}
	return f, err
}

// between reports whether nothing has arrived since the last whole frame:
// the peer is between frames, not in the middle of one.
func (st *syncStream) between() bool {
	return st.in.n == st.framed
}

func (st *syncStream) write(f protocol.SyncFrame) error {
	b, err := protocol.AppendFrame(st.buf[:0], f)
	if err != nil {
		return err
	}
	// Keep a small buffer, not the largest frame ever written.
	if cap(b) <= 2*serveBatchBytes {
		st.buf = b
	} else {
		st.buf = nil
	}
	if err := st.s.SetWriteDeadline(time.Now().Add(st.timeout)); err != nil {
		return err
	}
	if _, err := st.s.Write(b); err != nil {
		st.count(err)
		return fmt.Errorf("write sync frame: %w", err)
	}
	return nil
}

// count counts err if it is a timeout.
func (st *syncStream) count(err error) {
	if isTimeout(err) {
		st.stalled.Add(1)
	}
}

// watch runs while the responder works on a request and nothing is to be
// read: it cancels the stream's context if the requester resets the
// stream meanwhile, so that the work stops at once rather than at the next
// write. A requester may send its next request early; that stays
// buffered. The returned stop ends the watch and must be called before
// the next read.
func (st *syncStream) watch(cancel context.CancelFunc) (stop func()) {
	if err := st.s.SetReadDeadline(time.Time{}); err != nil {
		cancel()
		return func() {}
	}
	var stopping atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := st.r.Peek(1)
		if err != nil && err != io.EOF && !stopping.Load() {
			cancel()
		}
	}()
	return func() {
		stopping.Store(true)
		st.s.SetReadDeadline(time.Now()) // wakes the Peek; the next read sets its own
		<-done
	}
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

// isFrameError reports whether err is a peer's bad frame rather than a
// broken stream: a frame that does not decode or breaks a limit, or one
// the peer cut short by closing its end of the stream (a broken
// connection resets the stream instead).
func isFrameError(err error) bool {
	return errors.Is(err, protocol.ErrFrameTooLarge) || errors.Is(err, protocol.ErrFrameMalformed) ||
		errors.Is(err, protocol.ErrFrameVersion) || errors.Is(err, io.ErrUnexpectedEOF)
}

// peerFault reports whether err, an error Handler.Accept returned for an
// event, says the event is invalid, which is the peer's fault, rather than
// that the node could not take it in, which is its own: only the decoding
// checks' and the room rules' verdicts (and ErrInvalid) blame the peer. A
// storage error, a full disk (ErrNotStored), a cancelled context or any
// error this list does not know never does.
func peerFault(err error) bool {
	for _, target := range []error{ErrInvalid, protocol.ErrRule, protocol.ErrBadParents, protocol.ErrWrongOrigin,
		protocol.ErrWrongVersion, protocol.ErrBadChain, protocol.ErrTooLarge, protocol.ErrMalformed,
		protocol.ErrNotCanonical, protocol.ErrBadSignature, protocol.ErrUnknownVersion, protocol.ErrUnknownType,
		protocol.ErrBadNodeID, protocol.ErrBadHandle, protocol.ErrBadAccountID} {
		if errors.Is(err, target) {
			return !errors.Is(err, ErrNotStored)
		}
	}
	return false
}

// misbehaved counts and logs a peer's bad input on a sync stream and
// returns the error to end the stream with.
func (h *Host) misbehaved(p peer.ID, err error) error {
	h.stats.syncMisbehaved.Add(1)
	h.log.Warn("sync peer misbehaved; resetting stream", "peer", nodeID(p).Short(), "err", err)
	return fmt.Errorf("%w: %w", ErrMisbehaved, err)
}

// pull runs one sync exchange with p as requester, for rooms, on one
// stream. It returns the rooms p refused.
func (h *Host) pull(ctx context.Context, p peer.ID, rooms []protocol.RoomID) (refused []protocol.RoomID, err error) {
	defer func() {
		if ctx.Err() == nil {
			h.health.synced(p, err)
		}
	}()
	lh := h.host()
	if lh == nil {
		return nil, ErrNotRunning
	}
	defer h.pulling.enter(ctx, rooms, maxPullOverlap)() // before reading the heads
	wants := make([]protocol.SyncWant, 0, len(rooms))
	for _, r := range rooms {
		w, err := h.handler.Have(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("heads of room %s: %w", r, err)
		}
		w.Heads = w.Heads[:min(len(w.Heads), protocol.MaxSyncHeads)]
		if len(w.Chains) > protocol.MaxSyncChains {
			w.Chains = nil
		}
		subscribed, seen := h.sees(r, p)
		w.Unseen = subscribed && !seen
		wants = append(wants, w)
	}
	h.stats.syncRounds.Add(1)
	octx, cancel := context.WithTimeout(ctx, h.cfg.SyncTimeout)
	s, err := lh.NewStream(octx, p, libp2pproto.ID(protocol.SyncProtocolID), libp2pproto.ID(protocol.SyncProtocolV1))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("open sync stream: %w", err)
	}
	if s.Protocol() == protocol.SyncProtocolV1 {
		// A partner from before chain positions rejects a want with them.
		for i := range wants {
			wants[i].Chains = nil
		}
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	st := newSyncStream(s, h.cfg.SyncTimeout, &h.stats.syncStalled)
	for _, chunk := range protocol.SplitRequest(wants) {
		r, err := h.pullChunk(ctx, st, p, chunk)
		refused = append(refused, r...)
		if err != nil {
			s.Reset()
			return refused, err
		}
	}
	s.Close() // the exchange is complete; a failed close loses nothing
	return refused, nil
}

// pullChunk sends one request and takes in its answer.
func (h *Host) pullChunk(ctx context.Context, st *syncStream, p peer.ID, wants []protocol.SyncWant) (refused []protocol.RoomID, err error) {
	h.stats.syncRequests.Add(1)
	if err := st.write(&protocol.SyncRequest{Rooms: wants}); err != nil {
		return nil, err
	}
	asked := make(map[protocol.RoomID]bool, len(wants))
	for _, w := range wants {
		asked[w.Room] = true
	}
	// The answer's frames are read and checked (signatures: most of the
	// cost) here while the frame before is stored, which takes about as
	// long and mostly waits for the store's single writer.
	g, gctx := errgroup.WithContext(ctx)
	checked := make(chan *checkedFrame, 1)
	g.Go(func() error {
		for f := range checked {
			if err := h.storeSynced(gctx, p, f); err != nil {
				return err
			}
		}
		return nil
	})
	// A failed store ends gctx: reset the stream, so that a read waiting
	// for the next frame ends too.
	stop := context.AfterFunc(gctx, func() { st.s.Reset() })
	refused, err = h.readAnswer(gctx, st, p, asked, checked)
	stop() // before Wait, which ends gctx
	close(checked)
	serr := g.Wait()
	if serr != nil {
		return nil, serr // the cause: readAnswer only saw gctx end
	}
	return refused, err
}

// readAnswer reads the answer to a request for the rooms asked, checks
// each events frame and passes it to checked, until the done frame.
func (h *Host) readAnswer(ctx context.Context, st *syncStream, p peer.ID, asked map[protocol.RoomID]bool, checked chan<- *checkedFrame) (refused []protocol.RoomID, err error) {
	for {
		f, err := st.read()
		if err != nil {
			if isFrameError(err) {
				return nil, h.misbehaved(p, err)
			}
			return nil, err
		}
		switch f := f.(type) {
		case *protocol.SyncEvents:
			if !asked[f.Room] {
				return nil, h.misbehaved(p, fmt.Errorf("events of room %s, which was not requested", f.Room))
			}
			h.stats.syncFrames.Add(1)
			cf, err := h.checkSynced(ctx, p, f)
			if err != nil {
				return nil, err
			}
			if !h.quota.takeEvents(p, cf.ids, cf.sizes, &h.stats) {
				return nil, fmt.Errorf("room %s: %w", f.Room, ErrOverQuota)
			}
			select {
			case checked <- cf:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case *protocol.SyncDone:
			for _, r := range f.Refused {
				if asked[r] {
					refused = append(refused, r)
				}
			}
			h.stats.syncRefused.Add(uint64(len(refused)))
			for _, r := range f.Resubscribe {
				if asked[r] {
					h.reannounce(r, p)
				}
			}
			return refused, nil
		default:
			return nil, h.misbehaved(p, fmt.Errorf("unexpected frame type %d", f.FrameType()))
		}
	}
}

// checkedFrame is an events frame whose events decoded, signatures
// included, less those the node held already.
type checkedFrame struct {
	room   protocol.RoomID
	events []*protocol.Signed
	ids    []protocol.EventID // of events, in order
	sizes  []int              // the events' wire bytes
}

// checkSynced checks one events frame: every event must decode and be in
// the frame's room.
func (h *Host) checkSynced(ctx context.Context, p peer.ID, f *protocol.SyncEvents) (*checkedFrame, error) {
	// Events the node holds already are skipped unchecked: an event's ID
	// is the hash of its body, so a held ID is a held event.
	ids := make([]protocol.EventID, len(f.Events))
	links := make([]protocol.Links, len(f.Events))
	for i, b := range f.Events {
		id, l, _, err := protocol.PeekLinks(b)
		if err != nil {
			return nil, h.misbehaved(p, fmt.Errorf("room %s: event %d: %w", f.Room, i, err))
		}
		ids[i], links[i] = id, l
	}
	var (
		fresh    [][]byte
		freshIDs []protocol.EventID
		sizes    []int
	)
	for i, held := range h.handler.Held(ctx, ids, links) {
		if held {
			h.stats.syncEvents.Add(1)
			h.stats.syncHeld.Add(1)
			continue
		}
		fresh = append(fresh, f.Events[i])
		freshIDs = append(freshIDs, ids[i])
		sizes = append(sizes, len(f.Events[i]))
	}
	events, err := decodeAll(fresh)
	if err != nil {
		return nil, h.misbehaved(p, fmt.Errorf("room %s: %w", f.Room, err))
	}
	for _, e := range events {
		if e.RoomID() != f.Room {
			return nil, h.misbehaved(p, fmt.Errorf("room %s: event %s is in room %s", f.Room, e.ID, e.RoomID()))
		}
	}
	return &checkedFrame{room: f.Room, events: events, ids: freshIDs, sizes: sizes}, nil
}

// storeSynced hands a checked frame's events to Handler.Accept.
func (h *Host) storeSynced(ctx context.Context, p peer.ID, f *checkedFrame) error {
	if len(f.events) == 0 {
		return nil
	}
	errs := h.handler.Accept(ctx, nodeID(p), f.room, f.events)
	if len(errs) != len(f.events) {
		return fmt.Errorf("handler returned %d results for %d events", len(errs), len(f.events))
	}
	var bad error
	for i, err := range errs {
		var miss *protocol.MissingError
		switch {
		case err == nil || errors.Is(err, ErrSoftFailed):
			h.stats.syncEvents.Add(1)
			h.adopt(ctx, f.events[i].ID)
		case errors.As(err, &miss):
			h.stats.syncParked.Add(1)
		case ctx.Err() != nil:
			return ctx.Err()
		case !peerFault(err):
			// Ours, not the peer's (a full disk, a storage error): end
			// the pull without blaming the peer, and try again later.
			return fmt.Errorf("room %s: event %s: %w", f.room, f.events[i].ID, errors.Join(ErrNotStored, err))
		case bad == nil:
			bad = fmt.Errorf("room %s: event %s: %w", f.room, f.events[i].ID, err)
		}
	}
	if bad != nil {
		return h.misbehaved(p, bad)
	}
	return nil
}

// serveSync answers a sync stream opened by a peer, until the peer closes
// it or ctx ends. It works under a context of the stream's own, which ends
// with the stream.
func (h *Host) serveSync(ctx context.Context, s network.Stream) {
	if !h.enter() {
		s.Reset()
		return
	}
	defer h.leave()
	p := s.Conn().RemotePeer()
	if !h.isPartner(p) {
		h.stats.refusedConns.Add(1)
		s.Reset()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	st := newSyncStream(s, h.cfg.SyncTimeout, &h.stats.syncStalled)
	for served := 0; ; served++ {
		f, err := st.read()
		if err == io.EOF {
			s.Close()
			return
		}
		if isTimeout(err) && served > 0 && st.between() {
			// No next request after an answer: close, do not reset.
			// The requester may still be taking in the answer's last
			// frames (checking their signatures takes longer than
			// sending them), and a reset would discard what it has
			// not read yet. A stream that stalls before its first
			// request, or in the middle of one, is reset below.
			h.log.Debug("sync stream idle; closing it", "peer", nodeID(p).Short())
			s.Close()
			return
		}
		if err == nil && f.FrameType() != protocol.FrameRequest {
			err = fmt.Errorf("unexpected frame type %d", f.FrameType())
			h.misbehaved(p, err)
		} else if isFrameError(err) {
			h.misbehaved(p, err)
		}
		if err != nil {
			if ctx.Err() == nil && !isFrameError(err) {
				h.log.Debug("sync stream", "peer", nodeID(p).Short(), "err", err)
			}
			s.Reset()
			return
		}
		unwatch := st.watch(cancel)
		err = h.serve(ctx, st, p, f.(*protocol.SyncRequest))
		unwatch()
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // the requester reset the stream
		}
		if err != nil {
			if ctx.Err() == nil {
				h.log.Debug("serve sync", "peer", nodeID(p).Short(), "err", err)
			}
			s.Reset()
			return
		}
		h.stats.syncServed.Add(1)
	}
}

// serve answers one request. It returns an error only if the stream is
// broken.
func (h *Host) serve(ctx context.Context, st *syncStream, p peer.ID, req *protocol.SyncRequest) error {
	var done protocol.SyncDone
	for _, w := range req.Rooms {
		scope, err := h.handler.Scope(ctx, nodeID(p), w.Room)
		if err != nil {
			h.log.Warn("sync scope", "room", w.Room, "err", err)
			done.Refused = append(done.Refused, w.Room)
			continue
		}
		if !scope.All {
			done.Refused = append(done.Refused, w.Room)
			if err := h.serveRefused(ctx, st, p, w, scope); err != nil {
				return err
			}
			continue
		}
		if err := h.sendMissing(ctx, st, p, w, nil); err != nil {
			if errors.Is(err, errStream) || ctx.Err() != nil {
				return err
			}
			h.log.Warn("list missing events", "room", w.Room, "err", err)
			done.Refused = append(done.Refused, w.Room)
			continue
		}
		if subscribed, seen := h.sees(w.Room, p); subscribed && !seen && h.connAge(p) > resubscribeGrace {
			done.Resubscribe = append(done.Resubscribe, w.Room)
		}
		if w.Unseen {
			h.reannounce(w.Room, p)
		}
		h.pullBackLater(ctx, p, w)
	}
	if err := st.write(&done); err != nil {
		return fmt.Errorf("%w: %w", errStream, err)
	}
	return nil
}

// serveRefused answers for a room the requester's node does not host a
// member of now. If it did before, it is sent the room up to the events
// that removed its members: without them, a node that missed its removal
// (it was down, partitioned, or restored from an old backup) would
// believe itself in the room forever. Whatever the requester holds that
// this node lacks is pulled back: the room rules judge those events, so
// taking them is safe, and two nodes that each think the other was
// removed converge only if each takes the other's events. A partner
// naming a room this node holds nothing of believes one of its accounts
// is a member: the room is pulled back. It returns an error only if the
// stream is broken.
func (h *Host) serveRefused(ctx context.Context, st *syncStream, p peer.ID, w protocol.SyncWant, scope Scope) error {
	if len(scope.Until) > 0 {
		if err := h.sendMissing(ctx, st, p, w, scope.Until); err != nil {
			if errors.Is(err, errStream) || ctx.Err() != nil {
				return err
			}
			h.log.Warn("list missing events up to a removal", "room", w.Room, "err", err)
		} else {
			h.stats.syncServedRemoval.Add(1)
		}
	}
	ours, err := h.handler.Have(ctx, w.Room)
	if err == nil && len(ours.Heads) == 0 {
		if h.schedulePullBack(p, w.Room) {
			h.log.Info("partner names a room this node does not hold; pulling it", "peer", nodeID(p).Short(), "room", w.Room)
		}
		return nil
	}
	h.pullBackLater(ctx, p, w)
	return nil
}

// pullBackLater makes a pull of w.Room from p due if p named heads this
// node lacks: p has events it does not (or p added back a member of this
// node, which left or was removed). It waits a moment, since while a room
// is busy gossip mostly brings them first.
func (h *Host) pullBackLater(ctx context.Context, p peer.ID, w protocol.SyncWant) {
	if len(w.Heads) > 0 && slices.Contains(h.handler.Held(ctx, w.Heads, nil), false) {
		h.orphans.pullLater(p, w.Room, w.Heads)
	}
}

// errStream marks a broken stream in serve's errors.
var errStream = errors.New("sync stream broken")

// sendMissing streams the events of w.Room the requester p lacks, up to
// the room's heads or, if until is not nil, up to until (see
// Handler.Missing), in frames of up to serveBatchBytes of events. It
// waits for a serving slot first.
func (h *Host) sendMissing(ctx context.Context, st *syncStream, p peer.ID, w protocol.SyncWant, until []protocol.EventID) error {
	release, err := h.slots.acquire(ctx, p)
	if err != nil {
		return err
	}
	defer release()
	batch := &protocol.SyncEvents{Room: w.Room}
	size := 0
	var werr error
	flush := func() error {
		if len(batch.Events) == 0 {
			return nil
		}
		if err := st.write(batch); err != nil {
			werr = fmt.Errorf("%w: %w", errStream, err)
			return werr
		}
		batch.Events, size = batch.Events[:0], 0
		return nil
	}
	err = h.handler.Missing(ctx, nodeID(p), w, until, func(wire []byte) error {
		if len(wire) == 0 || len(wire) > protocol.MaxEventSize {
			h.log.Warn("not sending a stored event of bad size", "room", w.Room, "bytes", len(wire))
			return nil
		}
		if size+len(wire)+eventOverhead > serveBatchBytes || len(batch.Events) == protocol.MaxFrameEvents {
			if err := flush(); err != nil {
				return err
			}
		}
		batch.Events = append(batch.Events, slices.Clone(wire))
		size += len(wire) + eventOverhead
		return nil
	})
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return flush()
}

// connAge returns how long the oldest connection to p has been open.
func (h *Host) connAge(p peer.ID) time.Duration {
	lh := h.host()
	if lh == nil {
		return 0
	}
	var age time.Duration
	for _, c := range lh.Network().ConnsToPeer(p) {
		age = max(age, time.Since(c.Stat().Opened))
	}
	return age
}

// decodeAll decodes wires with protocol.DecodeBatch, a share of them on
// each core: checking signatures is most of what a catch-up costs.
func decodeAll(wires [][]byte) ([]*protocol.Signed, error) {
	events := make([]*protocol.Signed, len(wires))
	errs := make([]error, len(wires))
	workers := min(runtime.GOMAXPROCS(0), len(wires))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(wires)/workers, (w+1)*len(wires)/workers
		wg.Go(func() {
			es, bad := protocol.DecodeBatch(wires[lo:hi])
			copy(events[lo:hi], es)
			copy(errs[lo:hi], bad)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	return events, nil
}
