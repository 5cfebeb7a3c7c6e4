package bench

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkMemberRemove fills a 5,000-member room (500 under -short) in
// bulk and takes its members out one at a time, as an organization
// leaving a shared room does: first-remove-ms and last-remove-ms are the
// means over the first and the last 10% of the removals, remove-all-s
// the time for all of them. A removal should cost the same however many
// came before it. Then it fills the room again and takes everyone out in
// one change of the member list (the ChatWork API's PUT of the members,
// node.SetMembers), three times: bulk-remove-s is the first time,
// third-bulk-remove-s the third, which should take no longer.
func BenchmarkMemberRemove(b *testing.B) {
	members := shortOr(5000, 500)
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "node")
		if _, err := node.Init(dir, "Bench"); err != nil {
			b.Fatal(err)
		}
		r, err := start(dir)
		if err != nil {
			b.Fatal(err)
		}
		ctx := b.Context()
		handles := make([]protocol.Handle, members)
		specs := make([]node.MemberSpec, 0, members-1)
		for i := range handles {
			handles[i] = protocol.Handle(fmt.Sprintf("m%05d", i))
			if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: handles[i]}); err != nil {
				b.Fatal(err)
			}
			if i > 0 {
				specs = append(specs, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), handles[i])})
			}
		}
		room, err := r.CreateRoom(ctx, handles[0], node.NewRoom{Name: "All hands"})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.AddMembers(ctx, handles[0], room.ID, specs); err != nil {
			b.Fatal(err)
		}
		removes := make([]time.Duration, 0, len(specs))
		start := time.Now()
		for _, m := range specs {
			t0 := time.Now()
			if err := r.RemoveMember(ctx, handles[0], room.ID, m.Account); err != nil {
				b.Fatal(err)
			}
			removes = append(removes, time.Since(t0))
		}
		b.ReportMetric(time.Since(start).Seconds(), "remove-all-s")
		tenth := len(removes) / 10
		first, last := mean(removes[:tenth]), mean(removes[len(removes)-tenth:])
		b.ReportMetric(first, "first-remove-ms")
		b.ReportMetric(last, "last-remove-ms")
		b.ReportMetric(last/first, "last/first-remove")
		b.ReportMetric(float64(members), "members")
		admin := map[protocol.AccountID]protocol.Role{protocol.NewAccountID(r.ID(), handles[0]): protocol.RoleAdmin}
		for round := 1; round <= 3; round++ {
			if err := r.AddMembers(ctx, handles[0], room.ID, specs); err != nil {
				b.Fatal(err)
			}
			start = time.Now()
			if err := r.SetMembers(ctx, handles[0], room.ID, admin); err != nil {
				b.Fatal(err)
			}
			switch round {
			case 1:
				b.ReportMetric(time.Since(start).Seconds(), "bulk-remove-s")
			case 3:
				b.ReportMetric(time.Since(start).Seconds(), "third-bulk-remove-s")
			}
		}
		if err := r.stop(); err != nil {
			b.Fatal(err)
		}
	}
}
