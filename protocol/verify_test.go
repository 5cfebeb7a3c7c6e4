package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestVerifyRoundTrip(t *testing.T) {
	room := RoomID{1}
	h1, h2 := EventID{2}, EventID{3}
	var buf bytes.Buffer
	if err := WriteVerify(&buf, &VerifyRequest{Room: room, Heads: []EventID{h1, h2}}); err != nil {
		t.Fatal(err)
	}
	if err := WriteVerify(&buf, &VerifyAnswer{Heads: []EventID{h2}, Held: []EventID{h1}}); err != nil {
		t.Fatal(err)
	}
	var req VerifyRequest
	var ans VerifyAnswer
	if err := ReadVerify(&buf, &req); err != nil {
		t.Fatal(err)
	}
	if err := ReadVerify(&buf, &ans); err != nil {
		t.Fatal(err)
	}
	if req.Room != room || len(req.Heads) != 2 || len(ans.Heads) != 1 || ans.Heads[0] != h2 || len(ans.Held) != 1 || ans.Held[0] != h1 {
		t.Fatalf("round trip: %+v %+v", req, ans)
	}
}

func TestVerifyRefusesBadMessages(t *testing.T) {
	many := make([]EventID, MaxSyncHeads+1)
	for i := range many {
		many[i] = EventID{byte(i + 1)}
	}
	tests := []struct {
		name string
		m    verifyMessage
		want error
	}{
		{"zero room", &VerifyRequest{}, ErrFrameMalformed},
		{"too many heads", &VerifyRequest{Room: RoomID{1}, Heads: many}, ErrFrameTooLarge},
		{"zero head", &VerifyAnswer{Heads: []EventID{{}}}, ErrFrameMalformed},
		{"refusal with heads", &VerifyAnswer{Refused: true, Heads: []EventID{{1}}}, ErrFrameMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteVerify(new(bytes.Buffer), tt.m); !errors.Is(err, tt.want) {
				t.Fatalf("write: %v, want %v", err, tt.want)
			}
			// The same message, encoded without checks, is refused on read.
			body, err := encMode.Marshal(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			wire := append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
			var into VerifyAnswer
			var target verifyMessage = &into
			if _, ok := tt.m.(*VerifyRequest); ok {
				target = new(VerifyRequest)
			}
			if err := ReadVerify(bytes.NewReader(wire), target); !errors.Is(err, tt.want) {
				t.Fatalf("read: %v, want %v", err, tt.want)
			}
		})
	}
	var huge [4]byte
	binary.BigEndian.PutUint32(huge[:], MaxVerifySize+1)
	if err := ReadVerify(bytes.NewReader(huge[:]), new(VerifyAnswer)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized length prefix: %v", err)
	}
}
