// Package protocol is Horenso's wire vocabulary: identifiers, signed room
// events, their canonical encoding, and the room rules every node applies.
// It is pure: no network, disk or clock. This comment is the wire spec in
// brief; docs/PROTOCOL.md is the full specification, precise enough for a
// second implementation.
//
// # Identifiers
//
// A node's [NodeID] is its libp2p peer ID: base58btc of the identity
// multihash of its protobuf-encoded Ed25519 public key, so it starts
// "12D3KooW" and embeds the key. An account is a [Handle] on its home node
// (1 to 32 bytes of a-z 0-9 . _ -, first a letter or digit); its global
// [AccountID] is "handle@nodeid". An [EventID] is the SHA-256 of an event's
// body; a [RoomID] is the ID of the room's create event. Both print as 52
// lowercase, unpadded base32 characters (RFC 4648 alphabet).
//
// # Events
//
// A room is an append-only DAG of events. An event's body is the CBOR map
// of [Event], with integer keys:
//
//	1 version  uint      the room's version: its create's (1 to 4)
//	2 room     bstr(32)  the room ID; 32 zero bytes in a room.create
//	3 type     tstr      the event type, e.g. "message.post"
//	4 author   tstr      the author's handle on the origin node
//	5 origin   tstr      the signing node's ID
//	6 prev     [bstr(32)] the heads the author saw: 1 to MaxPrev IDs,
//	                     sorted bytewise, unique; absent in a room.create
//	7 depth    uint      0 for a create, else 1 + the deepest parent's depth
//	8 time     int       unix milliseconds at the origin; informational only
//	9 payload  map       versions 1 and 2: the type's Content, integer keys
//	                     (see content.go); absent from version 3 on
//	10 seq     uint      version 2 on: the origin's chain position in the
//	                     room, 1 for its first event there (a create is 1);
//	                     absent in version 1
//	11 payload hash bstr(32) version 3 on: SHA-256 of the payload's
//	                     canonical encoding; absent before
//
// The wire form is the CBOR array [body, signature] of two byte strings:
// the body's bytes and the origin's 64-byte Ed25519 signature over them;
// from version 3 on, [body, signature, payload] with the payload's bytes
// third, or, for a redacted message.post or message.edit, [body,
// signature] alone ([Signed.Redact]): the same event, with the same ID.
// The event ID is SHA-256 of the body bytes. Since the origin's ID embeds
// its key, anyone can verify an event alone, and an event's author is the
// account author@origin: a node can only speak for its own accounts.
//
// # Canonical encoding
//
// Envelope, body and payload are CBOR in Core Deterministic Encoding (RFC
// 8949 §4.2.1): shortest integers and lengths, definite lengths, map keys
// sorted bytewise; optional fields are left out when zero or empty, so an
// empty list is absent, not []. The decoder rejects duplicate map keys,
// unknown keys, indefinite lengths, tags, invalid UTF-8, nesting deeper than
// 8, arrays over 4×[MaxListSize] elements and maps over 64 pairs; then it
// re-encodes what it read, and bytes that differ from the input are not
// canonical. So every event has exactly one encoding, and one ID.
//
// # Checks
//
// [Decode] checks an event on its own, in this order, and returns an error
// wrapping exactly one class: input over [MaxEventSize] ([ErrTooLarge]);
// a wire form that is not two byte strings ([ErrMalformed]) or not canonical
// ([ErrNotCanonical]); a body that does not decode ([ErrMalformed], or
// [ErrUnknownVersion] if its version is above [Version]); a version of 0 or
// above [Version] ([ErrUnknownVersion]); a body that is not canonical
// ([ErrNotCanonical]); an origin that is not an Ed25519 peer ID
// ([ErrMalformed]); a signature that is not valid ([ErrBadSignature]); an
// unknown type ([ErrUnknownType]); a payload that does not decode, breaks
// its type's rules ([ErrMalformed]) or is not canonical ([ErrNotCanonical]);
// and an envelope of the wrong shape ([ErrMalformed]). [DecodeStored]
// re-reads what a node accepted earlier without these checks.
//
// [Check] then applies the room rules at the event's causal past: the
// control state (kind, settings, members and roles) of the merged snapshots
// of its parents. The rules are those of the room's version, its create's;
// every event of a room must carry it ([ErrWrongVersion]). Concurrent
// control events are resolved by [Resolve]. In version 1, revocation wins:
// a control event by an account is void when a removal, leave or demotion
// of that account is concurrent with it, neither in the other's causal
// past, even a void one. In version 2, admins are ranked by seniority (the
// order of the event that made each admin; the creator first), only a
// senior admin may demote or remove an admin ([ErrNotSenior]), and control
// events are decided in seniority order: an event is void when a standing
// revocation of its author decided before it is concurrent with it, or
// when the promotion its rights rest on is void. In both, the rest apply in
// the order of (depth, event ID), each only if still allowed. So a removed
// admin's node cannot undo its removal with an event on older parents, and
// in version 2 it cannot erase its remover's history either. Every refusal
// by the rules wraps [ErrRule] ([ErrNotMember], [ErrReadOnly],
// [ErrNotAdmin], [ErrNotAuthor], [ErrNotAuthorOrAdmin], [ErrLastAdmin], [ErrRoomKind],
// [ErrBadTarget], [ErrAlreadyMember], [ErrNotSenior]); an event whose
// parents or depth are inconsistent ([ErrBadParents]), whose version is not
// its room's ([ErrWrongVersion]), or a room.create not signed by its
// creator's node ([ErrWrongOrigin]) is not refused by a rule but
// malformed, which only a partner's event can be; so is an event that
// breaks its origin's chain ([ErrBadChain], below).
//
// # Chains and equivocation
//
// From room version 2 on, each node's events in a room form a chain: an
// event of seq n > 1 names its origin's event of seq n-1 as a parent, and
// no parent of its origin has seq n or more ([ErrBadChain], checked by
// [Check]; a node makes such events with [ChainSuccessor]). Two distinct
// events of one origin at one seq are an equivocation: the origin signed
// two histories. Every fork of a chain makes one, so a node detects it
// when it stores the second (both are valid and kept, as proof). In
// resolution, two concurrent control events of one origin are such a
// proof found in the control events alone, and from the lower one's seq
// on, the origin's control events are void (rule 0 of [Resolve]; the
// snapshot records that seq in [Snapshot].Forks).
//
// With chains, every event a node makes acknowledges its causal past, so
// a node's latest event in a room is a signed delivery receipt: it holds
// every event of another node up to that node's highest seq in its past.
// A node that received events and made none since makes a node.ack
// ([NodeAck]): no payload, any member may send it, nothing shows it.
//
// Finality: a revocation of an account cannot reach back past what every
// other node had settled. It is void when a control event of its target
// is concurrent with it and every witness (a node hosting a member then,
// other than the revoker's and the target's; there must be one) had
// acknowledged that event without the revocation in its past. A node's
// first event with a new control event in its past is a settling event,
// kept in [Snapshot].Acks so that resolution sees it.
//
// # Limits
//
//	MaxEventSize  65536 bytes  one event's wire form
//	MaxTextSize   32768 bytes  a message or task body (UTF-8)
//	MaxNameSize    1024 bytes  names, descriptions, icons, organizations
//	MaxPrev          32        parents of one event
//	MaxListSize     256        members in a create or a member.add, assignees of a task
//	create nonce     32 bytes
//
// # Version history
//
//   - Version 1 (Horenso 0.1): the envelope above; the event types
//     room.create, room.update, member.add, member.role, member.remove,
//     member.leave, member.profile, message.post, message.edit,
//     message.delete, task.create and task.update. A version 1 sync
//     protocol (/horenso/sync/1, see sync.go) carries catch-up traffic.
//   - Version 2: room versions. A room's version is its create's and every
//     event of it carries it; new rooms are version 2, version 1 rooms
//     keep the version 1 rules. The envelope and payloads are unchanged.
//     Version 2 rooms rank admins by seniority ([Member].Since): only a
//     senior admin may demote or remove an admin, and only a standing
//     revocation voids (see [Resolve]). Nodes of version 1 reject version 2
//     events as [ErrUnknownVersion]. Version 2 events carry their
//     origin's chain position (envelope key 10) and follow their origin's
//     previous event in the room ([ErrBadChain]); concurrent control
//     events of one origin void its control events from the fork on.
//     Version 2 rooms made by development builds before chains have no
//     key 10 and are not supported. Event type node.ack ([NodeAck],
//     version 2 only): a node's acknowledgement of what it holds.
//     Finality: a revocation concurrent with a control event of its target
//     that every witness node acknowledged without it is void.
//   - Version 3: redaction. The body holds the payload's SHA-256 (key 11)
//     instead of the payload, which travels beside it, so a node can drop
//     the text of a deleted or edited-away message.post or message.edit
//     and keep a verifiable event ([Signed.Redact]). room.update gains
//     history visibility and retention ([RoomUpdate]). Otherwise the rules
//     of version 2.
//   - Version 4: finality weighs only the revoked account's events that
//     need admin rights and do not give up its own, not its
//     member.profile, member.leave or step down (see [Resolve]): a
//     profile its node publishes by itself no longer voids a concurrent
//     demotion or removal. Otherwise version 3. Nodes of
//     version 3 reject version 4 events as [ErrUnknownVersion].
//   - Additions of several (all room versions, not a new version): a
//     member.add may list up to [MaxListSize] accounts ([MemberAdd].More,
//     payload key 2), each judged as an addition of one would be; one
//     refused refuses the event. Builds before it refuse such an event as
//     malformed and park what follows it in the room; additions of one
//     encode as before.
//   - Files (all room versions, not a new version): a message.post may
//     carry a file ([FileRef], payload key 2), whose bytes member nodes
//     fetch from each other over /horenso/blob/1 (see blob.go). Builds
//     before files refuse such a post as malformed; posts without a file
//     encode as before.
package protocol
