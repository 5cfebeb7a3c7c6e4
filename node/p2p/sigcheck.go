package p2p

import (
	"runtime"
	"sync"

	"github.com/horenso/horenso/protocol"
)

// Gossip events are decoded, and their signatures checked, in batches.
// Pubsub validates each message in a goroutine of its own, and under load
// many are waiting at once; a batch of them costs less per signature than
// checking each alone (for events of nine origins, 39 µs alone, 23 µs
// each in a batch of 8, 14 µs in a batch of 32: protocol's
// BenchmarkDecodeBatchSizes).
//
// One validator at a time runs the checks (the leader), taking whatever
// is waiting, in batches, until its own event is checked; it then hands
// the checks to the first validator still waiting. A validator that finds
// no leader becomes one, yields once (runtime.Gosched) so that the
// validators runnable at that moment join its batch, and checks: on a
// quiet link no other goroutine is runnable and it checks its event
// alone at once. Without the yield no batch formed under load: a
// validator runs its check as soon as it has a core, and the others wait
// for a core, not for the check.
//
// With one leader, gossip is decoded on one core at a time: about 70,000
// events a second in full batches, far more than the node can store.

// maxSigBatch bounds the events checked in one batch: each waits for the
// whole batch, and if a signature in it is bad every event in it is
// checked again alone, to tell which. A partner that forges signatures
// so costs the node one batch check more per batch it spoils than
// checking each event alone did, and only its forged events are
// rejected.
const maxSigBatch = 32

// sigChecks is the events waiting for a signature check and the
// validators running checks. Its zero value is ready to use.
type sigChecks struct {
	mu      sync.Mutex
	leading bool       // a validator is running checks
	pending []*sigCall // waiting, in arrival order
}

// sigCall is one event waiting for its check.
type sigCall struct {
	wire   []byte
	e      *protocol.Signed
	err    error
	done   chan struct{} // closed once e or err is set
	lead   chan struct{} // closed when the call is to run checks
	leader bool          // lead is closed (guarded by sigChecks.mu)
}

// decode is protocol.Decode of wire, checked in a batch with the other
// events waiting at the same time.
func (h *Host) decode(wire []byte) (*protocol.Signed, error) {
	s := &h.sigs
	c := &sigCall{wire: wire, done: make(chan struct{}), lead: make(chan struct{})}
	s.mu.Lock()
	s.pending = append(s.pending, c)
	s.promoteLocked()
	s.mu.Unlock()

	select {
	case <-c.done:
		return c.e, c.err
	case <-c.lead:
	}
	runtime.Gosched() // let the validators runnable now join the batch
	for {
		s.mu.Lock()
		select {
		case <-c.done:
			// Its own event is checked: hand the checks on to a
			// validator still waiting, if any.
			s.leading = false
			s.promoteLocked()
			s.mu.Unlock()
			return c.e, c.err
		default:
		}
		n := min(len(s.pending), maxSigBatch)
		batch := s.pending[:n:n]
		s.pending = s.pending[n:]
		s.mu.Unlock()
		if n == 0 {
			<-c.done // in a batch another validator is checking
			continue
		}
		h.check(batch)
	}
}

// promoteLocked makes the first waiting call lead, if none does. s.mu is
// held.
func (s *sigChecks) promoteLocked() {
	if s.leading {
		return
	}
	for _, c := range s.pending {
		if !c.leader {
			c.leader = true
			s.leading = true
			close(c.lead)
			return
		}
	}
}

// check decodes batch's events, answers each, and counts the batch.
func (h *Host) check(batch []*sigCall) {
	h.stats.sigBatches.Add(1)
	if len(batch) == 1 {
		c := batch[0]
		c.e, c.err = protocol.Decode(c.wire)
		close(c.done)
		return
	}
	wires := make([][]byte, len(batch))
	for i, c := range batch {
		wires[i] = c.wire
	}
	events, errs := protocol.DecodeBatch(wires)
	for i, c := range batch {
		c.e, c.err = events[i], errs[i]
		close(c.done)
	}
}
