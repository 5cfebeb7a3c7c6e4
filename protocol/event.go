package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// EventType names what an event does. The set is closed per [Version].
type EventType string

// The event types of protocol version 1.
const (
	TypeRoomCreate   EventType = "room.create"
	TypeRoomUpdate   EventType = "room.update"
	TypeMemberAdd    EventType = "member.add"
	TypeMemberRole   EventType = "member.role"
	TypeMemberRemove EventType = "member.remove"
	TypeMemberLeave  EventType = "member.leave"
	// TypeMemberProfile was added to version 1 before any release; nodes
	// of earlier builds refuse it as an unknown type.
	TypeMemberProfile EventType = "member.profile"
	TypeMessagePost   EventType = "message.post"
	TypeMessageEdit   EventType = "message.edit"
	TypeMessageDelete EventType = "message.delete"
	TypeTaskCreate    EventType = "task.create"
	TypeTaskUpdate    EventType = "task.update"
	// TypeNodeAck is a node's acknowledgement ([NodeAck]), in rooms of
	// version 2 and later only.
	TypeNodeAck EventType = "node.ack"
)

// IsControl reports whether events of type t change the room's control state
// (kind, settings, members and roles). Control events are resolved against
// each other in total order; see rules.go.
func (t EventType) IsControl() bool {
	switch t {
	case TypeRoomCreate, TypeRoomUpdate, TypeMemberAdd, TypeMemberRole, TypeMemberRemove, TypeMemberLeave, TypeMemberProfile:
		return true
	}
	return false
}

// Event is the signed body of a room event. Its canonical encoding (CBOR Core
// Deterministic Encoding, integer map keys) is what is signed and hashed.
type Event struct {
	Version uint16          `cbor:"1,keyasint"`
	Room    RoomID          `cbor:"2,keyasint"` // zero for a room.create: the room's ID is the create's ID
	Type    EventType       `cbor:"3,keyasint"`
	Author  Handle          `cbor:"4,keyasint"` // the author's handle on Origin
	Origin  NodeID          `cbor:"5,keyasint"` // the node that signed the event
	Prev    []EventID       `cbor:"6,keyasint,omitempty"`
	Depth   uint64          `cbor:"7,keyasint"` // 0 for a create, else 1 + the largest parent depth
	Time    int64           `cbor:"8,keyasint"` // unix milliseconds at the origin; informational only
	Payload cbor.RawMessage `cbor:"9,keyasint"`
	// Seq is the event's place in its origin's chain in the room, from
	// room version 2 on: 1 for the origin's first event in the room (the
	// create is its creator's node's 1), else 1 + the Seq of the origin's
	// previous event there, which must be a parent ([Check]). Zero, hence
	// absent, in version 1.
	Seq uint64 `cbor:"10,keyasint,omitempty"`
}

// AuthorID returns the author's global account ID.
func (e *Event) AuthorID() AccountID { return NewAccountID(e.Origin, e.Author) }

// Signed is an event as stored and sent: its canonical body, the origin
// node's signature over it, its ID, and its decoded, validated payload.
// A Signed is immutable once made by [Sign] or [Decode].
type Signed struct {
	Event
	ID      EventID
	Content Content
	body    []byte
	sig     []byte
}

// Order is an event's place in the room's total order: by depth, then by ID.
func (s *Signed) Order() Order { return Order{Depth: s.Depth, ID: s.ID} }

// RoomID returns the room the event belongs to (its own ID for a create).
func (s *Signed) RoomID() RoomID {
	if s.Type == TypeRoomCreate {
		return RoomID(s.ID)
	}
	return s.Room
}

// wire is the transport form: [body, signature].
type wire struct {
	_    struct{} `cbor:",toarray"`
	Body []byte
	Sig  []byte
}

// Wire returns the event's transport form, the input [Decode] accepts.
func (s *Signed) Wire() []byte {
	b, err := encMode.Marshal(wire{Body: s.body, Sig: s.sig})
	if err != nil {
		panic(fmt.Sprintf("protocol: encode wire form: %v", err)) // byte strings always encode
	}
	return b
}

// Order is a position in a room's total order. Every node orders the same
// events the same way: by Depth, then by ID bytes.
type Order struct {
	Depth uint64  `cbor:"1,keyasint"`
	ID    EventID `cbor:"2,keyasint"`
}

// Compare returns -1, 0 or +1 as o sorts before, with or after p.
func (o Order) Compare(p Order) int {
	switch {
	case o.Depth < p.Depth:
		return -1
	case o.Depth > p.Depth:
		return 1
	}
	return bytes.Compare(o.ID[:], p.ID[:])
}

// Errors returned by [Decode] and [Sign]. Each wraps more detail.
var (
	ErrTooLarge       = errors.New("event too large")
	ErrMalformed      = errors.New("malformed event")
	ErrNotCanonical   = errors.New("event not canonically encoded")
	ErrBadSignature   = errors.New("bad event signature")
	ErrUnknownVersion = errors.New("unknown event version")
	ErrUnknownType    = errors.New("unknown event type")
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode // for untrusted input: strict and bounded
	recMode cbor.DecMode // for records this node wrote itself: tolerant of size
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   8,
		MaxArrayElements:  MaxListSize * 4,
		MaxMapPairs:       64,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	recMode, err = cbor.DecOptions{MaxArrayElements: 1 << 24, MaxMapPairs: 1 << 24}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Sign completes e, validates it and signs it with key, which must be the
// key of e.Origin (Sign sets Origin and Version when they are empty). The
// payload is taken from content. Sign does not check the room rules: that
// needs the room's history; see [Check]. A room.create of a version with
// chains gets Seq 1 if it has none; any other event's Seq is the caller's
// (see [ChainSuccessor]).
func Sign(key ed25519.PrivateKey, e Event, content Content) (*Signed, error) {
	origin := NodeIDFromKey(key.Public().(ed25519.PublicKey))
	if e.Origin == "" {
		e.Origin = origin
	}
	if e.Origin != origin {
		return nil, fmt.Errorf("sign event: origin %s is not the signing key's node %s", e.Origin, origin)
	}
	if e.Version == 0 {
		e.Version = Version
	}
	if _, ok := content.(*RoomCreate); ok && e.Seq == 0 && e.Version >= versionChains {
		e.Seq = 1
	}
	if content == nil {
		return nil, fmt.Errorf("sign event: %w: no payload", ErrMalformed)
	}
	e.Type = content.eventType()
	payload, err := encMode.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("sign event: encode payload: %w", err)
	}
	e.Payload = payload
	body, err := encMode.Marshal(&e)
	if err != nil {
		return nil, fmt.Errorf("sign event: encode: %w", err)
	}
	sig := ed25519.Sign(key, body)
	// Round-trip through Decode so a locally made event passes exactly the
	// checks a peer will apply, but for the signature just made: verifying
	// it costs more than making it.
	s, err := decode(encodeWire(body, sig), false)
	if err != nil {
		return nil, fmt.Errorf("sign event: %w", err)
	}
	return s, nil
}

func encodeWire(body, sig []byte) []byte {
	b, err := encMode.Marshal(wire{Body: body, Sig: sig})
	if err != nil {
		panic(fmt.Sprintf("protocol: encode wire form: %v", err))
	}
	return b
}

// Decode parses an event's transport form and checks everything that can be
// checked without the room's history: size, canonical encoding, version,
// field formats, payload shape and the origin's signature. Errors wrap one
// of ErrTooLarge, ErrMalformed, ErrNotCanonical, ErrUnknownVersion,
// ErrUnknownType or ErrBadSignature.
func Decode(b []byte) (*Signed, error) { return decode(b, true) }

// decode is Decode, verifying the signature only if verify.
func decode(b []byte, verify bool) (*Signed, error) {
	if len(b) > MaxEventSize {
		return nil, fmt.Errorf("decode event: %w: %d bytes, limit %d", ErrTooLarge, len(b), MaxEventSize)
	}
	var w wire
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("decode event: %w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(encodeWire(w.Body, w.Sig), b) {
		return nil, fmt.Errorf("decode event: %w: envelope", ErrNotCanonical)
	}
	var e Event
	if err := decMode.Unmarshal(w.Body, &e); err != nil {
		// A newer version may add envelope fields this one does not know:
		// report that as the version it is, not as garbage.
		if v := bodyVersion(w.Body); v > Version {
			return nil, fmt.Errorf("decode event: %w: %d", ErrUnknownVersion, v)
		}
		return nil, fmt.Errorf("decode event: %w: %v", ErrMalformed, err)
	}
	if e.Version == 0 || e.Version > Version {
		return nil, fmt.Errorf("decode event: %w: %d", ErrUnknownVersion, e.Version)
	}
	if again, err := encMode.Marshal(&e); err != nil || !bytes.Equal(again, w.Body) {
		return nil, fmt.Errorf("decode event: %w: body", ErrNotCanonical)
	}
	pub, err := e.Origin.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("decode event: %w: origin: %v", ErrMalformed, err)
	}
	if len(w.Sig) != ed25519.SignatureSize || verify && !ed25519.Verify(pub, w.Body, w.Sig) {
		return nil, fmt.Errorf("decode event: %w", ErrBadSignature)
	}
	content, err := decodeContent(e.Type, e.Payload)
	if err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	s := &Signed{Event: e, ID: sha256.Sum256(w.Body), Content: content, body: w.Body, sig: w.Sig}
	if err := s.validateShape(); err != nil {
		return nil, fmt.Errorf("decode event %s: %w: %v", s.ID, ErrMalformed, err)
	}
	return s, nil
}

// bodyVersion returns the version key of a body that failed strict
// decoding, ignoring every other key, or 0 if it cannot be read.
func bodyVersion(body []byte) uint64 {
	var v struct {
		Version uint64 `cbor:"1,keyasint"`
	}
	if recMode.Unmarshal(body, &v) != nil {
		return 0
	}
	return v.Version
}

// PeekID returns the ID of the event whose wire form is b, reading only the
// envelope: nothing else is checked, so the event may still be invalid.
// It lets a receiver skip, or wait for, an event it holds or is checking
// already before paying for [Decode].
func PeekID(b []byte) (EventID, error) {
	if len(b) > MaxEventSize {
		return EventID{}, fmt.Errorf("peek event ID: %w: %d bytes, limit %d", ErrTooLarge, len(b), MaxEventSize)
	}
	var w wire
	if err := recMode.Unmarshal(b, &w); err != nil {
		return EventID{}, fmt.Errorf("peek event ID: %w: %v", ErrMalformed, err)
	}
	return sha256.Sum256(w.Body), nil
}

// DecodeStored parses an event this node accepted earlier, read back from
// its own store. It skips the signature and canonical-form checks, which the
// event passed when it was accepted, and is several times faster than
// [Decode]. Never use it on bytes from a peer.
func DecodeStored(b []byte) (*Signed, error) {
	var w wire
	if err := recMode.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	var e Event
	if err := recMode.Unmarshal(w.Body, &e); err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	c, err := newContent(e.Type)
	if err != nil {
		return nil, fmt.Errorf("decode stored event: %w", err)
	}
	if err := recMode.Unmarshal(e.Payload, c); err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	return &Signed{Event: e, ID: sha256.Sum256(w.Body), Content: c, body: w.Body, sig: w.Sig}, nil
}

// validateShape checks the envelope fields that need no history.
func (s *Signed) validateShape() error {
	if err := s.Author.Validate(); err != nil {
		return err
	}
	if len(s.Prev) > MaxPrev {
		return fmt.Errorf("%d parents, limit %d", len(s.Prev), MaxPrev)
	}
	if !slices.IsSortedFunc(s.Prev, func(a, b EventID) int { return bytes.Compare(a[:], b[:]) }) ||
		len(slices.Compact(slices.Clone(s.Prev))) != len(s.Prev) {
		return errors.New("parents not sorted and unique")
	}
	switch {
	case s.Version < versionChains && s.Seq != 0:
		return fmt.Errorf("seq %d in a version %d event", s.Seq, s.Version)
	case s.Version >= versionChains && s.Seq == 0:
		return errors.New("no seq: events of version 2 and later have one")
	case s.Version >= versionChains && s.Type == TypeRoomCreate && s.Seq != 1:
		return fmt.Errorf("room.create with seq %d, want 1", s.Seq)
	case s.Version < versionChains && s.Type == TypeNodeAck:
		return fmt.Errorf("node.ack in a version %d room", s.Version)
	}
	if s.Type == TypeRoomCreate {
		if !s.Room.IsZero() || len(s.Prev) != 0 || s.Depth != 0 {
			return errors.New("room.create must have no room, no parents and depth 0")
		}
		return nil
	}
	if s.Room.IsZero() || len(s.Prev) == 0 || s.Depth == 0 {
		return errors.New("event must name its room, at least one parent and a depth above 0")
	}
	return nil
}
