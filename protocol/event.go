package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/hdevalence/ed25519consensus"
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
	// TypeMessageReact adds or takes back a reaction to a message
	// ([MessageReact]), in rooms of every version. It was added after
	// the first release: nodes of earlier builds refuse it as an
	// unknown type (see docs/PROTOCOL.md, "Reactions").
	TypeMessageReact EventType = "message.react"
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
	Version uint16    `cbor:"1,keyasint"`
	Room    RoomID    `cbor:"2,keyasint"` // zero for a room.create: the room's ID is the create's ID
	Type    EventType `cbor:"3,keyasint"`
	Author  Handle    `cbor:"4,keyasint"` // the author's handle on Origin
	Origin  NodeID    `cbor:"5,keyasint"` // the node that signed the event
	Prev    []EventID `cbor:"6,keyasint,omitempty"`
	Depth   uint64    `cbor:"7,keyasint"` // 0 for a create, else 1 + the largest parent depth
	Time    int64     `cbor:"8,keyasint"` // unix milliseconds at the origin; informational only
	// Payload is the type's payload, embedded in the body, in room
	// versions 1 and 2. From version 3 on it is absent (the body holds
	// PayloadHash) and the payload travels next to the body in the wire
	// form, or not at all once redacted: see [Signed.Redact].
	Payload cbor.RawMessage `cbor:"9,keyasint,omitempty"`
	// Seq is the event's place in its origin's chain in the room, from
	// room version 2 on: 1 for the origin's first event in the room (the
	// create is its creator's node's 1), else 1 + the Seq of the origin's
	// previous event there, which must be a parent ([Check]). Zero, hence
	// absent, in version 1.
	Seq uint64 `cbor:"10,keyasint,omitempty"`
	// PayloadHash is, from room version 3 on, the SHA-256 of the
	// payload's canonical encoding: the body, hence the signature and the
	// event ID, covers the payload through it. Absent in versions 1 and 2.
	PayloadHash []byte `cbor:"11,keyasint,omitempty"`
}

// AuthorID returns the author's global account ID.
func (e *Event) AuthorID() AccountID { return NewAccountID(e.Origin, e.Author) }

// Signed is an event as stored and sent: its canonical body, the origin
// node's signature over it, its ID, and its decoded, validated payload.
// A Signed is immutable once made by [Sign] or [Decode].
//
// From room version 3 on an event may be redacted ([Signed.Redact]): its
// payload is gone, and Content is the zero value of its type's payload,
// which means nothing; check [Signed.Redacted] before reading it.
type Signed struct {
	Event
	ID      EventID
	Content Content
	body    []byte
	sig     []byte
	// payload is the payload's canonical encoding, carried next to the
	// body from room version 3 on; nil if redacted, and in versions 1
	// and 2, where the body holds it.
	payload  []byte
	redacted bool
}

// Redacted reports whether e is the redacted form of its event: a room
// version 3 event whose payload was dropped. Its Content is then a zero
// value and says nothing.
func (s *Signed) Redacted() bool { return s.redacted }

// Redactable reports whether the payload of e may be dropped: e is of room
// version 3 or later and a message.post or message.edit, whose payloads
// nothing else depends on. Control events, deletes and tasks keep
// theirs: every node needs them to compute the room's state.
func (s *Signed) Redactable() bool {
	return s.Version >= versionRedaction && redactableType(s.Type)
}

func redactableType(t EventType) bool { return t == TypeMessagePost || t == TypeMessageEdit }

// ErrNotRedactable is returned by [Signed.Redact] for an event whose
// payload may not be dropped.
var ErrNotRedactable = errors.New("event payload cannot be dropped")

// Redact returns the redacted form of e: the same body and signature, hence
// the same ID, without the payload. Every node verifies it as it verifies
// the full form (the signature covers the payload's hash, not the
// payload). Redacting a redacted event returns it. The error wraps
// ErrNotRedactable unless e.Redactable().
func (s *Signed) Redact() (*Signed, error) {
	if !s.Redactable() {
		return nil, fmt.Errorf("redact %s event %s of version %d: %w", s.Type, s.ID, s.Version, ErrNotRedactable)
	}
	if s.redacted {
		return s, nil
	}
	c, _ := newContent(s.Type) // a redactable type is known
	r := *s
	r.Content, r.payload, r.redacted = c, nil, true
	return &r, nil
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

// The transport form is a CBOR array of byte strings: [body, signature]
// in room versions 1 and 2 and for a redacted event, [body, signature,
// payload] for a full event of version 3 and later.

// Wire returns the event's transport form, the input [Decode] accepts.
func (s *Signed) Wire() []byte { return encodeWire(s.body, s.sig, s.payload) }

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
	var detached []byte
	if e.Version >= versionRedaction {
		h := sha256.Sum256(payload)
		e.Payload, e.PayloadHash, detached = nil, h[:], payload
	} else {
		e.Payload, e.PayloadHash = payload, nil
	}
	body, err := encMode.Marshal(&e)
	if err != nil {
		return nil, fmt.Errorf("sign event: encode: %w", err)
	}
	sig := ed25519.Sign(key, body)
	// Round-trip through Decode so a locally made event passes exactly the
	// checks a peer will apply, but for the signature just made: verifying
	// it costs more than making it.
	s, err := decode(encodeWire(body, sig, detached), false)
	if err != nil {
		return nil, fmt.Errorf("sign event: %w", err)
	}
	return s, nil
}

// encodeWire returns the transport form: [body, sig], or [body, sig,
// payload] when payload is not nil.
func encodeWire(body, sig, payload []byte) []byte {
	w := [][]byte{body, sig}
	if payload != nil {
		w = append(w, payload)
	}
	b, err := encMode.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("protocol: encode wire form: %v", err)) // byte strings always encode
	}
	return b
}

// decodeWire splits a transport form into body, signature and payload
// (nil if absent) with dec; it checks only the shape: an array of two or
// three byte strings.
func decodeWire(dec cbor.DecMode, b []byte) (body, sig, payload []byte, err error) {
	var w [][]byte
	if err := dec.Unmarshal(b, &w); err != nil {
		return nil, nil, nil, err
	}
	switch len(w) {
	case 2:
		return w[0], w[1], nil, nil
	case 3:
		if w[2] == nil {
			w[2] = []byte{} // present, even if empty: decode refuses it as a payload
		}
		return w[0], w[1], w[2], nil
	}
	return nil, nil, nil, fmt.Errorf("wire form of %d items, want 2 or 3", len(w))
}

// Decode parses an event's transport form and checks everything that can be
// checked without the room's history: size, canonical encoding, version,
// field formats, payload shape and the origin's signature. Errors wrap one
// of ErrTooLarge, ErrMalformed, ErrNotCanonical, ErrUnknownVersion,
// ErrUnknownType or ErrBadSignature.
func Decode(b []byte) (*Signed, error) { return decode(b, true) }

// decode is Decode, verifying the signature only if verify.
func decode(b []byte, verify bool) (*Signed, error) {
	s, pub, err := decodeEnvelope(b)
	if err != nil {
		return nil, err
	}
	if verify && !verifySignature(pub, s.body, s.sig) {
		return nil, fmt.Errorf("decode event: %w", ErrBadSignature)
	}
	if err := s.decodeRest(); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeEnvelope is the part of decode before the signature check: it
// returns the event with its body decoded, and its origin's key.
func decodeEnvelope(b []byte) (*Signed, ed25519.PublicKey, error) {
	if len(b) > MaxEventSize {
		return nil, nil, fmt.Errorf("decode event: %w: %d bytes, limit %d", ErrTooLarge, len(b), MaxEventSize)
	}
	body, sig, payload, err := decodeWire(decMode, b)
	if err != nil {
		return nil, nil, fmt.Errorf("decode event: %w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(encodeWire(body, sig, payload), b) {
		return nil, nil, fmt.Errorf("decode event: %w: envelope", ErrNotCanonical)
	}
	var e Event
	if err := decMode.Unmarshal(body, &e); err != nil {
		// A newer version may add envelope fields this one does not know:
		// report that as the version it is, not as garbage.
		if v := bodyVersion(body); v > Version {
			return nil, nil, fmt.Errorf("decode event: %w: %d", ErrUnknownVersion, v)
		}
		return nil, nil, fmt.Errorf("decode event: %w: %v", ErrMalformed, err)
	}
	if e.Version == 0 || e.Version > Version {
		return nil, nil, fmt.Errorf("decode event: %w: %d", ErrUnknownVersion, e.Version)
	}
	if again, err := encMode.Marshal(&e); err != nil || !bytes.Equal(again, body) {
		return nil, nil, fmt.Errorf("decode event: %w: body", ErrNotCanonical)
	}
	pub, err := e.Origin.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("decode event: %w: origin: %v", ErrMalformed, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("decode event: %w", ErrBadSignature)
	}
	return &Signed{Event: e, ID: sha256.Sum256(body), body: body, sig: sig, payload: payload}, pub, nil
}

// decodeRest is the part of decode after the signature check: the
// payload and the envelope fields that need no history.
func (s *Signed) decodeRest() error {
	if err := s.decodePayload(); err != nil {
		return fmt.Errorf("decode event %s: %w", s.ID, err)
	}
	if err := s.validateShape(); err != nil {
		return fmt.Errorf("decode event %s: %w: %v", s.ID, ErrMalformed, err)
	}
	return nil
}

// verifySignature reports whether sig is pub's valid signature of body
// under the ZIP-215 rules (docs/PROTOCOL.md, "Signatures"): the rules
// under which checking signatures one at a time and in a batch always
// agree, so that every node decides alike however it checks them.
func verifySignature(pub ed25519.PublicKey, body, sig []byte) bool {
	return ed25519consensus.Verify(pub, body, sig)
}

// DecodeBatch is Decode of each of wires, with their signatures checked
// in one batch: about a third of the cost of checking each alone when
// most have one origin, as a partner's events in a sync answer do.
// events[i] is the event of wires[i], or nil with errs[i] Decode's error
// for it. A batch that fails is checked again one event at a time, to
// tell which signatures are bad.
func DecodeBatch(wires [][]byte) (events []*Signed, errs []error) {
	events = make([]*Signed, len(wires))
	errs = make([]error, len(wires))
	keys := make([]ed25519.PublicKey, len(wires))
	batch := newBatchVerifier(len(wires))
	n := 0
	for i, b := range wires {
		s, pub, err := decodeEnvelope(b)
		if err == nil {
			err = s.decodeRest()
		}
		if err != nil {
			errs[i] = err
			continue
		}
		events[i], keys[i] = s, pub
		batch.add(pub, s.body, s.sig)
		n++
	}
	if n == 0 || batch.verify() {
		return events, errs
	}
	for i, s := range events {
		if s != nil && !verifySignature(keys[i], s.body, s.sig) {
			events[i], errs[i] = nil, fmt.Errorf("decode event: %w", ErrBadSignature)
		}
	}
	return events, errs
}

// decodePayload checks where s's payload is for its version, that it
// matches the signed hash, and decodes it into s.Content.
func (s *Signed) decodePayload() error {
	raw := s.Event.Payload
	if s.Version >= versionRedaction {
		switch {
		case len(s.Event.Payload) > 0:
			return fmt.Errorf("%w: payload inside the body of a version %d event", ErrMalformed, s.Version)
		case len(s.PayloadHash) != sha256.Size:
			return fmt.Errorf("%w: payload hash of %d bytes", ErrMalformed, len(s.PayloadHash))
		case s.payload == nil:
			// The redacted form: only a payload nothing depends on may
			// be missing.
			if !redactableType(s.Type) {
				if _, err := newContent(s.Type); err != nil {
					return err
				}
				return fmt.Errorf("%w: %s without its payload", ErrMalformed, s.Type)
			}
			s.Content, _ = newContent(s.Type)
			s.redacted = true
			return nil
		}
		if h := sha256.Sum256(s.payload); !bytes.Equal(h[:], s.PayloadHash) {
			return fmt.Errorf("%w: the payload does not match its signed hash", ErrBadSignature)
		}
		raw = s.payload
	} else {
		if s.payload != nil {
			return fmt.Errorf("%w: a payload beside the body of a version %d event", ErrMalformed, s.Version)
		}
		if s.PayloadHash != nil {
			return fmt.Errorf("%w: payload hash in a version %d event", ErrMalformed, s.Version)
		}
	}
	c, err := decodeContent(s.Type, raw)
	if err != nil {
		return err
	}
	s.Content = c
	return nil
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
	body, _, _, err := decodeWire(recMode, b)
	if err != nil {
		return EventID{}, fmt.Errorf("peek event ID: %w: %v", ErrMalformed, err)
	}
	return sha256.Sum256(body), nil
}

// PeekLinks is PeekID that also reads the links of the event's body (as
// [DecodeStoredLinks] does): unchecked, so a caller may use them only to
// skip work it would do anyway, never to decide about the event. If the
// links cannot be read, ok is false and the ID is still returned.
func PeekLinks(b []byte) (id EventID, l Links, ok bool, err error) {
	if len(b) > MaxEventSize {
		return EventID{}, Links{}, false, fmt.Errorf("peek event: %w: %d bytes, limit %d", ErrTooLarge, len(b), MaxEventSize)
	}
	body, _, _, err := decodeWire(recMode, b)
	if err != nil {
		return EventID{}, Links{}, false, fmt.Errorf("peek event: %w: %v", ErrMalformed, err)
	}
	id = sha256.Sum256(body)
	if l.read(cborReader{b: body}) != nil {
		return id, Links{}, false, nil
	}
	return id, l, true, nil
}

// DecodeStored parses an event this node accepted earlier, read back from
// its own store. It skips the signature and canonical-form checks, which the
// event passed when it was accepted, and is several times faster than
// [Decode]. Never use it on bytes from a peer.
func DecodeStored(b []byte) (*Signed, error) {
	body, sig, payload, err := decodeWire(recMode, b)
	if err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	var e Event
	if err := recMode.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	c, err := newContent(e.Type)
	if err != nil {
		return nil, fmt.Errorf("decode stored event: %w", err)
	}
	s := &Signed{Event: e, ID: sha256.Sum256(body), Content: c, body: body, sig: sig, payload: payload}
	raw := e.Payload
	if e.Version >= versionRedaction {
		if payload == nil {
			s.redacted = true
			return s, nil
		}
		raw = payload
	}
	if err := recMode.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("decode stored event: %w: %v", ErrMalformed, err)
	}
	return s, nil
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
	if u, ok := s.Content.(*RoomUpdate); ok && s.Version < versionRedaction && (u.Visibility != nil || u.Retention != nil) {
		return fmt.Errorf("history visibility or retention in a version %d room", s.Version)
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
