package protocol

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// ErrRule is what every room rule violation is: each of the errors below
// that [Check], [Authorize] and [Replica.Add] return for an event the rules
// do not allow matches it with errors.Is, as well as itself. A caller that
// sees ErrRule knows the event was well formed but not allowed.
var ErrRule = errors.New("not allowed by the room rules")

// Room rule violations, returned (wrapped) by [Check] and [Authorize]. Each
// wraps [ErrRule].
var (
	ErrNotMember = ruleError("author is not a member of the room")
	ErrReadOnly  = ruleError("author is a read-only member")
	ErrNotAdmin  = ruleError("only a room admin may do this")
	ErrNotAuthor = ruleError("only the message's author may do this")
	// ErrNotAuthorOrAdmin: a message may be deleted by its author or a
	// room admin.
	ErrNotAuthorOrAdmin = ruleError("only the message's author or a room admin may delete it")
	ErrLastAdmin        = ruleError("the room's last admin cannot step down without handing over")
	ErrRoomKind         = ruleError("not allowed in this kind of room")
	ErrBadTarget        = ruleError("event refers to something it may not")
	ErrAlreadyMember    = ruleError("account is already a member of the room")
	// ErrNotSenior: in a room of version 2 or later, only an admin senior
	// to another admin may demote or remove it.
	ErrNotSenior = ruleError("only a more senior admin may demote or remove an admin")
)

// Inconsistent events, returned (wrapped) by [Check] and [Authorize]. They
// are not rule violations (they do not wrap [ErrRule]): a node never makes such an
// event, so only a partner's can be one.
var (
	ErrBadParents  = errors.New("event's parents or depth are inconsistent")
	ErrWrongOrigin = errors.New("room create must be signed by the creator's node")
	// ErrWrongVersion: an event's version is not its room's (its
	// parents').
	ErrWrongVersion = errors.New("event's version is not its room's")
	// ErrBadChain: from room version 2 on, an event of Seq n > 1 must
	// name its origin's event of Seq n-1 as a parent, and no parent of
	// its origin may have Seq n or more.
	ErrBadChain = errors.New("event does not follow its origin's previous event in the room")
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
	// Since is an admin's seniority key in a room of version 2 or later:
	// the order of the event that made it admin, the zero Order for the
	// creator, the create's order for admins the create lists. Nil for
	// every other member, and for everyone in a version 1 room. It is
	// never changed in place: a demotion sets it to nil, a promotion to a
	// new value, so entries may share it.
	Since *Order `cbor:"4,keyasint,omitempty"`
}

// compareSeniority compares admin a, whose seniority key is sa, with admin
// b: -1 if a is senior. Seniority is a strict total order: by key, then by
// account ID; a nil key (no admin) sorts after every other.
func compareSeniority(sa *Order, a AccountID, sb *Order, b AccountID) int {
	switch {
	case sa == nil && sb != nil:
		return 1
	case sa != nil && sb == nil:
		return -1
	case sa != nil:
		if c := sa.Compare(*sb); c != 0 {
			return c
		}
	}
	return strings.Compare(string(a), string(b))
}

// senior reports whether member a is senior to member b in c: a is an
// admin whose seniority key sorts before b's. In a version 1 room, where
// nobody has a key, it orders by account ID alone and means nothing.
func (c *Control) senior(a, b AccountID) bool {
	ma, _ := c.Members.Get(a)
	mb, _ := c.Members.Get(b)
	return compareSeniority(ma.Since, a, mb.Since, b) < 0
}

// Control is a room's control state: what it is, its settings and who may
// do what in it. It is derived from the room's control events only.
type Control struct {
	Kind        RoomKind `cbor:"1,keyasint"`
	Name        string   `cbor:"2,keyasint,omitempty"`
	Description string   `cbor:"3,keyasint,omitempty"`
	Icon        string   `cbor:"4,keyasint,omitempty"`
	Members     Members  `cbor:"5,keyasint"`
	// Visibility and Retention are the room's history settings, from
	// room version 3 on ([RoomUpdate]); zero: everything, forever.
	Visibility HistoryVisibility `cbor:"6,keyasint,omitempty"`
	Retention  uint32            `cbor:"7,keyasint,omitempty"`
}

// Clone returns a copy of c that changes apart from c. It costs the same
// however many members c has (see [Members]).
func (c *Control) Clone() *Control {
	d := *c
	return &d
}

// Role returns a's role, or false if a is not a member.
func (c *Control) Role(a AccountID) (Role, bool) {
	m, ok := c.Members.Get(a)
	return m.Role, ok
}

func (c *Control) admins() int {
	n := 0
	for _, m := range c.Members.All() {
		if m.Role == RoleAdmin {
			n++
		}
	}
	return n
}

func newControl(create *Signed) *Control {
	rc := create.Content.(*RoomCreate)
	c := &Control{Kind: rc.Kind, Name: rc.Name, Description: rc.Description, Icon: rc.Icon}
	members := make(map[AccountID]Member, len(rc.Members)+1)
	var creator, listed *Order
	if create.Version >= versionSeniority {
		o := create.Order()
		creator, listed = &Order{}, &o
	}
	members[rc.Creator.Account] = Member{Role: RoleAdmin, Name: rc.Creator.Name, Org: rc.Creator.Org, Since: creator}
	for _, m := range rc.Members {
		e := Member{Role: m.Role, Name: m.Name, Org: m.Org}
		if m.Role == RoleAdmin {
			e.Since = listed
		}
		members[m.Account] = e
	}
	c.Members = MembersOf(members)
	return c
}

// Authorize reports whether e is allowed in a room whose control state at
// e's causal past is c. ref is the event e refers to (the message of an edit
// or delete, the task of a task update) and nil otherwise. A room.create is
// checked on its own and ignores c. The rules are those of e's version,
// which must be the room's ([Check] makes sure).
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
		return authorizeControl(c, e.Version, author, role, e.Content)
	}
	switch p := e.Content.(type) {
	case *NodeAck:
		return nil // any member, any role: it only says what the node holds
	case *MessagePost:
		return canWrite(role)
	case *MessageEdit:
		if e.Redacted() {
			// Its target went with its payload: it changes nothing on
			// any node, so only what the envelope tells is checked.
			return canWrite(role)
		}
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
			return ErrNotAuthorOrAdmin
		}
		return nil
	case *MessageReact:
		// Any member who may read the room may react, read-only ones
		// too, as in ChatWork; only to a message post of the room.
		return checkRef(e, ref, p.Message, TypeMessagePost)
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
		if !c.Members.Has(a) {
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

// authorizeControl checks a control event other than create against c, by
// the rules of room version v.
func authorizeControl(c *Control, v uint16, author AccountID, role Role, content Content) error {
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
		// Each account as its own member.add would be: one already a
		// member refuses the whole event.
		if c.Members.Has(p.Member.Account) {
			return fmt.Errorf("%w: %s", ErrAlreadyMember, p.Member.Account)
		}
		for _, m := range p.More {
			if c.Members.Has(m.Account) {
				return fmt.Errorf("%w: %s", ErrAlreadyMember, m.Account)
			}
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
	m, ok := c.Members.Get(target)
	if !ok {
		return fmt.Errorf("%w: %s is not a member", ErrBadTarget, target)
	}
	if v >= versionSeniority && losesAdmin && m.Role == RoleAdmin && target != author && !c.senior(author, target) {
		return fmt.Errorf("%w: %s is senior to %s", ErrNotSenior, target, author)
	}
	if losesAdmin && m.Role == RoleAdmin && c.admins() == 1 && c.Members.Len() > 1 {
		return ErrLastAdmin
	}
	if _, ok := content.(*MemberRemove); ok && c.Members.Len() == 1 {
		return ErrLastAdmin
	}
	return nil
}

// apply changes c by the control event e, which must be authorized against c.
// From version 2 on, a member made admin gets e's order as its seniority
// key; an admin made admin again keeps its key.
func (c *Control) apply(e *Signed) {
	var since *Order
	if e.Version >= versionSeniority {
		o := e.Order()
		since = &o
	}
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
		if p.Visibility != nil {
			c.Visibility = *p.Visibility
		}
		if p.Retention != nil {
			c.Retention = *p.Retention
		}
	case *MemberAdd:
		// The admins of an addition of several share its order as their
		// seniority key, as those a create lists share the create's.
		c.add(p.Member, since)
		for _, info := range p.More {
			c.add(info, since)
		}
	case *MemberRole:
		m, _ := c.Members.Get(p.Account)
		switch {
		case p.Role != RoleAdmin:
			m.Since = nil
		case m.Role != RoleAdmin:
			m.Since = since
		}
		m.Role = p.Role
		c.Members.Set(p.Account, m)
	case *MemberRemove:
		c.Members.Delete(p.Account)
	case *MemberLeave:
		c.Members.Delete(e.AuthorID())
	case *MemberProfile:
		m, _ := c.Members.Get(e.AuthorID())
		m.Name, m.Org = p.Name, p.Org
		c.Members.Set(e.AuthorID(), m)
	}
}

// add puts the new member info in c, with seniority key since if it is
// an admin.
func (c *Control) add(info MemberInfo, since *Order) {
	m := Member{Role: info.Role, Name: info.Name, Org: info.Org}
	if m.Role == RoleAdmin {
		m.Since = since
	}
	c.Members.Set(info.Account, m)
}

// Snapshot is the control state of a set of events: History is the set of
// control events it was derived from (the room's create included), sorted by
// ID; State is the result of resolving them (see [Resolve]).
type Snapshot struct {
	History History  `cbor:"1,keyasint"`
	State   *Control `cbor:"2,keyasint"`
	// Forks holds, from room version 2 on, for each origin whose control
	// events in History include two concurrent ones, the Seq from which
	// its control events are void (rule 0 of [Resolve]). Nil when none
	// forked. It is derived from History, as State is.
	Forks map[NodeID]uint64 `cbor:"3,keyasint,omitempty"`
	// Acks are, from room version 2 on, the settling events in the set:
	// the non-control events that are their origin's first to have some
	// control event in their causal past (see [Check]), sorted by ID. They
	// tell which control events each node had acknowledged, and with what
	// in its past, for finality (rule 0 of [Resolve]).
	Acks []EventID `cbor:"4,keyasint,omitempty"`
}

// Added returns the IDs of s's history and of its acks that base lacks,
// in order, and whether s holds all of base's: whether s's set grows
// base's.
func (s *Snapshot) Added(base *Snapshot) (history, acks []EventID, ok bool) {
	if history, ok = s.History.Added(base.History); !ok {
		return nil, nil, false
	}
	if acks, ok = AddedIDs(base.Acks, s.Acks); !ok {
		return nil, nil, false
	}
	return history, acks, true
}

// SnapshotKey identifies a snapshot by its history.
type SnapshotKey [32]byte

// Key returns a hash of s.History and s.Acks, which determine s: of the
// sums of the history's buckets (see [History]), so that it costs the
// same however long the history. Keys name snapshots in a node's own
// store only, never on the wire: earlier builds hashed every ID of the
// history in order instead, and the snapshots they stored keep those
// keys (a store may then hold one set under two keys, which costs a
// record and nothing else).
func (s *Snapshot) Key() SnapshotKey {
	h := sha256.New()
	h.Write([]byte("history buckets"))
	s.History.writeKey(h)
	if len(s.Acks) > 0 {
		h.Write([]byte("acks"))
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s.Acks))))
		for _, id := range s.Acks {
			h.Write(id[:])
		}
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
func After(before *Snapshot, e *Signed) *Snapshot { return after(before, e, false) }

// after is [After] for an event that is settling (see [Check]) when
// settling is set: a non-control event that joins the snapshot's Acks.
func after(before *Snapshot, e *Signed, settling bool) *Snapshot {
	if e.Type == TypeRoomCreate {
		return &Snapshot{History: History{}.With(e.ID), State: newControl(e)}
	}
	if !e.Type.IsControl() {
		if !settling {
			return before
		}
		acks := make([]EventID, 0, len(before.Acks)+1)
		acks = append(acks, before.Acks...)
		i, _ := slices.BinarySearchFunc(acks, e.ID, compareIDs)
		acks = slices.Insert(acks, i, e.ID)
		return &Snapshot{History: before.History, State: before.State, Forks: before.Forks, Acks: acks}
	}
	st := before.State.Clone()
	if !forkVoid(before.Forks, e) {
		st.apply(e)
	}
	return &Snapshot{History: before.History.With(e.ID), State: st, Forks: before.Forks, Acks: before.Acks}
}

// forkVoid reports whether rule 0 of [Resolve] voids the control event e
// given forks, the Seq from which each forked origin's control events are
// void: e is by such an origin, at or past that Seq, and not an event by
// which its author gives up its own rights. An event whose causal past
// shows its origin forked adds no concurrent pair, so it is void exactly
// when its origin forked there.
func forkVoid(forks map[NodeID]uint64, e *Signed) bool {
	from, ok := forks[e.Origin]
	if !ok || e.Seq < from {
		return false
	}
	a, rev := revokes(e)
	return !(rev && a == e.AuthorID())
}

func compareIDs(a, b EventID) int { return a.Compare(b) }

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
	largest, same := parents[0], true
	for _, p := range parents[1:] {
		same = same && p == largest
		if p.History.Len()+len(p.Acks) > largest.History.Len()+len(largest.Acks) {
			largest = p
		}
	}
	if same {
		return largest, nil // one snapshot, as a post's parents have in a busy room: no union to build
	}
	// Often one holds all the others, as when a post follows a control
	// event and a head from before it: then it is the union, found
	// without reading the histories the snapshots share.
	if largestHoldsAll(largest, parents) {
		return largest, nil
	}
	union := make(map[EventID]struct{}, largest.History.Len()+len(largest.Acks))
	for _, p := range parents {
		for id := range p.History.All() {
			union[id] = struct{}{}
		}
		for _, id := range p.Acks {
			union[id] = struct{}{}
		}
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

// largestHoldsAll reports whether largest's history and acks hold those
// of every one of parents.
func largestHoldsAll(largest *Snapshot, parents []*Snapshot) bool {
	for _, p := range parents {
		if p != largest && !(largest.History.Contains(p.History) && sortedSubset(p.Acks, largest.Acks)) {
			return false
		}
	}
	return true
}

// Resolve computes the snapshot of a set of control events that holds the
// room's create and, with each event, every control event in its causal
// past (as a snapshot's history does), and from version 2 on the settling
// events among their pasts (as a snapshot's Acks). log must hold the events and their
// snapshots: Resolve reads the snapshots' histories to tell which events
// are concurrent, and from version 2 on the seniority of their authors.
// It sorts events in place. The rules are those of the room's version,
// the create's.
//
// The rule of version 1, the same on every node since it depends on the
// set alone:
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
//
// Version 1 lets a revocation void even when it is void itself, and any
// admin revoke any other, so an ex-admin's node can answer with one
// backdated revocation that voids the control events of the admin it
// names. Version 2 ranks admins by seniority (see [Member]; only a senior
// admin may demote or remove an admin, [ErrNotSenior]), and only a
// revocation that stands voids anything:
//
//  0. Equivocation: an origin node's events in a room form one chain
//     ([Event].Seq, [ErrBadChain]), so two of its control events that are
//     concurrent prove that it signed two histories. For each origin whose
//     control events in the set include a concurrent pair, let s be the
//     least Seq of the lower event of such a pair: its control events of
//     Seq s or more are void (but for those by which an account gives up
//     its own rights), and no revocation among them stands.
//     Finality: a revocation r of an account X by another account is
//     void, and does not stand, when a control event c of X is
//     concurrent with it and every witness of c (the nodes hosting a
//     member after c, or removed by c, but r's origin and c's; there must
//     be one) acknowledged c without r: its first event with c in its
//     causal past (by Seq) does not have r in its past. Those first events
//     are the settling events of [Snapshot].Acks. A revocation cannot
//     reach back past what every other node had settled. From room
//     version 4 on, c must be an event r would void: one that needs
//     admin rights (not X's member.profile or member.leave) and by which
//     X does not give up its own rights. X's own profile, which X's node
//     publishes by itself, settles nothing.
//  1. Decide each control event in a fixed order, the same on every node:
//     first the events by which an account gives up its own rights (they
//     always stand); then every other, by its author's seniority at it
//     (the author's key in the event's causal past; non-admins last, by
//     account), then by [Order].
//  2. An event by X is void when a revocation of X that stands and was
//     decided before it is concurrent with it; or when it needs admin
//     rights and the event that gave X its seniority key at it (X's
//     promotion or admin add) is void: rights resting on a void event are
//     no rights.
//  3. The create gives the initial state; every other event, sorted by
//     [Order], is applied if it is not void and [Authorize] allows it
//     against the state before it, and skipped otherwise.
//
// Every verdict rests only on verdicts decided before it, so the result
// is well defined. A revocation is decided after those of the more senior
// admins that might void it, so a demoted or removed admin's backdated
// revocation is void (its demotion, by a senior, came first and stands),
// and so are the events of any account it promoted on that branch.
func Resolve(log Log, events []*Signed) (*Snapshot, error) {
	s, _, err := resolve(log, events)
	return s, err
}

// Applied returns the control events of s's history that take effect in
// s.State: those step 2 of [Resolve] applies, neither void nor skipped,
// and the removals and leaves that it skips only because their target had
// left or been removed already (by an event sorted before them), which
// would have applied otherwise. It resolves s's set again, reading every
// control event of its history from log, so callers keep the answer for
// s if they ask often.
func Applied(log Log, s *Snapshot) (map[EventID]bool, error) {
	events := make([]*Signed, 0, s.History.Len()+len(s.Acks))
	for _, ids := range []iter.Seq[EventID]{s.History.All(), slices.Values(s.Acks)} {
		for id := range ids {
			e, err := log.Event(id)
			if err != nil {
				return nil, fmt.Errorf("applied control events: load %s: %w", id, err)
			}
			if e == nil {
				return nil, fmt.Errorf("applied control events: event %s missing", id)
			}
			events = append(events, e)
		}
	}
	_, applied, err := resolve(log, events)
	return applied, err
}

// AppliesAfter reports whether the control event e takes effect in s, the
// snapshot after e ([Check]'s answer for e), when prev is the snapshot of
// e's causal past: s's history is prev's and e, and its acks are prev's.
// What [Applied] returns for s is then what it returns for prev, and e if
// applies, without resolving s's set again. Since s's history is e's
// causal past and e, e sorts after every event of prev's history and is
// concurrent with none of them (see [After]): it changes no verdict there,
// and is applied itself unless rule 0 of [Resolve] voids it (its origin
// forked in prev's history). ok is false, and the caller must ask
// Applied, when s and prev are not that. s must be e's own snapshot, not a
// room's merged state: a set of the same events holding e concurrent with
// some of prev's is resolved otherwise.
//
// A node keeps Applied's answer for its rooms' latest snapshots this way:
// in a room of thousands of control events each removal of a member asks
// for it, and resolving the set again costs seconds. Kept as the history
// and those of its events that are not applied (a few, in most rooms), it
// grows by one event without copying a set the size of the history.
func AppliesAfter(prev, s *Snapshot, e *Signed) (applies, ok bool) {
	if !e.Type.IsControl() || e.Type == TypeRoomCreate || prev == nil || prev.History.Has(e.ID) ||
		s.History.Len() != prev.History.Len()+1 || !s.History.Has(e.ID) || !s.History.Contains(prev.History) ||
		!slices.Equal(s.Acks, prev.Acks) {
		return false, false
	}
	return !forkVoid(prev.Forks, e), true
}

// resolve is [Resolve], and returns the events it applied as well.
func resolve(log Log, events []*Signed) (*Snapshot, map[EventID]bool, error) {
	slices.SortFunc(events, func(a, b *Signed) int { return a.Order().Compare(b.Order()) })
	var acks []*Signed
	events = slices.DeleteFunc(events, func(e *Signed) bool {
		if e.Type.IsControl() {
			return false
		}
		acks = append(acks, e)
		return true
	})
	if len(events) == 0 || events[0].Type != TypeRoomCreate {
		return nil, nil, errors.New("resolve control state: no room create")
	}
	v := events[0].Version
	var void map[EventID]struct{}
	var forked map[NodeID]uint64
	var err error
	if v >= versionSeniority {
		void, forked, err = voidedBySeniority(log, v, events[1:], acks)
	} else {
		void, err = voided(log, events[1:])
	}
	if err != nil {
		return nil, nil, fmt.Errorf("resolve control state: %w", err)
	}
	st := newControl(events[0])
	hist := make([]EventID, 0, len(events))
	hist = append(hist, events[0].ID)
	applied := map[EventID]bool{events[0].ID: true}
	gone := make(map[AccountID]Member) // accounts removed so far, as they were
	for _, e := range events[1:] {
		hist = append(hist, e.ID)
		if _, ok := void[e.ID]; ok {
			continue
		}
		target, removal := removes(e)
		role, ok := st.Role(e.AuthorID())
		if !ok || authorizeControl(st, v, e.AuthorID(), role, e.Content) != nil {
			if m, was := gone[target]; removal && was {
				if !st.Members.Has(target) {
					back := st.Clone()
					back.Members.Set(target, m)
					if role, ok := back.Role(e.AuthorID()); ok && authorizeControl(back, v, e.AuthorID(), role, e.Content) == nil {
						applied[e.ID] = true
					}
				}
			}
			continue
		}
		if m, member := st.Members.Get(target); removal && member {
			gone[target] = m
		}
		st.apply(e)
		applied[e.ID] = true
	}
	var ackIDs []EventID
	for _, e := range acks {
		ackIDs = append(ackIDs, e.ID)
	}
	slices.SortFunc(ackIDs, compareIDs)
	return &Snapshot{History: HistoryOf(hist), State: st, Forks: forked, Acks: ackIDs}, applied, nil
}

// removes returns the account a member.remove or member.leave takes out
// of the room.
func removes(e *Signed) (AccountID, bool) {
	switch p := e.Content.(type) {
	case *MemberRemove:
		return p.Account, true
	case *MemberLeave:
		return e.AuthorID(), true
	}
	return "", false
}

// Revokes returns the account whose rights the control event e takes
// away (a member.remove, a member.leave, a member.role to any role but
// admin), and false for other events.
func Revokes(e *Signed) (AccountID, bool) { return revokes(e) }

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
// voids in a version 1 room. es is sorted by [Order] and holds the causal
// past of each of its events but the create.
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
	snaps := snapshots{log: log}
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
			c, err := snaps.concurrent(e, r)
			if err != nil {
				return nil, err
			}
			if c {
				void[e.ID] = struct{}{}
				break
			}
		}
	}
	return void, nil
}

// snapshots loads the snapshots after events lazily, each once.
type snapshots struct {
	log Log
	m   map[EventID]*Snapshot
}

func (s *snapshots) after(e *Signed) (*Snapshot, error) {
	if sn, ok := s.m[e.ID]; ok {
		return sn, nil
	}
	sn, err := s.log.SnapshotAfter(e.ID)
	if err != nil {
		return nil, fmt.Errorf("causal past of %s: %w", e.ID, err)
	}
	if s.m == nil {
		s.m = make(map[EventID]*Snapshot)
	}
	s.m[e.ID] = sn
	return sn, nil
}

// inPast reports whether the control event a is in b's causal past. An
// ancestor is shallower than its descendants, so it first walks back from
// b over the events deeper than a (see walkBack) and reads the snapshot
// after b only if that walk gives up: an origin's consecutive control
// events are most often a few events apart, and the snapshot of a big
// room costs as much to read as thousands of events.
func (s *snapshots) inPast(a, b *Signed) (bool, error) {
	if a.ID == b.ID || a.Depth >= b.Depth {
		return false, nil
	}
	if found, done, err := s.walkBack(a, b); err != nil || done {
		return found, err
	}
	sb, err := s.after(b)
	if err != nil {
		return false, err
	}
	return sb.History.Has(a.ID), nil
}

// pastWalkLimit bounds the events walkBack reads.
const pastWalkLimit = 256

// walkBack looks for a among b's ancestors, following parents only while
// they are deeper than a. It reads at most pastWalkLimit events; done is
// false if it gave up (or an event on the way is not in the log), and
// the caller must decide from the snapshot after b.
func (s *snapshots) walkBack(a, b *Signed) (found, done bool, err error) {
	seen := make(map[EventID]struct{})
	stack := slices.Clone(b.Prev)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == a.ID {
			return true, true, nil
		}
		if _, ok := seen[id]; ok {
			continue
		}
		if len(seen) == pastWalkLimit {
			return false, false, nil
		}
		seen[id] = struct{}{}
		e, err := s.log.Event(id)
		if err != nil {
			return false, false, fmt.Errorf("causal past of %s: %w", b.ID, err)
		}
		if e == nil {
			return false, false, nil
		}
		if e.Depth > a.Depth+1 {
			stack = append(stack, e.Prev...)
		} else if e.Depth == a.Depth+1 && slices.Contains(e.Prev, a.ID) {
			return true, true, nil
		}
	}
	return false, true, nil
}

// concurrent reports whether neither of the control events a and b is in
// the other's causal past.
func (s *snapshots) concurrent(a, b *Signed) (bool, error) {
	if a.ID == b.ID {
		return false, nil
	}
	if in, err := s.inPast(a, b); err != nil || in {
		return false, err // a happened before b
	}
	in, err := s.inPast(b, a)
	return !in && err == nil, err // or after it
}

// grantsAdmin returns the accounts a control event makes admin: those a
// member.add adds with role admin, the account of a member.role to admin.
func grantsAdmin(e *Signed) []AccountID {
	switch p := e.Content.(type) {
	case *MemberAdd:
		var out []AccountID
		for _, m := range p.All() {
			if m.Role == RoleAdmin {
				out = append(out, m.Account)
			}
		}
		return out
	case *MemberRole:
		if p.Role == RoleAdmin {
			return []AccountID{p.Account}
		}
	}
	return nil
}

// needsAdmin reports whether a control event other than create needs its
// author to be an admin: all but a leave and a profile.
func needsAdmin(e *Signed) bool {
	switch e.Type {
	case TypeMemberLeave, TypeMemberProfile:
		return false
	}
	return true
}

// decision is a control event's place in the order in which rules 1 and 2
// of version 2 decide whether it is void.
type decision struct {
	e      *Signed
	self   bool   // the author gives up its own rights: always stands, decided first
	since  *Order // the author's seniority key at e; nil if not an admin there
	author AccountID
}

func compareDecisions(a, b decision) int {
	switch {
	case a.self != b.self:
		if a.self {
			return -1
		}
		return 1
	case a.self:
		return a.e.Order().Compare(b.e.Order())
	}
	if c := compareSeniority(a.since, a.author, b.since, b.author); c != 0 {
		return c
	}
	return a.e.Order().Compare(b.e.Order())
}

// voidedBySeniority returns the IDs of the events of es that rules 1 and 2
// of version 2 (see [Resolve]) void. es is sorted by [Order] and holds the
// causal past of each of its events but the create.
//
// Only events by a suspect account can be void: one with a revocation in
// es, or made admin by an event of a suspect account (any other's events
// stand by induction on their seniority events). So it decides only those
// and the revocations, and loads the snapshots after them (for the
// author's key and the history), lazily, and nothing when es holds no
// revocation. A concurrency test is a binary search in one or two of
// those histories, per pair of an event by X and a revocation of X.
func voidedBySeniority(log Log, v uint16, es, acks []*Signed) (map[EventID]struct{}, map[NodeID]uint64, error) {
	snaps := &snapshots{log: log}
	from, err := forks(snaps, es)
	if err != nil {
		return nil, nil, err
	}
	forked, err := unfinal(snaps, v, es, acks)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range es {
		if forkVoid(from, e) {
			if forked == nil {
				forked = make(map[EventID]struct{})
			}
			forked[e.ID] = struct{}{}
		}
	}
	suspect := make(map[AccountID]bool)
	var queue []AccountID
	for _, e := range es {
		a, ok := revokes(e)
		if _, f := forked[e.ID]; f {
			a, ok = e.AuthorID(), true
		}
		if ok && !suspect[a] {
			suspect[a] = true
			queue = append(queue, a)
		}
	}
	if len(queue) == 0 {
		return nil, nil, nil
	}
	grants := make(map[AccountID][]AccountID) // author -> accounts its events made admin
	for _, e := range es {
		grants[e.AuthorID()] = append(grants[e.AuthorID()], grantsAdmin(e)...)
	}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for _, g := range grants[a] {
			if !suspect[g] {
				suspect[g] = true
				queue = append(queue, g)
			}
		}
	}
	var ds []decision
	for _, e := range es {
		_, rev := revokes(e)
		if suspect[e.AuthorID()] || rev {
			ds = append(ds, decision{e: e, author: e.AuthorID()})
		}
	}
	void, err := decide(snaps, ds, forked)
	return void, from, err
}

// forks returns, for each origin whose control events in es include two
// concurrent ones, the Seq from which the equivocation rule of version 2
// voids its control events (rule 0 of [Resolve]): the least Seq of the
// lower event of such a pair; see [forkVoid].
//
// Cost: an origin's control events on one chain each have the one before
// them (by Seq) in their history, which is one binary search per event
// and, for an origin with two or more control events, the snapshot after
// each. Only an origin that forked is searched pair by pair.
func forks(snaps *snapshots, es []*Signed) (map[NodeID]uint64, error) {
	byOrigin := make(map[NodeID][]*Signed)
	for _, e := range es {
		byOrigin[e.Origin] = append(byOrigin[e.Origin], e)
	}
	var from map[NodeID]uint64
	for origin, cs := range byOrigin {
		if len(cs) < 2 {
			continue
		}
		slices.SortFunc(cs, func(a, b *Signed) int {
			if a.Seq != b.Seq {
				return cmp.Compare(a.Seq, b.Seq)
			}
			return a.Order().Compare(b.Order())
		})
		chain := true
		for i := 1; i < len(cs) && chain; i++ {
			in, err := snaps.inPast(cs[i-1], cs[i])
			if err != nil {
				return nil, err
			}
			chain = in && cs[i-1].Seq < cs[i].Seq
		}
		if chain {
			continue
		}
	pairs:
		for i, a := range cs {
			for _, b := range cs[i+1:] {
				c, err := snaps.concurrent(a, b)
				if err != nil {
					return nil, err
				}
				if c {
					if from == nil {
						from = make(map[NodeID]uint64)
					}
					from[origin] = a.Seq
					break pairs
				}
			}
		}
	}
	return from, nil
}

// unfinal returns the revocations of es that the finality rule of
// version 2 voids (rule 0 of [Resolve]) in a room of version v: a
// revocation r of X by another account is void when a control event c of
// X is concurrent with it, c has witnesses (see [witnessesOf]), and each
// has an event in es or acks (the settling events) with c in its past, the
// first of which (by Seq) does not have r in its past. From version
// [versionAdminFinality] on, c must be one r would void ([finalizes]).
//
// Cost: nothing without a revocation of another account; for each, one
// concurrency test per control event of its target, and per such event
// that is concurrent, a scan of each member node's events in the set.
func unfinal(snaps *snapshots, v uint16, es, acks []*Signed) (map[EventID]struct{}, error) {
	var revs []*Signed
	byAuthor := make(map[AccountID][]*Signed)
	for _, e := range es {
		byAuthor[e.AuthorID()] = append(byAuthor[e.AuthorID()], e)
		if a, ok := revokes(e); ok && a != e.AuthorID() {
			revs = append(revs, e)
		}
	}
	if len(revs) == 0 {
		return nil, nil
	}
	byOrigin := make(map[NodeID][]*Signed)
	for _, e := range slices.Concat(es, acks) {
		byOrigin[e.Origin] = append(byOrigin[e.Origin], e)
	}
	for _, ms := range byOrigin {
		slices.SortFunc(ms, func(a, b *Signed) int {
			if a.Seq != b.Seq {
				return cmp.Compare(a.Seq, b.Seq)
			}
			return a.Order().Compare(b.Order())
		})
	}
	var void map[EventID]struct{}
	for _, r := range revs {
		x, _ := revokes(r)
		for _, c := range byAuthor[x] {
			if v >= versionAdminFinality && !finalizes(c) {
				continue
			}
			settled, err := settledWithout(snaps, byOrigin, c, r)
			if err != nil {
				return nil, err
			}
			if settled {
				if void == nil {
					void = make(map[EventID]struct{})
				}
				void[r.ID] = struct{}{}
				break
			}
		}
	}
	return void, nil
}

// finalizes reports whether c, a control event of an account X, can make
// a concurrent revocation of X void in a room of version 4 or later: only
// an event that such a revocation would void, one that needs admin rights
// (not X's profile or leave) and does not give up X's own rights (those
// always stand).
func finalizes(c *Signed) bool {
	if a, ok := revokes(c); ok && a == c.AuthorID() {
		return false
	}
	return needsAdmin(c)
}

// settledWithout reports whether c and r are concurrent, c has witnesses,
// and every one acknowledged c without r: its first event in byOrigin with
// c in its past does not have r in its past.
func settledWithout(snaps *snapshots, byOrigin map[NodeID][]*Signed, c, r *Signed) (bool, error) {
	if conc, err := snaps.concurrent(c, r); err != nil || !conc {
		return false, err
	}
	sc, err := snaps.after(c)
	if err != nil {
		return false, err
	}
	witnesses := witnessesOf(sc.State, c, r)
	if len(witnesses) == 0 {
		return false, nil
	}
	for _, m := range witnesses {
		var first *Signed
		for _, e := range byOrigin[m] {
			in := e.ID == c.ID
			if !in {
				if in, err = snaps.inPast(c, e); err != nil {
					return false, err
				}
			}
			if in {
				first = e
				break
			}
		}
		if first == nil {
			return false, nil
		}
		if hasR, err := snaps.inPast(r, first); err != nil || hasR {
			return false, err
		}
	}
	return true, nil
}

// witnessesOf returns the nodes whose acknowledgements of the control
// event c decide whether the revocation r may reach back past it: those
// hosting a member in after, the state after c, or the account c removes,
// but r's origin and c's, sorted. c's origin acknowledged c by making it,
// and r's could not have without r having c in its past: only a third
// node's acknowledgement settles anything.
func witnessesOf(after *Control, c, r *Signed) []NodeID {
	s := make(map[NodeID]struct{}, 4)
	for a := range after.Members.All() {
		s[a.Node()] = struct{}{}
	}
	if p, ok := c.Content.(*MemberRemove); ok {
		s[p.Account.Node()] = struct{}{}
	}
	delete(s, r.Origin)
	delete(s, c.Origin)
	return slices.Sorted(maps.Keys(s))
}

// decide applies rules 1 and 2 of version 2 to ds, the events that may be
// void and every revocation, and returns the IDs of the void ones. forked
// are the events the equivocation rule voids: they are void from the
// start, and no revocation among them stands.
func decide(snaps *snapshots, ds []decision, forked map[EventID]struct{}) (map[EventID]struct{}, error) {
	for i := range ds {
		d := &ds[i]
		if a, ok := revokes(d.e); ok && a == d.author {
			d.self = true
			continue
		}
		s, err := snaps.after(d.e)
		if err != nil {
			return nil, err
		}
		// e leaves its author's own entry as it was, so the state after
		// it tells the author's key before it.
		m, _ := s.State.Members.Get(d.author)
		d.since = m.Since
	}
	slices.SortFunc(ds, compareDecisions)
	void := maps.Clone(forked)
	if void == nil {
		void = make(map[EventID]struct{})
	}
	standing := make(map[AccountID][]*Signed) // decided revocations that stand, by target
	for _, d := range ds {
		if _, ok := forked[d.e.ID]; ok {
			continue
		}
		if !d.self {
			v, err := isVoid(snaps, d, void, standing[d.author])
			if err != nil {
				return nil, err
			}
			if v {
				void[d.e.ID] = struct{}{}
				continue
			}
		}
		if a, ok := revokes(d.e); ok {
			standing[a] = append(standing[a], d.e)
		}
	}
	return void, nil
}

// isVoid applies rule 2 to d, given the void events and the standing
// revocations of d's author decided so far.
func isVoid(snaps *snapshots, d decision, void map[EventID]struct{}, revs []*Signed) (bool, error) {
	if d.since != nil && needsAdmin(d.e) {
		if _, ok := void[d.since.ID]; ok {
			return true, nil
		}
	}
	for _, r := range revs {
		c, err := snaps.concurrent(d.e, r)
		if err != nil || c {
			return c, err
		}
	}
	return false, nil
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
	if e.Redacted() {
		return EventID{}, false // a redacted edit names nothing
	}
	switch p := e.Content.(type) {
	case *MessageEdit:
		return p.Message, true
	case *MessageDelete:
		return p.Message, true
	case *TaskUpdate:
		return p.Task, true
	case *MessageReact:
		return p.Message, true
	}
	return EventID{}, false
}

// Check decides whether e may join a room whose accepted events log holds,
// and returns the snapshot after e. The decision depends on e and its
// ancestors alone (and on the immutable event it refers to), so every node
// decides the same. A *MissingError means e's dependencies must be fetched
// first; any other error means e is invalid and must be dropped. An event
// whose version is not its parents' (hence its room's) is refused with
// [ErrWrongVersion]; the rules applied are those of the room's version.
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
		if p.Version != e.Version {
			return nil, fmt.Errorf("%w: version %d in a room of version %d", ErrWrongVersion, e.Version, p.Version)
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
	if e.Version >= versionChains {
		if err := checkChain(e, parents); err != nil {
			return nil, err
		}
	}
	before, err := Merge(log, snaps)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", e.ID, err)
	}
	if err := Authorize(before.State, e, ref); err != nil {
		return nil, err
	}
	return after(before, e, settling(e, parents, snaps, before)), nil
}

// settling reports whether e, of a room with chains and not a control
// event, is its origin's first event with some control event in its causal
// past: its first event in the room, or one whose causal past (before) holds
// more control events than its origin's previous event's, a parent (with
// its snapshot, in the order of parents). Such events go in snapshots'
// Acks: they say what each node had acknowledged of the control events,
// for finality. Every other content event leaves the snapshot as it is, so
// a node makes at most one per control event it learns of.
func settling(e *Signed, parents []*Signed, snaps []*Snapshot, before *Snapshot) bool {
	if e.Version < versionChains || e.Type.IsControl() {
		return false
	}
	if e.Seq == 1 {
		return true
	}
	for i, p := range parents {
		if p.Origin == e.Origin && p.Seq == e.Seq-1 {
			return before.History.Len() > snaps[i].History.Len()
		}
	}
	return false // checkChain makes sure there is such a parent
}

// checkChain checks that e, of a version with chains, follows its
// origin's previous event: for Seq n > 1 a parent of the same origin has
// Seq n-1, and no parent of the same origin has Seq n or more.
func checkChain(e *Signed, parents []*Signed) error {
	found := e.Seq == 1
	for _, p := range parents {
		if p.Origin != e.Origin {
			continue
		}
		if p.Seq >= e.Seq {
			return fmt.Errorf("%w: seq %d after its origin's seq %d", ErrBadChain, e.Seq, p.Seq)
		}
		found = found || p.Seq == e.Seq-1
	}
	if !found {
		return fmt.Errorf("%w: seq %d, but no parent of its origin has seq %d", ErrBadChain, e.Seq, e.Seq-1)
	}
	return nil
}

// ChainSuccessor is [Successor] for an origin whose latest event in the
// room is last, at position seq (0 and a zero last for the origin's first
// event there): in a room of a version with chains, the envelope's Seq is
// seq+1 and last is among the parents, taking one of the MaxPrev places
// first. In a version 1 room it is Successor.
func ChainSuccessor(room RoomID, v uint16, heads []Order, last Order, seq uint64) Event {
	if v < versionChains {
		return Successor(room, v, heads)
	}
	if seq == 0 {
		e := Successor(room, v, heads)
		e.Seq = 1
		return e
	}
	hs := make([]Order, 0, len(heads)+1)
	for _, h := range heads {
		if h.ID != last.ID {
			hs = append(hs, h)
		}
	}
	slices.SortFunc(hs, func(a, b Order) int { return b.Compare(a) })
	if len(hs) > MaxPrev-1 {
		hs = hs[:MaxPrev-1]
	}
	e := Successor(room, v, append(hs, last))
	e.Seq = seq + 1
	return e
}

// Successor returns the envelope of a new event in room, of version v (the
// room's, its create's), that follows heads, the room's current heads: Prev
// names them (the MaxPrev latest when there are more) and Depth is one more
// than the deepest.
func Successor(room RoomID, v uint16, heads []Order) Event {
	hs := slices.Clone(heads)
	slices.SortFunc(hs, func(a, b Order) int { return b.Compare(a) })
	if len(hs) > MaxPrev {
		hs = hs[:MaxPrev]
	}
	e := Event{Version: v, Room: room, Prev: make([]EventID, len(hs))}
	for i, h := range hs {
		e.Prev[i] = h.ID
		e.Depth = max(e.Depth, h.Depth+1)
	}
	slices.SortFunc(e.Prev, compareIDs)
	return e
}
