package protocol

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Replica is an in-memory copy of one room: the reference implementation of
// how a node takes in events. It accepts events in any order, parks those
// whose dependencies are missing until they arrive, and derives the room's
// state. The node does the same over Badger; tests use Replica to pin down
// the rules. A Replica is not safe for concurrent use.
type Replica struct {
	room     RoomID
	events   map[EventID]*Signed
	after    map[EventID]*Snapshot
	heads    map[EventID]Order
	parked   map[EventID]*Signed   // waiting for dependencies
	waiting  map[EventID][]EventID // missing ID -> parked events that need it
	messages map[EventID]*Message
	tasks    map[EventID]*Task
}

var _ Log = (*Replica)(nil)

// NewReplica returns an empty replica of room.
func NewReplica(room RoomID) *Replica {
	return &Replica{room: room, events: map[EventID]*Signed{}, after: map[EventID]*Snapshot{},
		heads: map[EventID]Order{}, parked: map[EventID]*Signed{}, waiting: map[EventID][]EventID{},
		messages: map[EventID]*Message{}, tasks: map[EventID]*Task{}}
}

// Event implements [Log].
func (r *Replica) Event(id EventID) (*Signed, error) { return r.events[id], nil }

// SnapshotAfter implements [Log].
func (r *Replica) SnapshotAfter(id EventID) (*Snapshot, error) {
	s, ok := r.after[id]
	if !ok {
		return nil, fmt.Errorf("no snapshot after %s", id)
	}
	return s, nil
}

// ErrParked is returned by [Replica.Add] for an event kept until its
// dependencies arrive.
var ErrParked = errors.New("event parked until its dependencies arrive")

// Add takes in e. It returns nil when e was accepted (or already held),
// ErrParked when e waits for dependencies, and the rule or shape error when
// e is invalid. Accepting e also accepts the parked events it unblocks.
func (r *Replica) Add(e *Signed) error {
	if e.RoomID() != r.room {
		return fmt.Errorf("%w: event for room %s", ErrBadTarget, e.RoomID())
	}
	if _, ok := r.events[e.ID]; ok {
		return nil
	}
	if _, ok := r.parked[e.ID]; ok {
		return ErrParked
	}
	queue := []*Signed{e}
	var first error
	for i := 0; len(queue) > 0; i++ {
		ev := queue[0]
		queue = queue[1:]
		snap, err := Check(r, ev)
		var miss *MissingError
		switch {
		case errors.As(err, &miss):
			r.parked[ev.ID] = ev
			for _, id := range miss.IDs {
				r.waiting[id] = append(r.waiting[id], ev.ID)
			}
			err = ErrParked
		case err == nil:
			r.accept(ev, snap)
			for _, id := range r.waiting[ev.ID] {
				if p, ok := r.parked[id]; ok {
					delete(r.parked, id)
					queue = append(queue, p)
				}
			}
			delete(r.waiting, ev.ID)
		}
		if i == 0 {
			first = err
		}
	}
	return first
}

func (r *Replica) accept(e *Signed, snap *Snapshot) {
	r.events[e.ID] = e
	r.after[e.ID] = snap
	for _, p := range e.Prev {
		delete(r.heads, p)
	}
	r.heads[e.ID] = e.Order()
	switch p := e.Content.(type) {
	case *MessagePost:
		r.messages[e.ID] = NewMessage(e)
	case *MessageEdit:
		if !e.Redacted() { // a redacted edit names no message and changes none
			r.messages[p.Message].Apply(e)
		}
	case *MessageDelete:
		r.messages[p.Message].Apply(e)
	case *TaskCreate:
		r.tasks[e.ID] = NewTask(e)
	case *TaskUpdate:
		r.tasks[p.Task].Apply(e)
	}
}

// Heads returns the room's current heads: accepted events no accepted event
// names as a parent.
func (r *Replica) Heads() []Order { return slices.Collect(maps.Values(r.heads)) }

// Events returns every accepted event, in the room's total order.
func (r *Replica) Events() []*Signed {
	es := slices.Collect(maps.Values(r.events))
	slices.SortFunc(es, func(a, b *Signed) int { return a.Order().Compare(b.Order()) })
	return es
}

// Parked returns how many events wait for dependencies.
func (r *Replica) Parked() int { return len(r.parked) }

// RoomState is everything a room shows, in canonical order.
type RoomState struct {
	Control  *Control
	Heads    []Order
	Messages []*Message // display order
	Tasks    []*Task    // creation order
}

// Control returns the room's current control state, the merge of its heads'
// snapshots.
func (r *Replica) Control() (*Snapshot, error) {
	snaps := make([]*Snapshot, 0, len(r.heads))
	for id := range r.heads {
		snaps = append(snaps, r.after[id])
	}
	return Merge(r, snaps)
}

// State returns the room's derived state. Replicas that accepted the same
// set of events return equal states.
func (r *Replica) State() (*RoomState, error) {
	snap, err := r.Control()
	if err != nil {
		return nil, err
	}
	st := &RoomState{Control: snap.State, Heads: r.Heads()}
	slices.SortFunc(st.Heads, Order.Compare)
	st.Messages = slices.Collect(maps.Values(r.messages))
	slices.SortFunc(st.Messages, func(a, b *Message) int { return a.Order().Compare(b.Order()) })
	st.Tasks = slices.Collect(maps.Values(r.tasks))
	slices.SortFunc(st.Tasks, func(a, b *Task) int {
		return Order{Depth: a.Depth, ID: a.ID}.Compare(Order{Depth: b.Depth, ID: b.ID})
	})
	return st, nil
}

// Encode returns the canonical encoding of st, for comparing states.
func (st *RoomState) Encode() []byte {
	b, err := encMode.Marshal(st)
	if err != nil {
		panic(fmt.Sprintf("protocol: encode room state: %v", err))
	}
	return b
}
