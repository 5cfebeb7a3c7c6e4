package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
)

// EventID is the SHA-256 of an event's canonical body (see [Event]).
type EventID [32]byte

// Compare orders event IDs bytewise, the order of a snapshot's lists: -1
// if id sorts before other, 0 if they are equal, +1 otherwise.
func (id EventID) Compare(other EventID) int { return bytes.Compare(id[:], other[:]) }

// RoomID names a room. It is the [EventID] of the room's create event, so a
// room's name commits to who created it and how.
type RoomID [32]byte

// idEncoding renders IDs as 52 lowercase base32 characters.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (id EventID) String() string { return strings.ToLower(idEncoding.EncodeToString(id[:])) }
func (id RoomID) String() string  { return EventID(id).String() }

// IsZero reports whether id is the zero ID, which names no event.
func (id EventID) IsZero() bool { return id == EventID{} }

// IsZero reports whether id is the zero ID, which names no room.
func (id RoomID) IsZero() bool { return id == RoomID{} }

// MarshalText encodes id as in [EventID.String].
func (id EventID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes the form written by [EventID.MarshalText].
func (id *EventID) UnmarshalText(b []byte) error {
	v, err := ParseEventID(string(b))
	*id = v
	return err
}

// MarshalText encodes id as in [RoomID.String].
func (id RoomID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes the form written by [RoomID.MarshalText].
func (id *RoomID) UnmarshalText(b []byte) error {
	v, err := ParseRoomID(string(b))
	*id = v
	return err
}

// ParseEventID parses the form written by [EventID.String].
func ParseEventID(s string) (EventID, error) {
	var id EventID
	if len(s) != 52 {
		return id, fmt.Errorf("parse event id %q: want 52 characters", s)
	}
	b, err := idEncoding.DecodeString(strings.ToUpper(s))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("parse event id %q: not base32", s)
	}
	copy(id[:], b)
	// 52 characters carry 260 bits: the last 4 are padding. Only the
	// spelling with them zero is id's, so every ID has one text form.
	if !strings.EqualFold(id.String(), s) {
		return EventID{}, fmt.Errorf("parse event id %q: nonzero padding bits", s)
	}
	return id, nil
}

// ParseRoomID parses the form written by [RoomID.String].
func ParseRoomID(s string) (RoomID, error) {
	id, err := ParseEventID(s)
	if err != nil {
		return RoomID{}, fmt.Errorf("parse room id: %w", err)
	}
	return RoomID(id), nil
}

// NodeID names a node: it is the node's libp2p peer ID in its usual text form
// ("12D3KooW..."), which embeds the node's Ed25519 public key. Events carry
// their origin NodeID, so anyone can verify a signature from the event alone.
type NodeID string

// peerIDPrefix is the identity multihash header (code 0x00, length 36) followed by
// the protobuf encoding of libp2p's PublicKey{Type: Ed25519, Data: <32 bytes>}.
var peerIDPrefix = []byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}

// NodeIDFromKey returns the NodeID of an Ed25519 public key.
func NodeIDFromKey(pub ed25519.PublicKey) NodeID {
	b := make([]byte, 0, len(peerIDPrefix)+ed25519.PublicKeySize)
	b = append(append(b, peerIDPrefix...), pub...)
	return NodeID(base58.Encode(b))
}

// ErrBadNodeID is returned for a NodeID that is not an Ed25519 libp2p peer ID.
var ErrBadNodeID = errors.New("not an Ed25519 peer ID")

// PublicKey extracts the Ed25519 public key embedded in n.
func (n NodeID) PublicKey() (ed25519.PublicKey, error) {
	b, err := base58.Decode(string(n))
	if err != nil || len(b) != len(peerIDPrefix)+ed25519.PublicKeySize || string(b[:len(peerIDPrefix)]) != string(peerIDPrefix) {
		return nil, fmt.Errorf("node id %q: %w", n, ErrBadNodeID)
	}
	return ed25519.PublicKey(b[len(peerIDPrefix):]), nil
}

// Validate reports whether n is a well-formed Ed25519 peer ID.
func (n NodeID) Validate() error {
	_, err := n.PublicKey()
	return err
}

// Short returns a short prefix-free rendering of n for logs.
func (n NodeID) Short() string {
	if len(n) > 8 {
		return string(n[len(n)-8:])
	}
	return string(n)
}

// Handle is an account's name on its own node: 1 to 32 characters from
// a-z, 0-9, '.', '_' and '-', starting with a letter or digit.
type Handle string

// ErrBadHandle is returned for a Handle that breaks the rules in [Handle].
var ErrBadHandle = errors.New("handle must be 1-32 characters of a-z 0-9 . _ - starting with a letter or digit")

// Validate reports whether h is well formed.
func (h Handle) Validate() error {
	if len(h) == 0 || len(h) > 32 {
		return fmt.Errorf("handle %q: %w", h, ErrBadHandle)
	}
	for i, c := range []byte(h) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("handle %q: %w", h, ErrBadHandle)
		}
	}
	return nil
}

// AccountID addresses an account globally: "handle@nodeid", the account's
// handle on its home node and that node's ID. Only the home node can sign
// events authored by the account.
type AccountID string

// NewAccountID joins a handle and its home node.
func NewAccountID(node NodeID, h Handle) AccountID { return AccountID(string(h) + "@" + string(node)) }

// Node returns the account's home node.
func (a AccountID) Node() NodeID {
	_, n, _ := strings.Cut(string(a), "@")
	return NodeID(n)
}

// Handle returns the account's handle on its home node.
func (a AccountID) Handle() Handle {
	h, _, _ := strings.Cut(string(a), "@")
	return Handle(h)
}

// ErrBadAccountID is returned for an AccountID that is not "handle@nodeid".
var ErrBadAccountID = errors.New("account id must be handle@nodeid")

// Validate reports whether a is well formed.
func (a AccountID) Validate() error {
	h, n, ok := strings.Cut(string(a), "@")
	if !ok {
		return fmt.Errorf("account %q: %w", a, ErrBadAccountID)
	}
	if err := Handle(h).Validate(); err != nil {
		return fmt.Errorf("account %q: %w", a, err)
	}
	if err := NodeID(n).Validate(); err != nil {
		return fmt.Errorf("account %q: %w", a, err)
	}
	return nil
}
