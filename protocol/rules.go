package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrRule is what every room rule violation is: each of the errors below
// that [Check], [Authorize] and [Replica.Add] return for an event the rules
// do not allow matches it with errors.Is, as well as itself. A caller that
// sees ErrRule knows the event was well formed but not allowed.
var ErrRule = errors.New("not allowed by the room rules")

// Room rule violations, returned (wrapped) by [Check] and [Authorize]. Each
// wraps [ErrRule].
var (
	ErrNotMember     = ruleError("author is not a member of the room")
	ErrReadOnly      = ruleError("author is a read-only member")
	ErrNotAdmin      = ruleError("only a room admin may do this")
	ErrNotAuthor     = ruleError("only the message's author may do this")
	ErrLastAdmin     = ruleError("the room's last admin cannot step down without handing over")
	ErrRoomKind      = ruleError("not allowed in this kind of room")
	ErrBadTarget     = ruleError("event refers to something it may not")
	ErrAlreadyMember = ruleError("account is already a member of the room")
)

// Inconsistent events, returned (wrapped) by [Check] and [Authorize]. They
// are not rule violations (they do not wrap [ErrRule]): a node never makes such an
// event, so only a partner's can be one.
var (
	ErrBadParents  = errors.New("event's parents or depth are inconsistent")
	ErrWrongOrigin = errors.New("room create must be signed by the creator's node")
)

// ruleError returns a room rule violation: an error with text msg that
// matches itself and [ErrRule].
func ruleError(msg string) error { return &ruleErr{msg} }

// ruleErr is a room rule violation. Each is a distinct pointer, so two
// rules with the same text are still told apart.
type ruleErr struct{ msg string }

func (e *ruleErr) Error() string        { return e.msg }
func (e *ruleErr) Is(target error) bool { return target == ErrRule }

// Member is one member's entry in a room's control state.
type Member struct {
	Role Role   `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint,omitempty"`
	Org  string `cbor:"3,keyasint,omitempty"`
}

// Control is a room's control state: what it is, its settings and who may
// do what in it. It is derived from the room's control events only.
type Control struct {
	Kind        RoomKind             `cbor:"1,keyasint"`
	Name        string               `cbor:"2,keyasint,omitempty"`
	Description string               `cbor:"3,keyasint,omitempty"`
	Icon        string               `cbor:"4,keyasint,omitempty"`
	Members     map[AccountID]Member `cbor:"5,keyasint"`
}

// Clone returns a deep copy of c.
func (c *Control) Clone() *Control {
	d := *c
	d.Members = maps.Clone(c.Members)
	return &d
}

// Role returns a's role, or false if a is not a member.
func (c *Control) Role(a AccountID) (Role, bool) {
	m, ok := c.Members[a]
	return m.Role, ok
}

func (c *Control) admins() int {
	n := 0
	for _, m := range c.Members {
		if m.Role == RoleAdmin {
			n++
		}
	}
	return n
}

func newControl(create *Signed) *Control {
	rc := create.Content.(*RoomCreate)
	c := &Control{Kind: rc.Kind, Name: rc.Name, Description: rc.Description, Icon: rc.Icon,
		Members: make(map[AccountID]Member, len(rc.Members)+1)}
	c.Members[rc.Creator.Account] = Member{Role: RoleAdmin, Name: rc.Creator.Name, Org: rc.Creator.Org}
	for _, m := range rc.Members {
		c.Members[m.Account] = Member{Role: m.Role, Name: m.Name, Org: m.Org}
	}
	return c
}

// Authorize reports whether e is allowed in a room whose control state at
// e's causal past is c. ref is the event e refers to (the message of an edit
// or delete, the task of a task update) and nil otherwise. A room.create is
// checked on its own and ignores c.
func Authorize(c *Control, e *Signed, ref *Signed) error {
	if e.Type == TypeRoomCreate {
		rc := e.Content.(*RoomCreate)
		if rc.Creator.Account != e.AuthorID() {
			return fmt.Errorf("%w: creator %s, author %s", ErrWrongOrigin, rc.Creator.Account, e.AuthorID())
		}
		return nil
	}
	author := e.AuthorID()
	role, ok := c.Role(author)
	if !ok {
		return fmt.Errorf("%s by %s: %w", e.Type, author, ErrNotMember)
	}
	if e.Type.IsControl() {
		return authorizeControl(c, author, role, e.Content)
	}
	switch p := e.Content.(type) {
	case *MessagePost:
		return canWrite(role)
	case *MessageEdit:
		if err := checkRef(e, ref, p.Message, TypeMessagePost); err != nil {
			return err
		}
		if ref.AuthorID() != author {
			return ErrNotAuthor
		}
		return canWrite(role)
	case *MessageDelete:
		if err := checkRef(e, ref, p.Message, TypeMessagePost); err != nil {
			return err
		}
		if ref.AuthorID() != author && role != RoleAdmin {
			return ErrNotAuthor
		}
		return nil
	case *TaskCreate:
		if err := canWrite(role); err != nil {
			return err
		}
		return allMembers(c, p.Assignees)
	case *TaskUpdate:
		if err := checkRef(e, ref, p.Task, TypeTaskCreate); err != nil {
			return err
		}
		if err := canWrite(role); err != nil {
			return err
		}
		if p.Assignees != nil {
			return allMembers(c, *p.Assignees)
		}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnknownType, e.Type)
}

func canWrite(r Role) error {
	if r == RoleReadonly {
		return ErrReadOnly
	}
	return nil
}

func allMembers(c *Control, as []AccountID) error {
	for _, a := range as {
		if _, ok := c.Members[a]; !ok {
			return fmt.Errorf("%w: assignee %s is not a member", ErrBadTarget, a)
		}
	}
	return nil
}

func checkRef(e, ref *Signed, want EventID, typ EventType) error {
	if ref == nil || ref.ID != want || ref.Type != typ || ref.RoomID() != e.Room {
		return fmt.Errorf("%w: %s must name a %s in the same room", ErrBadTarget, e.Type, typ)
	}
	return nil
}

// authorizeControl checks a control event other than create against c.
func authorizeControl(c *Control, author AccountID, role Role, content Content) error {
	if _, ok := content.(*MemberProfile); ok {
		return nil // a member's own name, in any room
	}
	if _, ok := content.(*MemberLeave); !ok && role != RoleAdmin {
		return ErrNotAdmin
	}
	if _, ok := content.(*RoomUpdate); ok {
		if c.Kind == KindDirect {
			return ErrRoomKind
		}
		return nil
	}
	if c.Kind != KindGroup {
		return ErrRoomKind
	}
	// losesAdmin is true when the change takes admin rights from a member.
	var target AccountID
	losesAdmin := false
	switch p := content.(type) {
	case *MemberAdd:
		if _, ok := c.Members[p.Member.Account]; ok {
			return fmt.Errorf("%w: %s", ErrAlreadyMember, p.Member.Account)
		}
		return nil
	case *MemberRole:
		target, losesAdmin = p.Account, p.Role != RoleAdmin
	case *MemberRemove:
		target, losesAdmin = p.Account, true
	case *MemberLeave:
		target, losesAdmin = author, true
	default:
		return fmt.Errorf("%w: %T", ErrUnknownType, content)
	}
	m, ok := c.Members[target]
	if !ok {
		return fmt.Errorf("%w: %s is not a member", ErrBadTarget, target)
	}
	if losesAdmin && m.Role == RoleAdmin && c.admins() == 1 && len(c.Members) > 1 {
		return ErrLastAdmin
	}
	if _, ok := content.(*MemberRemove); ok && len(c.Members) == 1 {
		return ErrLastAdmin
	}
	return nil
}

// apply changes c by the control event e, which must be authorized against c.
func (c *Control) apply(e *Signed) {
	switch p := e.Content.(type) {
	case *RoomUpdate:
		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.Description != nil {
			c.Description = *p.Description
		}
		if p.Icon != nil {
			c.Icon = *p.Icon
		}
	case *MemberAdd:
		c.Members[p.Member.Account] = Member{Role: p.Member.Role, Name: p.Member.Name, Org: p.Member.Org}
	case *MemberRole:
		m := c.Members[p.Account]
		m.Role = p.Role
		c.Members[p.Account] = m
	case *MemberRemove:
		delete(c.Members, p.Account)
	case *MemberLeave:
		delete(c.Members, e.AuthorID())
	case *MemberProfile:
		m := c.Members[e.AuthorID()]
		m.Name, m.Org = p.Name, p.Org
		c.Members[e.AuthorID()] = m
	}
}

// Snapshot is the control state of a set of events: History is the set of
// control events it was derived from (the room's create included), sorted by
// ID; State is the result of resolving them (see [Resolve]).
type Snapshot struct {
	History []EventID `cbor:"1,keyasint"`
	State   *Control  `cbor:"2,keyasint"`
}

// SnapshotKey identifies a snapshot by its history.
type SnapshotKey [32]byte

// Key returns the hash of s.History, which determines s.
func (s *Snapshot) Key() SnapshotKey {
	h := sha256.New()
	for _, id := range s.History {
		h.Write(id[:])
	}
	var k SnapshotKey
	h.Sum(k[:0])
	return k
}

// After returns the snapshot after e, given before, the snapshot of e's
// causal past. e must have passed [Authorize] against before.State.
// Non-control events leave the snapshot as it is. The result is what
// [Resolve] gives for before's history and e: e sorts after its causal
// past and is concurrent with none of it, so it voids nothing there and
// nothing there voids it.
func After(before *Snapshot, e *Signed) *Snapshot {
	if e.Type == TypeRoomCreate {
		return &Snapshot{History: []EventID{e.ID}, State: newControl(e)}
	}
	if !e.Type.IsControl() {
		return before
	}
	st := before.State.Clone()
	st.apply(e)
	h := make([]EventID, 0, len(before.History)+1)
	h = append(h, before.History...)
	i, _ := slices.BinarySearchFunc(h, e.ID, compareIDs)
	h = slices.Insert(h, i, e.ID)
	return &Snapshot{History: h, State: st}
}

func compareIDs(a, b EventID) int { return bytes.Compare(a[:], b[:]) }

// Merge returns the snapshot of the union of the sets behind parents: the
// control state of an event whose parents have those snapshots, or of a
// room whose heads do. When one history contains all others it is returned
// as is; otherwise the union's control events are loaded from log and
// resolved by [Resolve]. Merge reads only the events and snapshots of
// accepted control events, so log must hold every event in the histories.
func Merge(log Log, parents []*Snapshot) (*Snapshot, error) {
	if len(parents) == 0 {
		return nil, errors.New("merge snapshots: none given")
	}
	largest := parents[0]
	for _, p := range parents[1:] {
		if len(p.History) > len(largest.History) {
			largest = p
		}
	}
	union := make(map[EventID]struct{}, len(largest.History))
	for _, p := range parents {
		for _, id := range p.History {
			union[id] = struct{}{}
		}
	}
	if len(union) == len(largest.History) {
		return largest, nil
	}
	events := make([]*Signed, 0, len(union))
	for id := range union {
		e, err := log.Event(id)
		if err != nil {
			return nil, fmt.Errorf("merge snapshots: load %s: %w", id, err)
		}
		if e == nil {
			return nil, fmt.Errorf("merge snapshots: control event %s missing", id)
		}
		events = append(events, e)
	}
	return Resolve(log, events)
}

// Resolve computes the snapshot of a set of control events that holds the
// room's create and, with each event, every control event in its causal
// past (as a snapshot's history does). log must hold the events and their
// snapshots: Resolve reads the snapshots' histories to tell which events
// are concurrent. It sorts events in place.
//
// The rule, the same on every node since it depends on the set alone:
//
//  1. Revocation wins: a control event by an account X is void when the set
//     holds a revocation of X concurrent with it, that is, neither is in
//     the other's causal past. A revocation of X is a member.remove of X,
//     X's member.leave, or a member.role giving X any role but admin. It
//     voids even if it is void or skipped itself: it was valid where it was
//     made. An event by which X gives up its own rights (X's leave, or X's
//     removal or role change of X) is never void.
//  2. The create gives the initial state; every other event, sorted by
//     [Order], is applied if it is not void and [Authorize] allows it
//     against the state before it, and skipped otherwise.
//
// So a removed or demoted admin's node cannot answer with a control event
// on parents from before the change (it is concurrent, hence void), and
// two admins who remove or demote each other concurrently both fail. An
// event with the revocation in its causal past is not concurrent with it:
// an account re-added after its removal acts normally.
func Resolve(log Log, events []*Signed) (*Snapshot, error) {
	slices.SortFunc(events, func(a, b *Signed) int { return a.Order().Compare(b.Order()) })
	if len(events) == 0 || events[0].Type != TypeRoomCreate {
		return nil, errors.New("resolve control state: no room create")
	}
	void, err := voided(log, events[1:])
	if err != nil {
		return nil, fmt.Errorf("resolve control state: %w", err)
	}
	st := newControl(events[0])
	hist := make([]EventID, 0, len(events))
	hist = append(hist, events[0].ID)
	for _, e := range events[1:] {
		hist = append(hist, e.ID)
		if _, ok := void[e.ID]; ok {
			continue
		}
		role, ok := st.Role(e.AuthorID())
		if !ok || authorizeControl(st, e.AuthorID(), role, e.Content) != nil {
			continue
		}
		st.apply(e)
	}
	slices.SortFunc(hist, compareIDs)
	return &Snapshot{History: hist, State: st}, nil
}

// revokes returns the account whose rights the control event e takes away:
// the account a member.remove removes, the author of a member.leave, the
// account a member.role gives a role other than admin. Every control event
// but a leave needs admin rights, and a role other than admin denies them
// whatever the account held before, so a member.role counts exactly when
// it is not a promotion to admin. It returns false for other events.
func revokes(e *Signed) (AccountID, bool) {
	switch p := e.Content.(type) {
	case *MemberRemove:
		return p.Account, true
	case *MemberLeave:
		return e.AuthorID(), true
	case *MemberRole:
		return p.Account, p.Role != RoleAdmin
	}
	return "", false
}

// voided returns the IDs of the events of es that rule 1 of [Resolve]
// voids. es is sorted by [Order] and holds the causal past of each of its
// events but the create.
//
// Cost: one pass to collect the revocations by target, then, for each
// event by a revoked account, a binary search per revocation of it in the
// revocation's history, and in the event's own history only when the event
// is deeper. Histories are loaded lazily, only for such pairs.
func voided(log Log, es []*Signed) (map[EventID]struct{}, error) {
	revs := make(map[AccountID][]*Signed)
	for _, e := range es {
		if a, ok := revokes(e); ok {
			revs[a] = append(revs[a], e)
		}
	}
	if len(revs) == 0 {
		return nil, nil
	}
	hists := make(map[EventID][]EventID)
	past := func(e *Signed) ([]EventID, error) {
		if h, ok := hists[e.ID]; ok {
			return h, nil
		}
		s, err := log.SnapshotAfter(e.ID)
		if err != nil {
			return nil, fmt.Errorf("causal past of %s: %w", e.ID, err)
		}
		hists[e.ID] = s.History
		return s.History, nil
	}
	in := func(h []EventID, id EventID) bool {
		_, ok := slices.BinarySearchFunc(h, id, compareIDs)
		return ok
	}
	void := make(map[EventID]struct{})
	for _, e := range es {
		x := e.AuthorID()
		rs := revs[x]
		if len(rs) == 0 {
			continue
		}
		if a, ok := revokes(e); ok && a == x {
			continue // giving up one's own rights is never void
		}
		for _, r := range rs {
			hr, err := past(r)
			if err != nil {
				return nil, err
			}
			if in(hr, e.ID) {
				continue // e happened before r
			}
			if e.Depth > r.Depth {
				// Only a deeper event can have r in its past.
				he, err := past(e)
				if err != nil {
					return nil, err
				}
				if in(he, r.ID) {
					continue // e happened after r
				}
			}
			void[e.ID] = struct{}{}
			break
		}
	}
	return void, nil
}

// Log is what the room rules read of a room's accepted events. The node
// implements it over Badger; [Replica] over maps.
type Log interface {
	// Event returns an accepted event of the room, or nil if there is none.
	Event(id EventID) (*Signed, error)
	// SnapshotAfter returns the snapshot after an accepted event.
	SnapshotAfter(id EventID) (*Snapshot, error)
}

// MissingError lists events that must be accepted before the checked one
// can be: its missing parents or the message or task it refers to.
type MissingError struct{ IDs []EventID }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%d events missing, first %s", len(e.IDs), e.IDs[0])
}

// Ref returns the ID of the event e refers to, if its type refers to one.
func Ref(e *Signed) (EventID, bool) {
	switch p := e.Content.(type) {
	case *MessageEdit:
		return p.Message, true
	case *MessageDelete:
		return p.Message, true
	case *TaskUpdate:
		return p.Task, true
	}
	return EventID{}, false
}

// Check decides whether e may join a room whose accepted events log holds,
// and returns the snapshot after e. The decision depends on e and its
// ancestors alone (and on the immutable event it refers to), so every node
// decides the same. A *MissingError means e's dependencies must be fetched
// first; any other error means e is invalid and must be dropped.
func Check(log Log, e *Signed) (*Snapshot, error) {
	if e.Type == TypeRoomCreate {
		if err := Authorize(nil, e, nil); err != nil {
			return nil, err
		}
		return After(nil, e), nil
	}
	var missing []EventID
	parents := make([]*Signed, 0, len(e.Prev))
	for _, id := range e.Prev {
		p, err := log.Event(id)
		if err != nil {
			return nil, fmt.Errorf("check %s: load parent: %w", e.ID, err)
		}
		if p == nil {
			missing = append(missing, id)
			continue
		}
		parents = append(parents, p)
	}
	var ref *Signed
	if id, ok := Ref(e); ok {
		r, err := log.Event(id)
		if err != nil {
			return nil, fmt.Errorf("check %s: load reference: %w", e.ID, err)
		}
		if r == nil {
			missing = append(missing, id)
		}
		ref = r
	}
	if len(missing) > 0 {
		return nil, &MissingError{IDs: missing}
	}
	var maxDepth uint64
	snaps := make([]*Snapshot, 0, len(parents))
	for _, p := range parents {
		if p.RoomID() != e.Room {
			return nil, fmt.Errorf("%w: parent %s is in another room", ErrBadParents, p.ID)
		}
		maxDepth = max(maxDepth, p.Depth)
		s, err := log.SnapshotAfter(p.ID)
		if err != nil {
			return nil, fmt.Errorf("check %s: parent snapshot: %w", e.ID, err)
		}
		snaps = append(snaps, s)
	}
	if e.Depth != maxDepth+1 {
		return nil, fmt.Errorf("%w: depth %d, want %d", ErrBadParents, e.Depth, maxDepth+1)
	}
	before, err := Merge(log, snaps)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", e.ID, err)
	}
	if err := Authorize(before.State, e, ref); err != nil {
		return nil, err
	}
	return After(before, e), nil
}

// Successor returns the envelope of a new event in room that follows heads,
// the room's current heads: Prev names them (the MaxPrev latest when there
// are more) and Depth is one more than the deepest.
func Successor(room RoomID, heads []Order) Event {
	hs := slices.Clone(heads)
	slices.SortFunc(hs, func(a, b Order) int { return b.Compare(a) })
	if len(hs) > MaxPrev {
		hs = hs[:MaxPrev]
	}
	e := Event{Room: room, Prev: make([]EventID, len(hs))}
	for i, h := range hs {
		e.Prev[i] = h.ID
		e.Depth = max(e.Depth, h.Depth+1)
	}
	slices.SortFunc(e.Prev, compareIDs)
	return e
}
