package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// frameErrors are the error classes DecodeFrame promises.
var frameErrors = []error{ErrFrameTooLarge, ErrFrameMalformed, ErrFrameVersion}

func roomN(n int) RoomID {
	var r RoomID
	binary.BigEndian.PutUint32(r[:], uint32(n)+1)
	return r
}

func eventN(n int) EventID { return EventID(roomN(n + 1<<20)) }

// sampleFrames returns a valid frame of every type, the events frame
// carrying the first n real events after the create.
func sampleFrames(t testing.TB, n int) []SyncFrame {
	es := sampleEvents(t)
	var wires [][]byte
	for _, e := range es[1 : 1+n] {
		wires = append(wires, e.Wire())
	}
	return []SyncFrame{
		&SyncRequest{Rooms: []SyncWant{{Room: es[0].RoomID(), Heads: []EventID{es[1].ID, es[2].ID}}, {Room: roomN(1)}}},
		&SyncRequest{Rooms: []SyncWant{{Room: es[0].RoomID(), Heads: []EventID{es[2].ID},
			Chains: []ChainPos{{Origin: es[2].Origin, Seq: es[2].Seq, ID: es[2].ID}}}}},
		&SyncEvents{Room: es[0].RoomID(), Events: wires},
		&SyncDone{Refused: []RoomID{roomN(1)}, Resubscribe: []RoomID{es[0].RoomID()}},
		&SyncDone{},
	}
}

func TestTopic(t *testing.T) {
	room := roomN(7)
	nodes := []NodeID{"12D3KooWB", "12D3KooWA"}
	topic := Topic(room, nodes)
	if !strings.HasPrefix(topic, TopicPrefix) || len(topic) != len(TopicPrefix)+52+1+16 {
		t.Fatalf("Topic = %q", topic)
	}
	got, err := ParseTopic(topic)
	if err != nil || got != room {
		t.Fatalf("ParseTopic(%q) = %s, %v; want %s", topic, got, err, room)
	}
	if again := Topic(room, []NodeID{"12D3KooWA", "12D3KooWB", "12D3KooWA"}); again != topic {
		t.Errorf("Topic depends on the order or repetition of nodes: %q != %q", again, topic)
	}
	if fewer := Topic(room, nodes[:1]); fewer == topic {
		t.Errorf("Topic is the same for different node sets: %q", fewer)
	}
	// A vector, so that other implementations name topics the same.
	if got, want := Epoch([]NodeID{"b", "a"}), epochOf("a\nb\n"); got != want {
		t.Errorf("Epoch(b, a) = %s, want %s", got, want)
	}
	for _, bad := range []string{
		"",
		TopicPrefix,
		TopicPrefix + room.String(),
		"/horenso/2/room/" + room.String() + "/0123456789abcdef",
		TopicPrefix + strings.ToUpper(room.String()) + "/0123456789abcdef",
		TopicPrefix + room.String() + "x/0123456789abcdef",
		TopicPrefix + room.String()[1:] + "/0123456789abcdef",
		TopicPrefix + room.String() + "/0123456789ABCDEF",
		TopicPrefix + room.String() + "/0123456789abcde",
		TopicPrefix + room.String() + "/0123456789abcdef/x",
		"/meshsub/1.1.0",
	} {
		if _, err := ParseTopic(bad); !errors.Is(err, ErrNotTopic) {
			t.Errorf("ParseTopic(%q) = %v, want ErrNotTopic", bad, err)
		}
	}
}

// epochOf is Epoch written out: the first 8 bytes of SHA-256, in hex.
func epochOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	frames := sampleFrames(t, len(sampleEvents(t))-1)
	for _, f := range frames {
		var err error
		if stream, err = AppendFrame(stream, f); err != nil {
			t.Fatalf("AppendFrame(%T): %v", f, err)
		}
	}
	r := bytes.NewReader(stream)
	for _, want := range frames {
		got, err := ReadFrame(r)
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		if got.FrameType() != want.FrameType() || !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadFrame = %#v, want %#v", got, want)
		}
	}
	if _, err := ReadFrame(r); err != io.EOF {
		t.Fatalf("ReadFrame at the end = %v, want io.EOF", err)
	}
}

// TestReadFrameGrows reads a large frame a byte at a time, so that the
// buffer grows step by step, and a frame cut short at every step.
func TestReadFrameGrows(t *testing.T) {
	big := make([][]byte, 40)
	for i := range big {
		big[i] = bytes.Repeat([]byte{byte(i)}, 50_000) // 2 MB in all: every growth step
	}
	want := &SyncEvents{Room: roomN(1), Events: big}
	b, err := AppendFrame(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadFrame(iotest.OneByteReader(bytes.NewReader(b)))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadFrame = %v, %v; want the frame", got != nil, err)
	}
	for _, cut := range []int{5, frameReadChunk, frameReadChunk + 1, 4 * frameReadChunk, len(b) - 1} {
		if _, err := ReadFrame(bytes.NewReader(b[:cut])); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadFrame of %d of %d bytes = %v, want io.ErrUnexpectedEOF", cut, len(b), err)
		}
	}
}

// TestReadFrameAllocatesAsBytesArrive: a frame that announces MaxFrameSize
// and then stalls costs one read chunk, not the announced size (issue 14:
// 1,000 such streams took 250 MB).
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	stall := errors.New("stalled")
	hdr := binary.BigEndian.AppendUint32(nil, MaxFrameSize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 16
	for range n {
		r := io.MultiReader(bytes.NewReader(hdr), bytes.NewReader([]byte{0xa3, 1, 1}), iotest.ErrReader(stall))
		if _, err := ReadFrame(r); !errors.Is(err, stall) {
			t.Fatalf("ReadFrame = %v, want the reader's error", err)
		}
	}
	runtime.ReadMemStats(&after)
	// Each read may allocate one chunk and small change; announcing the
	// whole frame would be n × 2 MiB.
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(n*(frameReadChunk+4<<10)); got > limit {
		t.Errorf("%d stalled frames allocated %d bytes, want at most %d", n, got, limit)
	}
}

// frame builds a frame from parts, with any payload, bypassing the checks
// of AppendFrame.
func frame(t *testing.T, version, typ uint64, payload any) []byte {
	t.Helper()
	p, err := encMode.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return prefixed(enc(t, frameWire{Version: version, Type: typ, Payload: p}))
}

func prefixed(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

type m = map[uint64]any

func TestReadFrameRejects(t *testing.T) {
	room := roomN(1)
	ev := sampleEvents(t)[1].Wire()
	rooms := func(n int) []any {
		var l []any
		for i := range n {
			r := roomN(i)
			l = append(l, m{1: r[:]})
		}
		return l
	}
	heads := func(n int) []any {
		var l []any
		for i := range n {
			h := eventN(i)
			l = append(l, h[:])
		}
		return l
	}
	events := func(n int, e []byte) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = e
		}
		return l
	}
	roomList := func(n int) []any {
		var l []any
		for i := range n {
			r := roomN(i)
			l = append(l, r[:])
		}
		return l
	}
	ev1 := eventN(1)
	chains := func(n int) []any {
		nodes := make([]NodeID, n)
		for i := range nodes {
			nodes[i] = nodeN(i)
		}
		slices.Sort(nodes)
		var l []any
		for _, o := range nodes {
			l = append(l, m{1: string(o), 2: 7, 3: ev1[:]})
		}
		return l
	}
	reversed := func(l []any) []any { slices.Reverse(l); return l }
	valid := frame(t, 1, 1, m{1: []any{m{1: room[:]}}})
	if _, err := ReadFrame(bytes.NewReader(frame(t, 1, 1, m{1: []any{m{1: room[:], 4: chains(MaxSyncChains)}}}))); err != nil {
		t.Fatalf("a frame with chains is rejected: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(valid)); err != nil {
		t.Fatalf("the baseline frame is rejected: %v", err)
	}
	tooLong := binary.BigEndian.AppendUint32(nil, MaxFrameSize+1)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"length over limit", tooLong, ErrFrameTooLarge},
		{"zero length", []byte{0, 0, 0, 0}, ErrFrameMalformed},
		{"short header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"short body", valid[:len(valid)-1], io.ErrUnexpectedEOF},
		{"not cbor", prefixed([]byte{0xff}), ErrFrameMalformed},
		{"not a map", prefixed([]byte{0x80}), ErrFrameMalformed},
		{"trailing byte", prefixed(append(bytes.Clone(valid[4:]), 0)), ErrFrameMalformed},
		{"version 0", frame(t, 0, 1, m{1: []any{m{1: room[:]}}}), ErrFrameVersion},
		{"version 2", frame(t, 2, 1, m{1: []any{m{1: room[:]}}}), ErrFrameVersion},
		{"version 2 with a new key", prefixed(enc(t, m{1: 2, 2: 1, 3: m{}, 4: "new"})), ErrFrameVersion},
		{"unknown outer key", prefixed(enc(t, m{1: 1, 2: 1, 3: m{1: []any{m{1: room[:]}}}, 4: 0})), ErrFrameMalformed},
		{"unknown type", frame(t, 1, 9, m{}), ErrFrameMalformed},
		{"type wrapping to request", frame(t, 1, 257, m{1: []any{m{1: room[:]}}}), ErrFrameMalformed},
		{"no payload", prefixed(enc(t, m{1: 1, 2: 3})), ErrFrameMalformed},
		{"unknown payload key", frame(t, 1, 1, m{1: []any{m{1: room[:]}}, 2: 0}), ErrFrameMalformed},
		{"duplicate key", prefixed([]byte{0xa3, 0x01, 0x01, 0x01, 0x01, 0x03, 0xa0}), ErrFrameMalformed},
		{"indefinite length", prefixed([]byte{0xbf, 0x01, 0x01, 0x02, 0x03, 0x03, 0xa0, 0xff}), ErrFrameMalformed},
		{"tag", prefixed([]byte{0xc1, 0xa3, 0x01, 0x01, 0x02, 0x03, 0x03, 0xa0}), ErrFrameMalformed},
		{"keys out of order", prefixed([]byte{0xa3, 0x02, 0x03, 0x01, 0x01, 0x03, 0xa0}), ErrFrameMalformed},
		{"integer not shortest", prefixed([]byte{0xa3, 0x01, 0x18, 0x01, 0x02, 0x03, 0x03, 0xa0}), ErrFrameMalformed},
		{"request without rooms", frame(t, 1, 1, m{1: []any{}}), ErrFrameMalformed},
		{"request rooms absent", frame(t, 1, 1, m{}), ErrFrameMalformed},
		{"request over room limit", frame(t, 1, 1, m{1: rooms(MaxSyncRooms + 1)}), ErrFrameTooLarge},
		{"heads over limit", frame(t, 1, 1, m{1: []any{m{1: room[:], 2: heads(MaxSyncHeads + 1)}}}), ErrFrameTooLarge},
		{"room named twice", frame(t, 1, 1, m{1: []any{m{1: room[:]}, m{1: room[:]}}}), ErrFrameMalformed},
		{"zero room", frame(t, 1, 1, m{1: []any{m{1: make([]byte, 32)}}}), ErrFrameMalformed},
		{"short room id", frame(t, 1, 1, m{1: []any{m{1: room[:31]}}}), ErrFrameMalformed},
		{"long room id", frame(t, 1, 1, m{1: []any{m{1: append(room[:], 0)}}}), ErrFrameMalformed},
		{"room id as text", frame(t, 1, 1, m{1: []any{m{1: room.String()}}}), ErrFrameMalformed},
		{"empty heads written", frame(t, 1, 1, m{1: []any{m{1: room[:], 2: []any{}}}}), ErrFrameMalformed},
		{"zero head", frame(t, 1, 1, m{1: []any{m{1: room[:], 2: []any{make([]byte, 32)}}}}), ErrFrameMalformed},
		{"chains over limit", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: chains(MaxSyncChains + 1)}}}), ErrFrameTooLarge},
		{"chains out of order", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: reversed(chains(2))}}}), ErrFrameMalformed},
		{"chain named twice", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: append(chains(1), chains(1)...)}}}), ErrFrameMalformed},
		{"empty chains written", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{}}}}), ErrFrameMalformed},
		{"chain at position 0", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: string(nodeN(0)), 2: 0, 3: ev1[:]}}}}}), ErrFrameMalformed},
		{"chain of no event", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: string(nodeN(0)), 2: 1, 3: make([]byte, 32)}}}}}), ErrFrameMalformed},
		{"chain of no node", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: "12D3KooWnot", 2: 1, 3: ev1[:]}}}}}), ErrFrameMalformed},
		{"chain without seq", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: string(nodeN(0)), 3: ev1[:]}}}}}), ErrFrameMalformed},
		{"chain with unknown key", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: string(nodeN(0)), 2: 1, 3: ev1[:], 4: 0}}}}}), ErrFrameMalformed},
		{"chain origin as bytes", frame(t, 1, 1, m{1: []any{m{1: room[:], 4: []any{m{1: []byte(nodeN(0)), 2: 1, 3: ev1[:]}}}}}), ErrFrameMalformed},
		{"events without events", frame(t, 1, 2, m{1: room[:], 2: []any{}}), ErrFrameMalformed},
		{"events without room", frame(t, 1, 2, m{2: []any{ev}}), ErrFrameMalformed},
		{"events over count limit", frame(t, 1, 2, m{1: room[:], 2: events(MaxFrameEvents+1, []byte{1})}), ErrFrameTooLarge},
		{"event over size limit", frame(t, 1, 2, m{1: room[:], 2: []any{make([]byte, MaxEventSize+1)}}), ErrFrameTooLarge},
		{"empty event", frame(t, 1, 2, m{1: room[:], 2: []any{[]byte{}}}), ErrFrameMalformed},
		{"event as text", frame(t, 1, 2, m{1: room[:], 2: []any{"x"}}), ErrFrameMalformed},
		{"done over room limit", frame(t, 1, 3, m{1: roomList(MaxSyncRooms + 1)}), ErrFrameTooLarge},
		{"done resubscribe over limit", frame(t, 1, 3, m{2: roomList(MaxSyncRooms + 1)}), ErrFrameTooLarge},
		{"done with zero room", frame(t, 1, 3, m{1: []any{make([]byte, 32)}}), ErrFrameMalformed},
		{"done with empty list written", frame(t, 1, 3, m{1: []any{}}), ErrFrameMalformed},
		{"request payload for done", frame(t, 1, 3, m{1: []any{m{1: room[:]}}}), ErrFrameMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadFrame(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadFrame = %v, %v; want %v", f, err, tc.want)
			}
			if f != nil {
				t.Fatal("ReadFrame returned a frame and an error")
			}
		})
	}
}

// nodeN returns the node ID of a key made from n.
func nodeN(n int) NodeID {
	seed := make([]byte, ed25519.SeedSize)
	binary.BigEndian.PutUint32(seed, uint32(n))
	return NodeIDFromKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
}

// TestSplitRequest checks that the runs SplitRequest makes each encode,
// and keep every want in order, for wants at every size limit.
func TestSplitRequest(t *testing.T) {
	full := func(r int) SyncWant {
		w := SyncWant{Room: roomN(r), Unseen: true}
		for i := range MaxSyncHeads {
			w.Heads = append(w.Heads, eventN(i))
		}
		for i := range MaxSyncChains {
			w.Chains = append(w.Chains, ChainPos{Origin: nodeN(i), Seq: 1<<64 - 1, ID: eventN(i)})
		}
		slices.SortFunc(w.Chains, func(a, b ChainPos) int { return strings.Compare(string(a.Origin), string(b.Origin)) })
		return w
	}
	for _, tc := range []struct {
		name  string
		wants []SyncWant
		runs  int
	}{
		{"none", nil, 0},
		{"one", []SyncWant{{Room: roomN(1)}}, 1},
		{"room limit", make([]SyncWant, 2*MaxSyncRooms+1), 3},
		{"size limit", make([]SyncWant, 2*MaxSyncRooms), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.wants {
				if tc.runs == 0 {
					tc.wants[i] = full(i)
				} else {
					tc.wants[i].Room = roomN(i)
				}
			}
			runs := SplitRequest(tc.wants)
			if tc.runs != 0 && len(runs) != tc.runs || tc.runs == 0 && len(tc.wants) > 0 && len(runs) < 2 {
				t.Fatalf("%d runs, want %d", len(runs), tc.runs)
			}
			var all []SyncWant
			for i, run := range runs {
				b, err := AppendFrame(nil, &SyncRequest{Rooms: run})
				if err != nil {
					t.Fatalf("run of %d wants: %v", len(run), err)
				}
				if tc.runs == 0 && i < len(runs)-1 && len(b) < MaxFrameSize*3/4 {
					t.Errorf("a run of %d wants is %d bytes: it could take more", len(run), len(b))
				}
				all = append(all, run...)
			}
			if !reflect.DeepEqual(all, tc.wants) {
				t.Fatal("the runs do not make up the wants, in order")
			}
		})
	}
}

func TestAppendFrameRejects(t *testing.T) {
	many := make([]SyncWant, MaxSyncRooms+1)
	for i := range many {
		many[i].Room = roomN(i)
	}
	big := make([]byte, MaxEventSize)
	huge := make([][]byte, MaxFrameSize/MaxEventSize+1)
	for i := range huge {
		huge[i] = big
	}
	for _, tc := range []struct {
		name string
		f    SyncFrame
		want error
	}{
		{"empty request", &SyncRequest{}, ErrFrameMalformed},
		{"too many rooms", &SyncRequest{Rooms: many}, ErrFrameTooLarge},
		{"too many heads", &SyncRequest{Rooms: []SyncWant{{Room: roomN(1), Heads: make([]EventID, MaxSyncHeads+1)}}}, ErrFrameTooLarge},
		{"duplicate room", &SyncRequest{Rooms: []SyncWant{{Room: roomN(1)}, {Room: roomN(1)}}}, ErrFrameMalformed},
		{"chain of a bad node", &SyncRequest{Rooms: []SyncWant{{Room: roomN(1), Chains: []ChainPos{{Origin: "x", Seq: 1, ID: eventN(1)}}}}}, ErrFrameMalformed},
		{"no events", &SyncEvents{Room: roomN(1)}, ErrFrameMalformed},
		{"event too large", &SyncEvents{Room: roomN(1), Events: [][]byte{make([]byte, MaxEventSize+1)}}, ErrFrameTooLarge},
		{"frame too large", &SyncEvents{Room: roomN(1), Events: huge}, ErrFrameTooLarge},
		{"done with zero room", &SyncDone{Refused: []RoomID{{}}}, ErrFrameMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AppendFrame(nil, tc.f); !errors.Is(err, tc.want) {
				t.Fatalf("AppendFrame = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadFrame feeds arbitrary bytes to ReadFrame. Nothing may panic,
// every error must be an I/O error or one of the documented classes, and
// whatever ReadFrame accepts must re-encode to exactly the bytes it read.
func FuzzReadFrame(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, which
	// takes long for inputs of kilobytes.
	for _, fr := range sampleFrames(f, 1) {
		b, err := AppendFrame(nil, fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte{0, 0, 0, 1, 0xa0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		fr, err := ReadFrame(r)
		if err != nil {
			if fr != nil {
				t.Fatal("ReadFrame returned a frame and an error")
			}
			if !isOneOf(append(frameErrors, io.EOF, io.ErrUnexpectedEOF), err) {
				t.Fatalf("ReadFrame error %v wraps none of the documented classes", err)
			}
			return
		}
		read := b[:len(b)-r.Len()]
		again, err := AppendFrame(nil, fr)
		if err != nil {
			t.Fatalf("AppendFrame of an accepted frame: %v", err)
		}
		if !bytes.Equal(again, read) {
			t.Fatalf("re-encoded %x, read %x", again, read)
		}
	})
}
