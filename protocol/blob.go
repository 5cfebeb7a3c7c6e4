package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// # Blob streams
//
// A member node fetches a file's bytes ([FileRef]) from another member
// node of the room over a libp2p stream of protocol [BlobProtocolID]. The
// fetching node writes one [BlobRequest] frame: a 2-byte big-endian
// length, then that many bytes (at most [MaxBlobRequestSize]) of one CBOR
// map in Core Deterministic Encoding. The serving node answers with one
// [BlobResponse] frame, framed the same way, and, if Status is
// [BlobOK], the file's bytes from Offset to its end, then closes the
// stream. The fetcher checks the bytes against the hash when it has them
// all, and resumes an interrupted transfer by asking again from the
// offset it holds.
//
// A node serves a hash only to a node that hosts a member of the room the
// request names, and only if a file post of that room that it holds
// names the hash; to every other node it answers [BlobNotFound], the same
// as for a hash it does not hold, so a non-member learns nothing.

// BlobProtocolID is the libp2p protocol ID of blob streams.
const BlobProtocolID = "/horenso/blob/1"

// MaxBlobRequestSize bounds a blob frame's CBOR map.
const MaxBlobRequestSize = 1 << 10

// BlobStatus is a blob answer's status.
type BlobStatus uint8

// Blob answer statuses.
const (
	BlobOK       BlobStatus = 1 // the bytes follow
	BlobNotFound BlobStatus = 2 // not held, or not for the asking node
	BlobBusy     BlobStatus = 3 // try again later
)

// BlobRequest asks for a file's bytes from Offset on.
type BlobRequest struct {
	Room   RoomID `cbor:"1,keyasint"` // a room whose file post names Hash
	Hash   []byte `cbor:"2,keyasint"` // SHA-256, 32 bytes
	Offset uint64 `cbor:"3,keyasint,omitempty"`
}

// BlobResponse answers a BlobRequest. Size is the file's whole size; the
// bytes that follow an OK answer are Size - Offset many.
type BlobResponse struct {
	Status BlobStatus `cbor:"1,keyasint"`
	Size   uint64     `cbor:"2,keyasint,omitempty"`
}

// ErrBadBlobFrame is returned by ReadBlobRequest and ReadBlobResponse for a
// frame that is too long or does not decode.
var ErrBadBlobFrame = errors.New("bad blob frame")

// WriteBlobFrame writes v (a *BlobRequest or *BlobResponse) as one frame.
func WriteBlobFrame(w io.Writer, v any) error {
	b, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode blob frame: %w", err)
	}
	if len(b) > MaxBlobRequestSize {
		return fmt.Errorf("encode blob frame: %w: %d bytes", ErrBadBlobFrame, len(b))
	}
	if _, err := w.Write(binary.BigEndian.AppendUint16(nil, uint16(len(b)))); err != nil {
		return fmt.Errorf("write blob frame: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write blob frame: %w", err)
	}
	return nil
}

func readBlobFrame(r io.Reader, v any) error {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return fmt.Errorf("read blob frame: %w", err)
	}
	l := binary.BigEndian.Uint16(n[:])
	if l == 0 || l > MaxBlobRequestSize {
		return fmt.Errorf("read blob frame: %w: length %d", ErrBadBlobFrame, l)
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read blob frame: %w", err)
	}
	if err := decMode.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read blob frame: %w: %v", ErrBadBlobFrame, err)
	}
	return nil
}

// ReadBlobRequest reads and checks one request frame.
func ReadBlobRequest(r io.Reader) (*BlobRequest, error) {
	var q BlobRequest
	if err := readBlobFrame(r, &q); err != nil {
		return nil, err
	}
	if len(q.Hash) != 32 {
		return nil, fmt.Errorf("read blob request: %w: hash of %d bytes", ErrBadBlobFrame, len(q.Hash))
	}
	if q.Room.IsZero() {
		return nil, fmt.Errorf("read blob request: %w: no room", ErrBadBlobFrame)
	}
	return &q, nil
}

// ReadBlobResponse reads and checks one answer frame.
func ReadBlobResponse(r io.Reader) (*BlobResponse, error) {
	var a BlobResponse
	if err := readBlobFrame(r, &a); err != nil {
		return nil, err
	}
	switch a.Status {
	case BlobOK, BlobNotFound, BlobBusy:
	default:
		return nil, fmt.Errorf("read blob response: %w: status %d", ErrBadBlobFrame, a.Status)
	}
	if a.Size > MaxFileSize {
		return nil, fmt.Errorf("read blob response: %w: size %d", ErrBadBlobFrame, a.Size)
	}
	return &a, nil
}
