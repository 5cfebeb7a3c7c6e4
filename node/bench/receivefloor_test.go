package bench

import (
	"crypto/ed25519"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// receiveFloor measures, on this machine and now, the CPU time of the
// least a node must do with a partner's message: check its signature
// (protocol.Decode of its wire form) and store it durably (one synced
// store Update holding the event record alone). BenchmarkFanOut divides
// its CPU per received message by their sum: a figure that means the same
// on any machine. n posts of the benchmark's size are each decoded, then
// each stored, one at a time, in floorRounds rounds; each figure is the
// round with the least CPU per post. The CPU is the whole process's: right
// after a fan-out run, the garbage collector's work on what the ten nodes
// left, and whatever else still ran, counted in it, and the floor of one
// run was 156 µs and of the next 341 µs (so its ratio read as 1.3×, not
// 2.9×); the least of several rounds is the one least disturbed.
func receiveFloor(b *testing.B, n int) (verify, store time.Duration) {
	b.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	me := protocol.NewAccountID(protocol.NodeIDFromKey(key.Public().(ed25519.PublicKey)), fedMember)
	create, err := protocol.Sign(key, protocol.Event{Author: fedMember, Time: 1},
		&protocol.RoomCreate{Kind: protocol.KindGroup, Name: "floor", Creator: protocol.MemberInfo{Account: me, Role: protocol.RoleAdmin}})
	if err != nil {
		b.Fatal(err)
	}
	wires := make([][]byte, n)
	prev := create
	for i := range n {
		ev := protocol.ChainSuccessor(create.RoomID(), create.Version, []protocol.Order{prev.Order()}, prev.Order(), prev.Seq)
		ev.Author, ev.Time = fedMember, int64(2+i)
		if prev, err = protocol.Sign(key, ev, &protocol.MessagePost{Body: messageBody(i)}); err != nil {
			b.Fatal(err)
		}
		wires[i] = prev.Wire()
	}

	runtime.GC()
	events := make([]*protocol.Signed, n)
	verify = leastPerItem(n, func(i int) {
		if events[i], err = protocol.Decode(wires[i]); err != nil {
			b.Fatal(err)
		}
	})

	st, err := storage.Open(b.TempDir(), storage.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	store = leastPerItem(n, func(i int) {
		if err := st.Update(b.Context(), func(tx *storage.Tx) error { return tx.PutEvent(events[i], protocol.SnapshotKey{}) }); err != nil {
			b.Fatal(err)
		}
	})
	return verify, store
}

// floorRounds is how many rounds receiveFloor splits each measure into.
const floorRounds = 5

// leastPerItem calls do for 0 … n-1 in floorRounds rounds of consecutive
// items and returns the least process CPU time per item of a round.
func leastPerItem(n int, do func(i int)) time.Duration {
	least := time.Duration(-1)
	per := max(1, n/floorRounds)
	for from := 0; from < n; from += per {
		to := min(n, from+per)
		start := processCPU()
		for i := from; i < to; i++ {
			do(i)
		}
		if d := (processCPU() - start) / time.Duration(to-from); least < 0 || d < least {
			least = d
		}
	}
	return least
}
