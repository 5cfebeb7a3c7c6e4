package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// BenchmarkAllHands measures an organization's all-hands room on one node:
// a room of 2, 500 or 5,000 local members (2, 50 and 500 under -short, the
// names staying those of the full sizes),
// the first 256 listed by its room.create (as many as one may list), the
// rest added one at a time by its admin; beside it, a second room of the
// same members, the rest added in one call (AddMembers: one member.add per
// 256 accounts), bulk-add-ms that call's time; then 64 posters, members each,
// post 100-byte messages into it with node.Post, one after another.
// posts/s is durable posts per second; add-ms the time one member
// addition takes, over the first and the last 10% of the additions (equal
// when each costs the same, as it should: issue 16). The limit of posts/s
// is the 2-member room of the same run. Goal: 5,000 members within 2× of
// 2.
func BenchmarkAllHands(b *testing.B) {
	for _, size := range []int{2, 500, 5000} {
		// The names stay those of the full sizes; the members metric says
		// how many there were.
		members := shortOr(size, max(2, size/10))
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			r := startNew(b)
			defer func() {
				if err := r.stop(); err != nil {
					b.Error(err)
				}
			}()
			ctx := b.Context()
			handles := make([]protocol.Handle, members)
			for i := range handles {
				handles[i] = protocol.Handle(fmt.Sprintf("m%05d", i))
				if _, err := r.CreateAccount(ctx, node.NewAccount{Handle: handles[i]}); err != nil {
					b.Fatal(err)
				}
			}
			listed := min(members, protocol.MaxListSize+1)
			specs := make([]node.MemberSpec, 0, listed-1)
			for _, h := range handles[1:listed] {
				specs = append(specs, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)})
			}
			room, err := r.CreateRoom(ctx, handles[0], node.NewRoom{Name: "All hands", Members: specs})
			if err != nil {
				b.Fatal(err)
			}
			// The same members in one call: AddMembers makes one
			// member.add per protocol.MaxListSize accounts.
			bulk, err := r.CreateRoom(ctx, handles[0], node.NewRoom{Name: "All hands, added at once", Members: specs})
			if err != nil {
				b.Fatal(err)
			}
			rest := make([]node.MemberSpec, 0, members-listed)
			for _, h := range handles[listed:] {
				rest = append(rest, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)})
			}
			t0 := time.Now()
			if err := r.AddMembers(ctx, handles[0], bulk.ID, rest); err != nil {
				b.Fatal(err)
			}
			bulkTime := time.Since(t0)
			adds := make([]time.Duration, 0, members-listed)
			for _, h := range handles[listed:] {
				t0 := time.Now()
				if err := r.AddMember(ctx, handles[0], room.ID, node.MemberSpec{Account: protocol.NewAccountID(r.ID(), h)}); err != nil {
					b.Fatal(err)
				}
				adds = append(adds, time.Since(t0))
			}

			const posters = 64
			perPoster := shortOr(100, 10)
			posts := 0
			var busy time.Duration
			for b.Loop() {
				t0 := time.Now()
				err := concurrently(posters, func(c int) error {
					for i := range perPoster {
						if _, err := r.Post(ctx, handles[c%members], room.ID, messageBody(i)); err != nil {
							return err
						}
					}
					return nil
				})
				busy += time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				posts += posters * perPoster
			}
			b.ReportMetric(float64(posts)/busy.Seconds(), "posts/s")
			b.ReportMetric(float64(members), "members")
			// After b.Loop, whose start resets the metrics reported before.
			if len(rest) > 0 {
				b.ReportMetric(bulkTime.Seconds()*1000, "bulk-add-ms")
				b.ReportMetric(float64((len(rest)+protocol.MaxListSize-1)/protocol.MaxListSize), "bulk-events")
				b.Logf("%d members added in one call (%d events) in %v", len(rest),
					(len(rest)+protocol.MaxListSize-1)/protocol.MaxListSize, bulkTime.Round(time.Millisecond))
			}
			if tenth := len(adds) / 10; tenth > 0 {
				first, last := mean(adds[:tenth]), mean(adds[len(adds)-tenth:])
				b.ReportMetric(first, "first-add-ms")
				b.ReportMetric(last, "last-add-ms")
				b.ReportMetric(last/first, "last/first-add")
				b.Logf("%d members added one at a time: %.2f ms each over the first %d, %.2f ms over the last %d",
					len(adds), first, tenth, last, tenth)
			}
		})
	}
}

// mean returns the mean of ds in milliseconds.
func mean(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum.Seconds() * 1000 / float64(len(ds))
}
