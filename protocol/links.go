package protocol

import (
	"errors"
	"fmt"
)

// Links is the part of an event that places it in its room's graph:
// what a walk over the graph reads of each event.
type Links struct {
	Room   RoomID // zero for a room.create
	Type   EventType
	Origin NodeID
	Prev   []EventID
	Depth  uint64
	Seq    uint64
}

// RoomID returns the room of the event with these links and ID id (its
// own ID for a create).
func (l *Links) RoomID(id EventID) RoomID {
	if l.Type == TypeRoomCreate {
		return RoomID(id)
	}
	return l.Room
}

// DecodeStoredLinks reads the links of an event this node accepted
// earlier (what [DecodeStored] takes), without decoding the rest of it
// or hashing its body. Never use it on bytes from a peer.
//
// Walks over a room's graph (a sync answer, a delivery receipt) read one
// per event they visit, so it reads the body's canonical CBOR map in
// place: its keys are small integers in ascending order, and a value it
// does not need is skipped without being decoded.
func DecodeStoredLinks(b []byte) (Links, error) {
	var l Links
	r := cborReader{b: b}
	body, err := r.firstByteString()
	if err == nil {
		err = l.read(cborReader{b: body})
	}
	if err != nil {
		return Links{}, fmt.Errorf("decode stored event links: %w: %v", ErrMalformed, err)
	}
	return l, nil
}

// read fills l from an event body.
func (l *Links) read(r cborReader) error {
	major, pairs, err := r.head()
	if err != nil {
		return err
	}
	if major != majorMap {
		return errors.New("body is not a map")
	}
	for range pairs {
		major, k, err := r.head()
		if err != nil {
			return err
		}
		if major != majorUint {
			return errors.New("body key is not an unsigned integer")
		}
		switch k {
		case 2:
			id, err := r.bytes()
			if err != nil {
				return err
			}
			if len(id) != len(l.Room) {
				return fmt.Errorf("room of %d bytes", len(id))
			}
			l.Room = RoomID(id)
		case 3, 5:
			s, err := r.text()
			if err != nil {
				return err
			}
			if k == 3 {
				l.Type = EventType(s)
			} else {
				l.Origin = NodeID(s)
			}
		case 6:
			major, n, err := r.head()
			if err != nil {
				return err
			}
			if major != majorArray || n > MaxPrev {
				return errors.New("bad parents")
			}
			l.Prev = make([]EventID, n)
			for i := range l.Prev {
				id, err := r.bytes()
				if err != nil {
					return err
				}
				if len(id) != len(l.Prev[i]) {
					return fmt.Errorf("parent of %d bytes", len(id))
				}
				l.Prev[i] = EventID(id)
			}
		case 7, 10:
			major, n, err := r.head()
			if err != nil {
				return err
			}
			if major != majorUint {
				return fmt.Errorf("key %d is not an unsigned integer", k)
			}
			if k == 7 {
				l.Depth = n
			} else {
				l.Seq = n
			}
		default:
			if err := r.skip(0); err != nil {
				return err
			}
		}
	}
	return nil
}

// CBOR major types (RFC 8949, 3.1).
const (
	majorUint   = 0
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// cborReader reads definite-length CBOR items from b in place.
type cborReader struct {
	b  []byte
	at int
}

var errTruncated = errors.New("truncated")

// head reads an item's head: its major type and its argument (the value
// of an integer, the length of a string, array or map).
func (r *cborReader) head() (major byte, arg uint64, err error) {
	if r.at >= len(r.b) {
		return 0, 0, errTruncated
	}
	c := r.b[r.at]
	r.at++
	major, info := c>>5, c&0x1f
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info <= 27:
		size := 1 << (info - 24)
		if len(r.b)-r.at < size {
			return 0, 0, errTruncated
		}
		for _, c := range r.b[r.at : r.at+size] {
			arg = arg<<8 | uint64(c)
		}
		r.at += size
		return major, arg, nil
	}
	return 0, 0, errors.New("indefinite or reserved length")
}

// str reads a string of the given major type, without copying it.
func (r *cborReader) str(want byte) ([]byte, error) {
	major, n, err := r.head()
	if err != nil {
		return nil, err
	}
	if major != want {
		return nil, fmt.Errorf("major type %d, want %d", major, want)
	}
	if n > uint64(len(r.b)-r.at) {
		return nil, errTruncated
	}
	s := r.b[r.at : r.at+int(n)]
	r.at += int(n)
	return s, nil
}

func (r *cborReader) bytes() ([]byte, error) { return r.str(majorBytes) }

func (r *cborReader) text() (string, error) {
	s, err := r.str(majorText)
	return string(s), err
}

// firstByteString reads the head of an array and returns its first item,
// a byte string: an event's body, from its transport form.
func (r *cborReader) firstByteString() ([]byte, error) {
	major, n, err := r.head()
	if err != nil {
		return nil, err
	}
	if major != majorArray || n == 0 {
		return nil, errors.New("not an array starting with a byte string")
	}
	return r.bytes()
}

// skip reads past one item of any type; depth counts the arrays and maps
// it is in, which CBOR's decoding limits bound (MaxNesting).
func (r *cborReader) skip(depth int) error {
	if depth > maxStoredNesting {
		return errors.New("nested too deep")
	}
	major, n, err := r.head()
	if err != nil {
		return err
	}
	switch major {
	case majorBytes, majorText:
		if n > uint64(len(r.b)-r.at) {
			return errTruncated
		}
		r.at += int(n)
	case majorArray, majorMap:
		items := n
		if major == majorMap {
			items *= 2
		}
		if items > uint64(len(r.b)-r.at) { // every item takes a byte at least
			return errTruncated
		}
		for range items {
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
	case majorTag:
		return r.skip(depth + 1)
	case majorSimple:
		// head read the float's bytes, or the simple value's, as its
		// argument.
	}
	return nil
}

// maxStoredNesting bounds skip's recursion: more than the decoders of
// peer input allow (docs/PROTOCOL.md, "Encoding").
const maxStoredNesting = 32
