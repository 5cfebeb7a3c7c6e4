package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Content is the typed payload of an event: one of the pointer types below.
type Content interface {
	eventType() EventType
	validate() error
}

// RoomKind is what sort of room a room is. It is fixed at creation.
type RoomKind string

// Room kinds, as in ChatWork.
const (
	KindGroup  RoomKind = "group"  // any number of members, managed by admins
	KindDirect RoomKind = "direct" // exactly two members, both admins, fixed
	KindMy     RoomKind = "my"     // one member: an account's personal "my chat"
)

// Role is a member's role in a room, as in ChatWork.
type Role string

// Member roles.
const (
	RoleAdmin    Role = "admin"    // may change members, roles and settings
	RoleMember   Role = "member"   // may post
	RoleReadonly Role = "readonly" // may only read
)

func (r Role) valid() bool { return r == RoleAdmin || r == RoleMember || r == RoleReadonly }

// TaskStatus is whether a task is done.
type TaskStatus string

// Task statuses.
const (
	TaskOpen TaskStatus = "open"
	TaskDone TaskStatus = "done"
)

// LimitType says how a task's due time is meant, as ChatWork's limit_type.
type LimitType string

// Due-time kinds.
const (
	LimitNone LimitType = "none" // no due time; Due is 0
	LimitDate LimitType = "date" // due on the day of Due
	LimitTime LimitType = "time" // due at the instant Due
)

// MemberInfo names an account and the role it has or gets, with the display
// name and organization the adding node knows it by.
type MemberInfo struct {
	Account AccountID `cbor:"1,keyasint"`
	Role    Role      `cbor:"2,keyasint"`
	Name    string    `cbor:"3,keyasint,omitempty"`
	Org     string    `cbor:"4,keyasint,omitempty"`
}

// RoomCreate starts a room. The author becomes an admin; Members lists the
// other initial members. Nonce makes two otherwise equal creates distinct.
type RoomCreate struct {
	Kind        RoomKind     `cbor:"1,keyasint"`
	Name        string       `cbor:"2,keyasint,omitempty"`
	Description string       `cbor:"3,keyasint,omitempty"`
	Icon        string       `cbor:"4,keyasint,omitempty"`
	Members     []MemberInfo `cbor:"5,keyasint,omitempty"`
	Creator     MemberInfo   `cbor:"6,keyasint"` // the author's own entry; Role must be admin
	Nonce       []byte       `cbor:"7,keyasint,omitempty"`
}

// RoomUpdate changes room settings; nil fields stay as they are.
// Visibility and Retention exist from room version 3 on; an update of an
// older room that sets them is malformed.
type RoomUpdate struct {
	Name        *string            `cbor:"1,keyasint,omitempty"`
	Description *string            `cbor:"2,keyasint,omitempty"`
	Icon        *string            `cbor:"3,keyasint,omitempty"`
	Visibility  *HistoryVisibility `cbor:"4,keyasint,omitempty"`
	// Retention is how many days every member node keeps a message
	// after it was posted (by its time) before dropping its text; 0 keeps
	// messages forever.
	Retention *uint32 `cbor:"5,keyasint,omitempty"`
}

// HistoryVisibility says which of a room's messages a member may read:
// all of them, or only those posted while it was a member. It is a room
// setting from room version 3 on; a message is judged by the setting in
// force where it was posted (the control state at its causal past).
type HistoryVisibility string

// History visibilities. The empty value, a room that never set one, means
// VisibilityAll.
const (
	VisibilityAll    HistoryVisibility = "everything"
	VisibilityJoined HistoryVisibility = "joined"
)

// MaxRetentionDays bounds [RoomUpdate].Retention: 100 years.
const MaxRetentionDays = 36500

// MemberAdd adds an account to a group room, or several: Member and, in
// an addition of several, More, the others (at most [MaxListSize] in all,
// no account twice). An addition of one encodes as it did before More
// existed; builds before it refuse one with More as malformed (an unknown
// key). The rules treat each account as a member.add of its own would be,
// and refuse the whole event if any would be refused.
type MemberAdd struct {
	Member MemberInfo   `cbor:"1,keyasint"`
	More   []MemberInfo `cbor:"2,keyasint,omitempty"`
}

// All returns the accounts c adds: Member, then More.
func (c *MemberAdd) All() []MemberInfo {
	if len(c.More) == 0 {
		return []MemberInfo{c.Member}
	}
	return append([]MemberInfo{c.Member}, c.More...)
}

// MemberRole changes a member's role.
type MemberRole struct {
	Account AccountID `cbor:"1,keyasint"`
	Role    Role      `cbor:"2,keyasint"`
}

// MemberRemove removes another member.
type MemberRemove struct {
	Account AccountID `cbor:"1,keyasint"`
}

// MemberLeave removes the author.
type MemberLeave struct{}

// MemberProfile sets how the author is shown to the room: its display name
// and organization. Any member may set its own, in any kind of room; the
// account's node sends it when the names others recorded for it are
// missing or out of date (an admin adding a partner's account knows only
// its ID).
type MemberProfile struct {
	Name string `cbor:"1,keyasint,omitempty"`
	Org  string `cbor:"2,keyasint,omitempty"`
}

// MessagePost posts a message. Body is ChatWork notation in which account
// references ([To:], [rp aid=], [qtmeta aid=], [picon:] ...) carry AccountIDs.
//
// A post with a File is a file post: it shares a file, and Body is the
// optional message that goes with it (it may be empty). The file is
// content like the text: it is edited away, deleted, hidden and redacted
// with it, so a node that drops the payload drops the file's reference.
type MessagePost struct {
	Body string   `cbor:"1,keyasint"`
	File *FileRef `cbor:"2,keyasint,omitempty"`
}

// FileRef names a file's bytes by their SHA-256, with what a member node
// needs to show the file before it holds them. Nodes fetch the bytes from
// each other by the hash (the blob protocol, [BlobProtocolID]) and check
// them against it.
type FileRef struct {
	Hash []byte `cbor:"1,keyasint"`           // SHA-256 of the bytes: 32 bytes
	Size uint64 `cbor:"2,keyasint"`           // in bytes, at most MaxFileSize
	Name string `cbor:"3,keyasint"`           // the file name, without directories
	Type string `cbor:"4,keyasint,omitempty"` // media type, e.g. image/png; empty: unknown
}

// MessageEdit replaces the body of the author's own message.
type MessageEdit struct {
	Message EventID `cbor:"1,keyasint"`
	Body    string  `cbor:"2,keyasint"`
}

// MessageDelete deletes a message.
type MessageDelete struct {
	Message EventID `cbor:"1,keyasint"`
}

// TaskCreate creates a task assigned to one or more members.
type TaskCreate struct {
	Body      string      `cbor:"1,keyasint"`
	Assignees []AccountID `cbor:"2,keyasint"`
	Due       int64       `cbor:"3,keyasint,omitempty"` // unix seconds; 0 with LimitNone
	Limit     LimitType   `cbor:"4,keyasint"`
}

// TaskUpdate changes a task; nil fields stay as they are.
type TaskUpdate struct {
	Task      EventID      `cbor:"1,keyasint"`
	Status    *TaskStatus  `cbor:"2,keyasint,omitempty"`
	Body      *string      `cbor:"3,keyasint,omitempty"`
	Assignees *[]AccountID `cbor:"4,keyasint,omitempty"`
	Due       *int64       `cbor:"5,keyasint,omitempty"`
	Limit     *LimitType   `cbor:"6,keyasint,omitempty"`
}

func (*RoomCreate) eventType() EventType    { return TypeRoomCreate }
func (*RoomUpdate) eventType() EventType    { return TypeRoomUpdate }
func (*MemberAdd) eventType() EventType     { return TypeMemberAdd }
func (*MemberRole) eventType() EventType    { return TypeMemberRole }
func (*MemberRemove) eventType() EventType  { return TypeMemberRemove }
func (*MemberLeave) eventType() EventType   { return TypeMemberLeave }
func (*MessagePost) eventType() EventType   { return TypeMessagePost }
func (*MessageEdit) eventType() EventType   { return TypeMessageEdit }
func (*MessageDelete) eventType() EventType { return TypeMessageDelete }
func (*TaskCreate) eventType() EventType    { return TypeTaskCreate }
func (*TaskUpdate) eventType() EventType    { return TypeTaskUpdate }
func (*MemberProfile) eventType() EventType { return TypeMemberProfile }
func (*NodeAck) eventType() EventType       { return TypeNodeAck }
func (*MessageReact) eventType() EventType  { return TypeMessageReact }

// NodeAck is a node's acknowledgement, from room version 2 on: an event
// with no payload (an empty map) that any member may send. With chains,
// every event of a node acknowledges its causal past; a node.ack is the
// event a node makes only for that, when it has received events it has not
// built on. It is not a control event and nothing shows it.
type NodeAck struct{}

var (
	_ Content = (*RoomCreate)(nil)
	_ Content = (*RoomUpdate)(nil)
	_ Content = (*MemberAdd)(nil)
	_ Content = (*MemberRole)(nil)
	_ Content = (*MemberRemove)(nil)
	_ Content = (*MemberLeave)(nil)
	_ Content = (*MemberProfile)(nil)
	_ Content = (*MessagePost)(nil)
	_ Content = (*MessageEdit)(nil)
	_ Content = (*MessageDelete)(nil)
	_ Content = (*TaskCreate)(nil)
	_ Content = (*TaskUpdate)(nil)
	_ Content = (*NodeAck)(nil)
	_ Content = (*MessageReact)(nil)
)

func newContent(t EventType) (Content, error) {
	switch t {
	case TypeRoomCreate:
		return new(RoomCreate), nil
	case TypeRoomUpdate:
		return new(RoomUpdate), nil
	case TypeMemberAdd:
		return new(MemberAdd), nil
	case TypeMemberRole:
		return new(MemberRole), nil
	case TypeMemberRemove:
		return new(MemberRemove), nil
	case TypeMemberLeave:
		return new(MemberLeave), nil
	case TypeMemberProfile:
		return new(MemberProfile), nil
	case TypeMessagePost:
		return new(MessagePost), nil
	case TypeMessageEdit:
		return new(MessageEdit), nil
	case TypeMessageDelete:
		return new(MessageDelete), nil
	case TypeTaskCreate:
		return new(TaskCreate), nil
	case TypeTaskUpdate:
		return new(TaskUpdate), nil
	case TypeNodeAck:
		return new(NodeAck), nil
	case TypeMessageReact:
		return new(MessageReact), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownType, t)
}

func decodeContent(t EventType, payload cbor.RawMessage) (Content, error) {
	c, err := newContent(t)
	if err != nil {
		return nil, err
	}
	if err := decMode.Unmarshal(payload, c); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrMalformed, t, err)
	}
	if again, err := encMode.Marshal(c); err != nil || !bytes.Equal(again, payload) {
		return nil, fmt.Errorf("%w: %s payload", ErrNotCanonical, t)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrMalformed, t, err)
	}
	return c, nil
}

func checkText(what, s string, limit int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%s is empty", what)
	case len(s) > limit:
		return fmt.Errorf("%s is %d bytes, limit %d", what, len(s), limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8", what)
	}
	return nil
}

func checkOptText(what string, s *string, limit int) error {
	if s == nil {
		return nil
	}
	return checkText(what, *s, limit, false)
}

func (m *MemberInfo) validate() error {
	if err := m.Account.Validate(); err != nil {
		return err
	}
	if !m.Role.valid() {
		return fmt.Errorf("unknown role %q", m.Role)
	}
	if err := checkText("member name", m.Name, MaxNameSize, false); err != nil {
		return err
	}
	return checkText("member organization", m.Org, MaxNameSize, false)
}

func (c *RoomCreate) validate() error {
	switch c.Kind {
	case KindGroup, KindDirect, KindMy:
	default:
		return fmt.Errorf("unknown room kind %q", c.Kind)
	}
	for _, t := range []struct{ what, s string }{{"name", c.Name}, {"description", c.Description}, {"icon", c.Icon}} {
		if err := checkText(t.what, t.s, MaxNameSize, false); err != nil {
			return err
		}
	}
	if len(c.Members) > MaxListSize || len(c.Nonce) > 32 {
		return errors.New("too many members or too long a nonce")
	}
	if err := c.Creator.validate(); err != nil {
		return fmt.Errorf("creator: %w", err)
	}
	if c.Creator.Role != RoleAdmin {
		return errors.New("creator must be admin")
	}
	seen := map[AccountID]bool{c.Creator.Account: true}
	for i := range c.Members {
		if err := c.Members[i].validate(); err != nil {
			return err
		}
		if seen[c.Members[i].Account] {
			return fmt.Errorf("member %s listed twice", c.Members[i].Account)
		}
		seen[c.Members[i].Account] = true
	}
	switch {
	case c.Kind == KindDirect && (len(c.Members) != 1 || c.Members[0].Role != RoleAdmin):
		return errors.New("a direct chat has exactly one other member, an admin")
	case c.Kind == KindMy && len(c.Members) != 0:
		return errors.New("a my chat has no other members")
	}
	return nil
}

func (c *RoomUpdate) validate() error {
	if c.Name == nil && c.Description == nil && c.Icon == nil && c.Visibility == nil && c.Retention == nil {
		return errors.New("room update changes nothing")
	}
	if c.Visibility != nil && *c.Visibility != VisibilityAll && *c.Visibility != VisibilityJoined {
		return fmt.Errorf("unknown history visibility %q", *c.Visibility)
	}
	if c.Retention != nil && *c.Retention > MaxRetentionDays {
		return fmt.Errorf("retention of %d days, limit %d", *c.Retention, MaxRetentionDays)
	}
	if err := checkOptText("name", c.Name, MaxNameSize); err != nil {
		return err
	}
	if err := checkOptText("description", c.Description, MaxNameSize); err != nil {
		return err
	}
	return checkOptText("icon", c.Icon, MaxNameSize)
}

func (c *MemberAdd) validate() error {
	if len(c.More) >= MaxListSize {
		return fmt.Errorf("a member.add lists %d accounts, limit %d", len(c.More)+1, MaxListSize)
	}
	if len(c.More) == 0 {
		return c.Member.validate()
	}
	seen := make(map[AccountID]bool, len(c.More)+1)
	for _, m := range c.All() {
		if err := m.validate(); err != nil {
			return err
		}
		if seen[m.Account] {
			return fmt.Errorf("member %s listed twice", m.Account)
		}
		seen[m.Account] = true
	}
	return nil
}

func (c *MemberRole) validate() error {
	if !c.Role.valid() {
		return fmt.Errorf("unknown role %q", c.Role)
	}
	return c.Account.Validate()
}

func (c *MemberRemove) validate() error { return c.Account.Validate() }
func (c *MemberLeave) validate() error  { return nil }
func (c *NodeAck) validate() error      { return nil }
func (c *MemberProfile) validate() error {
	if err := checkText("member name", c.Name, MaxNameSize, false); err != nil {
		return err
	}
	return checkText("member organization", c.Org, MaxNameSize, false)
}
func (c *MessagePost) validate() error {
	if c.File == nil {
		return checkText("body", c.Body, MaxTextSize, true)
	}
	if err := checkText("body", c.Body, MaxTextSize, false); err != nil {
		return err
	}
	return c.File.validate()
}

func (f *FileRef) validate() error {
	switch {
	case len(f.Hash) != 32:
		return fmt.Errorf("file hash is %d bytes, want 32", len(f.Hash))
	case f.Size > MaxFileSize:
		return fmt.Errorf("file is %d bytes, limit %d", f.Size, MaxFileSize)
	case f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, "/\\\x00"):
		return fmt.Errorf("file name %q is not a plain name", f.Name)
	}
	if err := checkText("file name", f.Name, MaxFileNameSize, true); err != nil {
		return err
	}
	return checkMediaType(f.Type)
}

// checkMediaType accepts "" or type/subtype of printable ASCII without
// spaces, quotes or separators beyond one slash, optionally followed by
// parameters after a ";" (e.g. "text/plain; charset=utf-8").
func checkMediaType(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > MaxFileNameSize {
		return fmt.Errorf("media type is %d bytes, limit %d", len(t), MaxFileNameSize)
	}
	main, _, _ := strings.Cut(t, ";")
	typ, sub, ok := strings.Cut(strings.TrimSpace(main), "/")
	if !ok || !mediaToken(typ) || !mediaToken(sub) {
		return fmt.Errorf("media type %q is not type/subtype", t)
	}
	for _, r := range t {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("media type %q is not printable ASCII", t)
		}
	}
	return nil
}

func mediaToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= 0x20 || r > 0x7e || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

func (c *MessageEdit) validate() error {
	if c.Message.IsZero() {
		return errors.New("no message named")
	}
	return checkText("body", c.Body, MaxTextSize, true)
}

func (c *MessageDelete) validate() error {
	if c.Message.IsZero() {
		return errors.New("no message named")
	}
	return nil
}

func validateAssignees(as []AccountID) error {
	if len(as) == 0 || len(as) > MaxListSize {
		return fmt.Errorf("a task needs 1 to %d assignees", MaxListSize)
	}
	seen := make(map[AccountID]bool, len(as))
	for _, a := range as {
		if err := a.Validate(); err != nil {
			return err
		}
		if seen[a] {
			return fmt.Errorf("assignee %s listed twice", a)
		}
		seen[a] = true
	}
	return nil
}

func validateDue(limit LimitType, due int64) error {
	switch {
	case limit == LimitNone && due != 0:
		return errors.New("a task without a limit has no due time")
	case (limit == LimitDate || limit == LimitTime) && due <= 0:
		return errors.New("a task with a limit needs a due time")
	case limit != LimitNone && limit != LimitDate && limit != LimitTime:
		return fmt.Errorf("unknown limit type %q", limit)
	}
	return nil
}

func (c *TaskCreate) validate() error {
	if err := checkText("body", c.Body, MaxTextSize, true); err != nil {
		return err
	}
	if err := validateAssignees(c.Assignees); err != nil {
		return err
	}
	return validateDue(c.Limit, c.Due)
}

func (c *TaskUpdate) validate() error {
	if c.Task.IsZero() {
		return errors.New("no task named")
	}
	if c.Status == nil && c.Body == nil && c.Assignees == nil && c.Due == nil && c.Limit == nil {
		return errors.New("task update changes nothing")
	}
	if c.Status != nil && *c.Status != TaskOpen && *c.Status != TaskDone {
		return fmt.Errorf("unknown task status %q", *c.Status)
	}
	if c.Body != nil {
		if err := checkText("body", *c.Body, MaxTextSize, true); err != nil {
			return err
		}
	}
	if c.Assignees != nil {
		if err := validateAssignees(*c.Assignees); err != nil {
			return err
		}
	}
	if (c.Due == nil) != (c.Limit == nil) {
		return errors.New("due and limit change together")
	}
	if c.Limit != nil {
		return validateDue(*c.Limit, *c.Due)
	}
	return nil
}
