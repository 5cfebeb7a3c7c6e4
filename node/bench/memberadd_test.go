package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkMemberAdd adds the members of a 5,000-member room (500 under
// -short) one at a time, nothing else: the one-at-a-time half of
// BenchmarkAllHands without its posts, to profile an addition
// (-cpuprofile). add-ms is the mean over the first and the last 10%, and
// second-room-add-ms the first 10% added to a second room afterwards.
func BenchmarkMemberAdd(b *testing.B) {
	members := shortOr(5000, 500)
	for b.Loop() {
		r, handles, room := startWithRoom(b, members)
		ctx := b.Context()
		adds := make([]time.Duration, 0, members-1)
		for _, h := range handles[1:] {
			t0 := time.Now()
			if err := r.AddMember(ctx, handles[0], room.ID, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)}); err != nil {
				b.Fatal(err)
			}
			adds = append(adds, time.Since(t0))
		}
		tenth := len(adds) / 10
		b.ReportMetric(mean(adds[:tenth]), "first-add-ms")
		b.ReportMetric(mean(adds[len(adds)-tenth:]), "last-add-ms")
		// The same first 10% into a second room, in the store the first
		// one grew: what the last additions cost more than this is the
		// room's size, not the store's.
		second, err := r.CreateRoom(ctx, handles[0], node.NewRoom{Name: "Second"})
		if err != nil {
			b.Fatal(err)
		}
		adds = adds[:0]
		for _, h := range handles[1 : 1+tenth] {
			t0 := time.Now()
			if err := r.AddMember(ctx, handles[0], second.ID, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)}); err != nil {
				b.Fatal(err)
			}
			adds = append(adds, time.Since(t0))
		}
		b.ReportMetric(mean(adds), "second-room-add-ms")
		if err := r.stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// startWithRoom starts a node on a new data directory with members
// accounts (m00000, m00001, …) and a group room the first made alone; the
// caller stops it.
func startWithRoom(b *testing.B, members int) (*running, []protocol.Handle, *node.Room) {
	b.Helper()
	r := startNew(b)
	handles := make([]protocol.Handle, members)
	for i := range handles {
		handles[i] = protocol.Handle(fmt.Sprintf("m%05d", i))
		if _, err := r.CreateAccount(b.Context(), node.NewAccount{Handle: handles[i]}); err != nil {
			b.Fatal(err)
		}
	}
	room, err := r.CreateRoom(b.Context(), handles[0], node.NewRoom{Name: "All hands"})
	if err != nil {
		b.Fatal(err)
	}
	return r, handles, room
}
