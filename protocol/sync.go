package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Federation: how nodes name gossip topics and what they send on catch-up
// sync streams. The transport (libp2p) lives in node/p2p; this file is the
// wire part, pure and bounded, so a second implementation can follow it.
//
// # Topics
//
// A room's gossip flows on one gossipsub topic per membership epoch,
// [Topic]: "/horenso/1/room/", the room ID in its text form, "/", and the
// epoch: 16 lower-case hex digits naming the set of nodes that host the
// room's members. A gossip message's data is exactly one event's wire form
// (see [Decode]).
//
// # Sync streams
//
// A node pulls what it lacks from a partner over a libp2p stream of
// protocol [SyncProtocolID] (or [SyncProtocolV1], for a partner that does
// not speak it). The stream carries frames: a 4-byte big-endian length,
// then that many bytes (1 to [MaxFrameSize]) of one CBOR map in Core
// Deterministic Encoding:
//
//	{1: version uint, 2: type uint, 3: payload map}
//
// version is [SyncVersion]; type selects the payload:
//
//	1 request  {1: [want]}
//	           want: {1: room bstr(32), 2: [head bstr(32)] (optional),
//	                  3: true (optional), 4: [chain] (optional, sync/2 only)}
//	           chain: {1: origin tstr, 2: seq uint, 3: id bstr(32)}
//	2 events   {1: room bstr(32), 2: [event bstr]}
//	3 done     {1: [room bstr(32)] (optional), 2: [room bstr(32)] (optional)}
//
// The requester writes a request naming rooms and its heads in each; the
// responder answers with events frames, each carrying events of one
// requested room that the requester lacks, parents before children, and
// ends its answer with one done frame. Version 2 of the protocol adds a
// want's chains: the requester's position on each origin's chain
// ([ChainPos]), from which the responder reads what the requester lacks
// instead of working it out from the heads. A version 1 decoder rejects
// the key, so a want carries chains only on a stream of SyncProtocolID.
// The requester may then write another request on the same stream, or
// close it. The decoder applies the same
// strict rules as for events (no unknown or duplicate keys, no indefinite
// lengths, no tags, canonical encoding) and the limits below.
//
// # Limits
//
//	MaxFrameSize   2 MiB  one frame, without its length prefix
//	MaxSyncRooms   1024   rooms in one request or one done list
//	MaxSyncHeads     64   heads given for one room
//	MaxSyncChains    64   chain positions given for one room
//	MaxFrameEvents 4096   events in one events frame

// TopicPrefix starts every room topic's name; see [Topic].
const TopicPrefix = "/horenso/1/room/"

// Topic returns the name of room's gossipsub topic while nodes are the
// nodes hosting its members: [TopicPrefix], the room ID's text form (see
// [RoomID.String]), "/", and [Epoch] of nodes.
//
// The name changes with the node set, so that when an organization's last
// member leaves or is removed, the remaining nodes move to a topic the
// removed node is not subscribed to: gossipsub's flood publishing sends to
// every subscriber of a topic, whoever the room's members are now.
func Topic(room RoomID, nodes []NodeID) string {
	return TopicPrefix + room.String() + "/" + Epoch(nodes)
}

// Epoch names a set of nodes: the first 8 bytes, in lower-case hex, of the
// SHA-256 of the node IDs' text forms, sorted, deduplicated and each
// followed by a newline. The order of nodes does not matter.
func Epoch(nodes []NodeID) string {
	sorted := slices.Clone(nodes)
	slices.Sort(sorted)
	h := sha256.New()
	for _, n := range slices.Compact(sorted) {
		h.Write([]byte(n))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:epochBytes])
}

const epochBytes = 8

// ErrNotTopic is returned by [ParseTopic] for a name [Topic] did not make.
var ErrNotTopic = errors.New("not a room topic")

// ParseTopic returns the room whose topic is named topic, whatever its
// epoch.
func ParseTopic(topic string) (RoomID, error) {
	s, ok := strings.CutPrefix(topic, TopicPrefix)
	if !ok {
		return RoomID{}, fmt.Errorf("parse topic %q: %w", topic, ErrNotTopic)
	}
	id, epoch, ok := strings.Cut(s, "/")
	if !ok || !isEpoch(epoch) {
		return RoomID{}, fmt.Errorf("parse topic %q: %w", topic, ErrNotTopic)
	}
	room, err := ParseRoomID(id)
	if err != nil || strings.ToLower(id) != id {
		return RoomID{}, fmt.Errorf("parse topic %q: %w", topic, ErrNotTopic)
	}
	return room, nil
}

func isEpoch(s string) bool {
	if len(s) != 2*epochBytes {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// SyncProtocolID is the libp2p protocol ID of catch-up sync streams whose
// wants may carry chain positions ([SyncWant].Chains).
const SyncProtocolID = "/horenso/sync/2"

// SyncProtocolV1 is the protocol ID of sync streams of nodes from before
// chain positions: the same frames, with no want carrying chains. A node
// answers both, and asks for SyncProtocolID first.
const SyncProtocolV1 = "/horenso/sync/1"

// SyncVersion is the sync frame version this implementation writes and the
// only one it reads. Both protocol IDs carry frames of this version.
const SyncVersion = 1

// Limits of the sync protocol. A frame within them is valid everywhere.
const (
	// MaxFrameSize bounds one frame's CBOR bytes (its length prefix aside).
	MaxFrameSize = 2 << 20
	// MaxSyncRooms bounds the rooms of one request and each list of a done
	// frame. A node with more rooms sends several requests.
	MaxSyncRooms = 1024
	// MaxSyncHeads bounds the heads a request gives for one room. A node
	// with more heads sends some of them: the responder then sends events
	// the requester already holds, which is harmless.
	MaxSyncHeads = 64
	// MaxSyncChains bounds the chain positions a request gives for one
	// room. A node holding events of more origins in a room gives none.
	MaxSyncChains = 64
	// MaxFrameEvents bounds the events of one events frame.
	MaxFrameEvents = 4096
)

// frameHeaderSize is the length prefix of a frame.
const frameHeaderSize = 4

// Errors returned by [ReadFrame], [DecodeFrame] and [AppendFrame]. Each
// wraps more detail.
var (
	// ErrFrameTooLarge: the frame is over a size or count limit.
	ErrFrameTooLarge = errors.New("sync frame over limit")
	// ErrFrameMalformed: the frame does not decode, is not canonical, or
	// breaks its type's rules.
	ErrFrameMalformed = errors.New("malformed sync frame")
	// ErrFrameVersion: the frame's version is not SyncVersion.
	ErrFrameVersion = errors.New("unknown sync frame version")
)

// FrameType says what a sync frame carries.
type FrameType uint8

// The frame types of sync version 1.
const (
	FrameRequest FrameType = 1 // requester → responder: [SyncRequest]
	FrameEvents  FrameType = 2 // responder → requester: [SyncEvents]
	FrameDone    FrameType = 3 // responder → requester: [SyncDone]
)

// SyncFrame is one frame of a sync stream: a *[SyncRequest], *[SyncEvents]
// or *[SyncDone].
type SyncFrame interface {
	// FrameType returns the frame's type.
	FrameType() FrameType
	validate() error
}

// SyncRequest asks the responder for the events of some rooms that a node
// with the given heads lacks.
type SyncRequest struct {
	Rooms []SyncWant `cbor:"1,keyasint"` // 1 to MaxSyncRooms, each room once
}

// SyncWant names one room of a request and the requester's heads in it.
// No heads means the requester holds nothing of the room and wants it all.
type SyncWant struct {
	Room  RoomID    `cbor:"1,keyasint"`
	Heads []EventID `cbor:"2,keyasint,omitempty"` // at most MaxSyncHeads
	// Unseen says the requester, subscribed to the room, does not see the
	// responder's subscription (its filter dropped it before it knew the
	// responder shares the room): the responder announces it again.
	Unseen bool `cbor:"3,keyasint,omitempty"`
	// Chains, if any, is the requester's position on every origin's
	// chain in the room that it holds events of, by origin (ascending,
	// each once): it holds the origin's events at every position up to
	// Seq, and ID is its event at Seq. An origin not named is one it
	// holds nothing of. At most MaxSyncChains; a node holding events of
	// more origins gives none. Only on a stream of SyncProtocolID.
	Chains []ChainPos `cbor:"4,keyasint,omitempty"`
}

// ChainPos is a requester's position on one origin's chain in a room: the
// highest position it holds, and its event there. Holding an event means
// holding its parents, and from room version 2 on an origin's event at
// position n names its event at n-1 as a parent (ErrBadChain), so a node
// at position Seq holds the origin's chain up to it.
type ChainPos struct {
	Origin NodeID  `cbor:"1,keyasint"`
	Seq    uint64  `cbor:"2,keyasint"`
	ID     EventID `cbor:"3,keyasint"`
}

// SyncEvents carries events of one requested room, in the order the
// requester should take them in: parents before children.
type SyncEvents struct {
	Room   RoomID   `cbor:"1,keyasint"`
	Events [][]byte `cbor:"2,keyasint"` // 1 to MaxFrameEvents wire forms, each at most MaxEventSize
}

// SyncDone ends the answer to one request.
type SyncDone struct {
	// Refused lists requested rooms the responder did not serve: it does
	// not believe the requester's node hosts a member of them, or holds
	// none of them.
	Refused []RoomID `cbor:"1,keyasint,omitempty"`
	// Resubscribe lists served rooms whose topic the responder subscribes
	// to without having seen the requester's subscription: the requester,
	// if subscribed, should announce its subscription again.
	Resubscribe []RoomID `cbor:"2,keyasint,omitempty"`
}

// FrameType implements [SyncFrame].
func (*SyncRequest) FrameType() FrameType { return FrameRequest }

// FrameType implements [SyncFrame].
func (*SyncEvents) FrameType() FrameType { return FrameEvents }

// FrameType implements [SyncFrame].
func (*SyncDone) FrameType() FrameType { return FrameDone }

var (
	_ SyncFrame = (*SyncRequest)(nil)
	_ SyncFrame = (*SyncEvents)(nil)
	_ SyncFrame = (*SyncDone)(nil)
)

func (f *SyncRequest) validate() error {
	if len(f.Rooms) == 0 {
		return fmt.Errorf("%w: request names no room", ErrFrameMalformed)
	}
	if len(f.Rooms) > MaxSyncRooms {
		return fmt.Errorf("%w: request names %d rooms, limit %d", ErrFrameTooLarge, len(f.Rooms), MaxSyncRooms)
	}
	seen := make(map[RoomID]struct{}, len(f.Rooms))
	for _, w := range f.Rooms {
		if w.Room.IsZero() {
			return fmt.Errorf("%w: zero room", ErrFrameMalformed)
		}
		if _, dup := seen[w.Room]; dup {
			return fmt.Errorf("%w: room %s named twice", ErrFrameMalformed, w.Room)
		}
		seen[w.Room] = struct{}{}
		if len(w.Heads) > MaxSyncHeads {
			return fmt.Errorf("%w: %d heads for room %s, limit %d", ErrFrameTooLarge, len(w.Heads), w.Room, MaxSyncHeads)
		}
		for _, h := range w.Heads {
			if h.IsZero() {
				return fmt.Errorf("%w: zero head in room %s", ErrFrameMalformed, w.Room)
			}
		}
		if err := validChains(w.Chains); err != nil {
			return fmt.Errorf("room %s: %w", w.Room, err)
		}
	}
	return nil
}

// validChains checks a want's chain positions: at most MaxSyncChains, by
// origin ascending, each a node ID, at a position from 1, with an event.
func validChains(chains []ChainPos) error {
	if len(chains) > MaxSyncChains {
		return fmt.Errorf("%w: %d chain positions, limit %d", ErrFrameTooLarge, len(chains), MaxSyncChains)
	}
	for i, c := range chains {
		if i > 0 && c.Origin <= chains[i-1].Origin {
			return fmt.Errorf("%w: chain positions not by origin, each once", ErrFrameMalformed)
		}
		if err := c.Origin.Validate(); err != nil {
			return fmt.Errorf("%w: chain position: %w", ErrFrameMalformed, err)
		}
		if c.Seq == 0 || c.ID.IsZero() {
			return fmt.Errorf("%w: chain position of %s at %d, event %s", ErrFrameMalformed, c.Origin.Short(), c.Seq, c.ID)
		}
	}
	return nil
}

// SplitRequest splits wants, in order, into the fewest runs that each
// make a valid request frame: at most MaxSyncRooms wants, and within
// MaxFrameSize encoded. Each want must be within its own limits.
func SplitRequest(wants []SyncWant) [][]SyncWant {
	var out [][]SyncWant
	start, size := 0, requestOverhead
	for i := range wants {
		n := wants[i].sizeBound()
		if i > start && (i-start == MaxSyncRooms || size+n > MaxFrameSize) {
			out = append(out, wants[start:i])
			start, size = i, requestOverhead
		}
		size += n
	}
	if start < len(wants) {
		out = append(out, wants[start:])
	}
	return out
}

// requestOverhead bounds a request frame's bytes besides its wants: the
// outer map with its version and type, the payload's byte string header,
// its map and the wants' array header.
const requestOverhead = 32

// sizeBound bounds w's encoded size: a map of four keys, the room, each
// head (a 32-byte string and its 2-byte header, 9 bytes of array header),
// Unseen, and each chain position (a map of three keys, the origin with a
// header of up to 9 bytes, a 9-byte seq, the event ID).
func (w *SyncWant) sizeBound() int {
	n := 1 + 1 + 34 + 1 + 9 + 34*len(w.Heads) + 2 + 1 + 9
	for _, c := range w.Chains {
		n += 1 + 1 + 9 + len(c.Origin) + 1 + 9 + 1 + 34
	}
	return n
}

func (f *SyncEvents) validate() error {
	if f.Room.IsZero() {
		return fmt.Errorf("%w: zero room", ErrFrameMalformed)
	}
	if len(f.Events) == 0 {
		return fmt.Errorf("%w: events frame without events", ErrFrameMalformed)
	}
	if len(f.Events) > MaxFrameEvents {
		return fmt.Errorf("%w: %d events, limit %d", ErrFrameTooLarge, len(f.Events), MaxFrameEvents)
	}
	for i, e := range f.Events {
		if len(e) == 0 {
			return fmt.Errorf("%w: event %d is empty", ErrFrameMalformed, i)
		}
		if len(e) > MaxEventSize {
			return fmt.Errorf("%w: event %d is %d bytes, limit %d", ErrFrameTooLarge, i, len(e), MaxEventSize)
		}
	}
	return nil
}

func (f *SyncDone) validate() error {
	for _, l := range [][]RoomID{f.Refused, f.Resubscribe} {
		if len(l) > MaxSyncRooms {
			return fmt.Errorf("%w: done lists %d rooms, limit %d", ErrFrameTooLarge, len(l), MaxSyncRooms)
		}
		for _, r := range l {
			if r.IsZero() {
				return fmt.Errorf("%w: zero room", ErrFrameMalformed)
			}
		}
	}
	return nil
}

// frameWire is a frame's outer map: version, type and the type's payload.
type frameWire struct {
	Version uint64          `cbor:"1,keyasint"`
	Type    uint64          `cbor:"2,keyasint"`
	Payload cbor.RawMessage `cbor:"3,keyasint"`
}

// frameDecMode decodes untrusted frames: strict like decMode, with room for
// a full events frame.
var frameDecMode cbor.DecMode

func init() {
	var err error
	frameDecMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   6,
		// Arrays are bounded by the frame's size (every element takes a
		// byte at least); the count limits are checked after decoding, so
		// they fail with ErrFrameTooLarge.
		MaxArrayElements: MaxFrameSize,
		MaxMapPairs:      16,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// AppendFrame appends f, with its length prefix, to dst. It returns an
// error wrapping ErrFrameTooLarge or ErrFrameMalformed if f breaks a limit
// or a rule that [ReadFrame] would reject it for.
func AppendFrame(dst []byte, f SyncFrame) ([]byte, error) {
	if err := f.validate(); err != nil {
		return dst, fmt.Errorf("encode sync frame: %w", err)
	}
	payload, err := encMode.Marshal(f)
	if err != nil {
		return dst, fmt.Errorf("encode sync frame: %w", err)
	}
	body, err := encMode.Marshal(frameWire{Version: SyncVersion, Type: uint64(f.FrameType()), Payload: payload})
	if err != nil {
		return dst, fmt.Errorf("encode sync frame: %w", err)
	}
	if len(body) > MaxFrameSize {
		return dst, fmt.Errorf("encode sync frame: %w: %d bytes, limit %d", ErrFrameTooLarge, len(body), MaxFrameSize)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// ReadFrame reads one frame from r. It returns io.EOF if r ends cleanly
// before a frame, an error wrapping io.ErrUnexpectedEOF if r ends inside
// one, and otherwise the errors of [DecodeFrame]; a length prefix over
// MaxFrameSize is rejected before the frame is read. It allocates the
// frame as its bytes arrive, not the length announced: a peer that
// announces MaxFrameSize and sends nothing costs 64 KiB.
func ReadFrame(r io.Reader) (SyncFrame, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read sync frame: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, fmt.Errorf("read sync frame: %w: empty", ErrFrameMalformed)
	}
	if n > MaxFrameSize {
		return nil, fmt.Errorf("read sync frame: %w: %d bytes, limit %d", ErrFrameTooLarge, n, MaxFrameSize)
	}
	body, err := readBody(r, int(n))
	if err != nil {
		return nil, fmt.Errorf("read sync frame: %w", err)
	}
	return DecodeFrame(body)
}

// frameReadChunk is the most [ReadFrame] allocates for a frame before its
// bytes arrive; it grows the buffer as they do.
const frameReadChunk = 64 << 10

// readBody reads exactly n bytes from r, allocating as they arrive: at
// most frameReadChunk more than has been read, then twice what has been
// read, up to n. A peer announcing MaxFrameSize and sending nothing costs
// one chunk, not the frame, and the buffer never holds more than n. It
// returns io.ErrUnexpectedEOF if r ends first.
func readBody(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, frameReadChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if len(buf) == n {
				break
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return buf, nil
}

// DecodeFrame decodes one frame's CBOR bytes (without the length prefix)
// and checks it: size, encoding, version, type, and the type's rules and
// limits. Errors wrap ErrFrameTooLarge, ErrFrameMalformed or
// ErrFrameVersion. Whatever DecodeFrame accepts, [AppendFrame] encodes to
// exactly the input.
func DecodeFrame(b []byte) (SyncFrame, error) {
	if len(b) > MaxFrameSize {
		return nil, fmt.Errorf("decode sync frame: %w: %d bytes, limit %d", ErrFrameTooLarge, len(b), MaxFrameSize)
	}
	var w frameWire
	if err := frameDecMode.Unmarshal(b, &w); err != nil {
		// A newer version may add keys this one does not know: report
		// that as the version it is, not as garbage.
		if v := frameVersion(b); v > SyncVersion {
			return nil, fmt.Errorf("decode sync frame: %w: %d", ErrFrameVersion, v)
		}
		return nil, fmt.Errorf("decode sync frame: %w: %v", ErrFrameMalformed, err)
	}
	if w.Version != SyncVersion {
		return nil, fmt.Errorf("decode sync frame: %w: %d", ErrFrameVersion, w.Version)
	}
	var f SyncFrame
	switch w.Type {
	case uint64(FrameRequest):
		f = new(SyncRequest)
	case uint64(FrameEvents):
		f = new(SyncEvents)
	case uint64(FrameDone):
		f = new(SyncDone)
	default:
		return nil, fmt.Errorf("decode sync frame: %w: unknown type %d", ErrFrameMalformed, w.Type)
	}
	if err := frameDecMode.Unmarshal(w.Payload, f); err != nil {
		return nil, fmt.Errorf("decode sync frame: %w: %v", ErrFrameMalformed, err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("decode sync frame: %w", err)
	}
	// Re-encode what was read: bytes that differ were not canonical (this
	// also catches IDs of the wrong length, which decode padded or cut).
	again, err := AppendFrame(nil, f)
	if err != nil || !bytes.Equal(again[frameHeaderSize:], b) {
		return nil, fmt.Errorf("decode sync frame: %w: not canonical", ErrFrameMalformed)
	}
	return f, nil
}

// frameVersion returns the version key of a frame that failed strict
// decoding, ignoring every other key, or 0 if it cannot be read.
func frameVersion(b []byte) uint64 {
	var v struct {
		Version uint64 `cbor:"1,keyasint"`
	}
	if recMode.Unmarshal(b, &v) != nil {
		return 0
	}
	return v.Version
}
