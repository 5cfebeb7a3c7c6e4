package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
)

// # Verify streams
//
// An operator checks that a partner holds the same events of a room as
// this node (`horenso room verify`) over a libp2p stream of protocol
// [VerifyProtocolID]: the requester writes one [VerifyRequest], the
// responder one [VerifyAnswer], and the stream ends. Each message is
// framed like a sync frame (a 4-byte big-endian length, then that many
// bytes, 1 to [MaxVerifySize], of one CBOR map in Core Deterministic
// Encoding), decoded with the same strict rules:
//
//	request {1: room bstr(32), 2: [head bstr(32)] (optional)}
//	answer  {1: refused bool (optional), 2: [head bstr(32)] (optional), 3: [head bstr(32)] (optional)}
//
// Both sides give at most [MaxSyncHeads] heads. Two nodes with the same
// heads in a room hold the same events of it (an event set is its heads
// and their ancestors): the answer's heads say whether they do, and its
// held list, the requester's heads the responder holds, says which side
// lacks what. A responder refuses (refused true, nothing else) a room the
// requester's node does not host a member of now, as it refuses to sync it.
// A node without this protocol cannot be verified; sync is unaffected.

// VerifyProtocolID is the libp2p protocol ID of verify streams.
const VerifyProtocolID = "/horenso/verify/1"

// MaxVerifySize bounds one verify message's CBOR bytes.
const MaxVerifySize = 16 << 10

// VerifyRequest asks a partner for its heads in Room, giving the
// requester's.
type VerifyRequest struct {
	Room  RoomID    `cbor:"1,keyasint"`
	Heads []EventID `cbor:"2,keyasint,omitempty"` // at most MaxSyncHeads
}

// VerifyAnswer answers a VerifyRequest.
type VerifyAnswer struct {
	// Refused: the responder does not share the room with the requester.
	Refused bool `cbor:"1,keyasint,omitempty"`
	// Heads are the responder's heads in the room, at most MaxSyncHeads.
	Heads []EventID `cbor:"2,keyasint,omitempty"`
	// Held lists the request's heads that the responder holds.
	Held []EventID `cbor:"3,keyasint,omitempty"`
}

func checkHeads(what string, hs []EventID) error {
	if len(hs) > MaxSyncHeads {
		return fmt.Errorf("%w: %d %s, limit %d", ErrFrameTooLarge, len(hs), what, MaxSyncHeads)
	}
	for _, h := range hs {
		if h.IsZero() {
			return fmt.Errorf("%w: zero event in %s", ErrFrameMalformed, what)
		}
	}
	return nil
}

func (r *VerifyRequest) validate() error {
	if r.Room.IsZero() {
		return fmt.Errorf("%w: zero room", ErrFrameMalformed)
	}
	return checkHeads("heads", r.Heads)
}

func (a *VerifyAnswer) validate() error {
	if a.Refused && (len(a.Heads) > 0 || len(a.Held) > 0) {
		return fmt.Errorf("%w: a refusal with heads", ErrFrameMalformed)
	}
	if err := checkHeads("heads", a.Heads); err != nil {
		return err
	}
	return checkHeads("held heads", a.Held)
}

// verifyMessage is a *VerifyRequest or a *VerifyAnswer.
type verifyMessage interface{ validate() error }

// WriteVerify writes m, a *VerifyRequest or *VerifyAnswer, with its length
// prefix. It returns an error wrapping ErrFrameTooLarge or
// ErrFrameMalformed if m breaks a limit or rule.
func WriteVerify(w io.Writer, m verifyMessage) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("encode verify message: %w", err)
	}
	body, err := encMode.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode verify message: %w", err)
	}
	if len(body) > MaxVerifySize {
		return fmt.Errorf("encode verify message: %w: %d bytes", ErrFrameTooLarge, len(body))
	}
	_, err = w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	return err
}

// ReadVerify reads one verify message from r into m, a *VerifyRequest or
// *VerifyAnswer, and checks it; errors wrap ErrFrameTooLarge,
// ErrFrameMalformed or the reader's error.
func ReadVerify(r io.Reader, m verifyMessage) error {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("read verify message: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxVerifySize {
		return fmt.Errorf("read verify message: %w: %d bytes", ErrFrameTooLarge, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return fmt.Errorf("read verify message: %w", err)
	}
	if err := frameDecMode.Unmarshal(body, m); err != nil {
		return fmt.Errorf("read verify message: %w: %v", ErrFrameMalformed, err)
	}
	if err := m.validate(); err != nil {
		return fmt.Errorf("read verify message: %w", err)
	}
	return nil
}

var (
	_ verifyMessage = (*VerifyRequest)(nil)
	_ verifyMessage = (*VerifyAnswer)(nil)
)
