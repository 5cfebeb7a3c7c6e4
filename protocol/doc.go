// Package protocol is Horenso's wire vocabulary: identifiers, signed room
// events, their canonical encoding, and the room rules every node applies.
// It is pure: no network, disk or clock. docs/PROTOCOL.md is the full
// specification; this comment is its summary.
//
// # Events
//
// A room is an append-only Merkle DAG of events. An event's body is the CBOR
// map of [Event] with integer keys: 1 version, 2 room (absent meaning zero
// for a room.create), 3 type, 4 author handle, 5 origin node ID, 6 prev (the
// IDs of the room's heads the author saw, sorted, 1 to [MaxPrev]), 7 depth
// (0 for a create, else 1 + the deepest parent), 8 time (unix ms, purely
// informational), 9 payload (the CBOR of the type's payload struct, integer
// keys). The body is encoded with CBOR Core Deterministic Encoding (RFC 8949
// §4.2), so every implementation produces the same bytes.
//
// The wire form is the CBOR array [body, signature]: a byte string holding
// the body and the origin node's 64-byte Ed25519 signature over it. The
// event ID is SHA-256 of the body; a room's ID is the ID of its create
// event. The origin node ID is the libp2p peer ID of the signing key, so a
// signature can be checked from the event alone, and an event's author is
// the account handle@origin: a node can only speak for its own accounts.
//
// # Checks
//
// [Decode] rejects, with a typed error, input over [MaxEventSize]
// ([ErrTooLarge]), bad CBOR or shapes ([ErrMalformed]), bytes that are not
// the canonical encoding of what they decode to ([ErrNotCanonical]), a
// version it does not know ([ErrUnknownVersion]), an unknown type
// ([ErrUnknownType]) and a bad signature ([ErrBadSignature]). [Check] then
// applies the room rules at the event's causal past; see rules.go.
//
// # Version history
//
//   - Version 1 (Horenso 0.1): the envelope above; room, member, message and
//     task events.
package protocol
