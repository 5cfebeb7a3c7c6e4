package bench

import (
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
		r, handles, room := startWithRoom(b, members)
		ctx := b.Context()
		specs := make([]node.MemberSpec, 0, members-1)
		for _, h := range handles[1:] {
			specs = append(specs, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)})
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
