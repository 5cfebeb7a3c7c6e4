package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
)

// TestRoomSeriesCapped: however many rooms partners make lag, the
// per-room series stay at the cap, the most behind first, and the rest is
// summed per partner, so no lag is lost.
func TestRoomSeriesCapped(t *testing.T) {
	var lags []partnerLag
	var total uint64
	for i := range 500 {
		p := fmt.Sprint("p", i%3)
		u := uint64(i + 1)
		total += u
		lags = append(lags, partnerLag{partner: p, RoomLag: RoomLag{Room: protocol.RoomID{byte(i), byte(i >> 8)}, Alias: uint64(i), Unacked: u}})
	}
	top, other := roomSeries(lags, MaxRoomSeries)
	if len(top) != MaxRoomSeries {
		t.Fatalf("%d series, want %d", len(top), MaxRoomSeries)
	}
	if top[0].Unacked != 500 || top[MaxRoomSeries-1].Unacked != 500-MaxRoomSeries+1 {
		t.Fatalf("not the most behind: first %d, last %d", top[0].Unacked, top[MaxRoomSeries-1].Unacked)
	}
	if len(other) != 3 {
		t.Fatalf("other sums %d partners, want 3", len(other))
	}
	var sum uint64
	for _, l := range top {
		sum += l.Unacked
	}
	for _, v := range other {
		sum += v
	}
	if sum != total {
		t.Fatalf("series sum to %d, want %d", sum, total)
	}
	if top, other := roomSeries(nil, MaxRoomSeries); len(top) != 0 || len(other) != 0 {
		t.Fatalf("no lag: %v %v", top, other)
	}
}

func TestAcceptResult(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		result, reason string
	}{
		{"accepted", nil, "accepted", ""},
		{"soft failed", p2p.ErrSoftFailed, "soft_failed", ""},
		{"missing parents", &protocol.MissingError{IDs: []protocol.EventID{{1}}}, "missing_parents", ""},
		{"not stored", fmt.Errorf("%w: disk", p2p.ErrNotStored), "not_stored", ""},
		{"read-only author", fmt.Errorf("check: %w", protocol.ErrReadOnly), "refused", "read_only"},
		{"bad chain", protocol.ErrBadChain, "refused", "bad_chain"},
		{"unknown", errors.New("something else"), "refused", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, why := acceptResult(tt.err); r != tt.result || why != tt.reason {
				t.Fatalf("acceptResult(%v) = %q, %q; want %q, %q", tt.err, r, why, tt.result, tt.reason)
			}
		})
	}
}
