package bench

import (
	"crypto/ed25519"
	"log/slog"
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
// each stored, one at a time.
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

	events := make([]*protocol.Signed, n)
	start := processCPU()
	for i, w := range wires {
		if events[i], err = protocol.Decode(w); err != nil {
			b.Fatal(err)
		}
	}
	verify = (processCPU() - start) / time.Duration(n)

	st, err := storage.Open(b.TempDir(), storage.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start = processCPU()
	for _, e := range events {
		if err := st.Update(b.Context(), func(tx *storage.Tx) error { return tx.PutEvent(e, protocol.SnapshotKey{}) }); err != nil {
			b.Fatal(err)
		}
	}
	store = (processCPU() - start) / time.Duration(n)
	return verify, store
}
