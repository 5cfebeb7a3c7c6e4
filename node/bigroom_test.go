package node

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestUnreadExactInBigRoom checks every member's unread and mention counts
// in an all-hands room of 5,000 local members (400 under the race
// detector, which slows the node ten times; `make test` runs it without
// too) against a model worked out from the messages: across posts with
// [To:], replies, [toall] and mentions in quotes, reads up to the newest
// or up to a message, marking unread, edits that add or take out
// mentions, deletions, a removal and re-adding, and a restart.
func TestUnreadExactInBigRoom(t *testing.T) {
	size := 5000
	if raceEnabled || testing.Short() {
		size = 400
	}
	dir := t.TempDir()
	n := newTestNode(t, dir)
	ctx := t.Context()
	handles := make([]protocol.Handle, size)
	ids := make([]protocol.AccountID, size)
	for i := range handles {
		handles[i] = protocol.Handle(fmt.Sprintf("m%04d", i))
		must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: handles[i]}))
		ids[i] = protocol.NewAccountID(n.ID(), handles[i])
	}
	t.Logf("%d accounts made", size)
	// Some members come with the room, the rest are added one at a time.
	first := protocol.MaxListSize // as many as a room.create may list
	specs := make([]MemberSpec, 0, first)
	for _, a := range ids[1:first] {
		specs = append(specs, MemberSpec{Account: a})
	}
	room := must[*Room](t)(n.CreateRoom(ctx, handles[0], NewRoom{Name: "All hands", Members: specs}))
	start, batch := time.Now(), time.Now()
	for i := first; i < size; i++ {
		if err := n.AddMember(ctx, handles[0], room.ID, MemberSpec{Account: ids[i]}); err != nil {
			t.Fatal(err)
		}
		if (i-first+1)%500 == 0 {
			t.Logf("members %d–%d added in %v", i-498, i+1, time.Since(batch).Round(time.Millisecond))
			batch = time.Now()
		}
	}
	t.Logf("%d members added one at a time in %v", size-first, time.Since(start).Round(time.Millisecond))

	// The model: the messages in the order they arrived, and for each
	// member the arrival from which it has not read (joined, read or
	// marked unread).
	type msg struct {
		id      protocol.EventID
		author  int
		body    string
		deleted bool
	}
	var msgs []msg
	from := make([]int, size) // index into msgs of the first message member i has not read
	member := make([]bool, size)
	for i := range member {
		member[i] = true
	}
	want := func(i int) (unread, mentioned uint64) {
		for _, m := range msgs[from[i]:] {
			if m.deleted || m.author == i {
				continue
			}
			unread++
			if mentions(m.body, ids[i]) {
				mentioned++
			}
		}
		return unread, mentioned
	}
	check := func(step string, who []int) {
		t.Helper()
		for _, i := range who {
			if !member[i] {
				continue
			}
			rs := must[[]*Room](t)(n.Rooms(ctx, handles[i])) // as the room list asks
			k := slices.IndexFunc(rs, func(r *Room) bool { return r.ID == room.ID })
			if k < 0 {
				t.Fatalf("%s: %s is not in the room", step, handles[i])
			}
			r := rs[k]
			if u, m := want(i); r.Unread != u || r.Mentions != m {
				t.Fatalf("%s: %s's unread/mentions = %d/%d, want %d/%d", step, handles[i], r.Unread, r.Mentions, u, m)
			}
		}
	}
	everyone := make([]int, size)
	for i := range everyone {
		everyone[i] = i
	}
	rnd := rand.New(rand.NewPCG(7, 8))
	some := func() []int { // a sample, the author of the last message and the ones it names included
		out := []int{0, 1, size - 1}
		for range 30 {
			out = append(out, rnd.IntN(size))
		}
		return out
	}
	body := func() string {
		x, y := ids[rnd.IntN(size)], ids[rnd.IntN(size)]
		switch rnd.IntN(8) {
		case 0:
			return "[toall] all hands at ten"
		case 1, 2:
			return fmt.Sprintf("[To:%s] [To:%s] please look", x, y)
		case 3:
			return fmt.Sprintf("[rp aid=%s to=1-1] agreed", x)
		case 4:
			return fmt.Sprintf("[qt][qtmeta aid=%s time=1][To:%s] old[/qt] quoted, no mention", x, y)
		}
		return "plain news"
	}
	post := func(i int, b string) {
		t.Helper()
		m := must[*Message](t)(n.Post(ctx, handles[i], room.ID, b))
		msgs = append(msgs, msg{id: m.ID, author: i, body: b})
	}
	check("before the steps", everyone)
	t.Log("counts checked for every member")
	for step := range 400 {
		switch k := rnd.IntN(20); {
		case k < 11:
			post(rnd.IntN(size), body())
		case k < 13 && len(msgs) > 0: // read everything
			i := rnd.IntN(size)
			if member[i] {
				must[uint64](t)(func() (uint64, error) {
					u, _, err := n.MarkRead(ctx, handles[i], room.ID, protocol.EventID{})
					return u, err
				}())
				from[i] = len(msgs)
			}
		case k < 14 && len(msgs) > 0: // read up to a message
			i, j := rnd.IntN(size), rnd.IntN(len(msgs))
			if member[i] && !msgs[j].deleted {
				if _, _, err := n.MarkRead(ctx, handles[i], room.ID, msgs[j].id); err != nil {
					t.Fatal(err)
				}
				from[i] = j + 1
			}
		case k < 15 && len(msgs) > 0: // mark unread from a message
			i, j := rnd.IntN(size), rnd.IntN(len(msgs))
			if member[i] && !msgs[j].deleted {
				if _, _, err := n.MarkUnread(ctx, handles[i], msgs[j].id); err != nil {
					t.Fatal(err)
				}
				from[i] = j
			}
		case k < 17 && len(msgs) > 0: // edit: mentions in and out
			j := rnd.IntN(len(msgs))
			if !msgs[j].deleted && member[msgs[j].author] {
				b := body()
				if err := n.EditMessage(ctx, handles[msgs[j].author], msgs[j].id, b); err != nil {
					t.Fatal(err)
				}
				msgs[j].body = b
			}
		case k < 19 && len(msgs) > 0:
			j := rnd.IntN(len(msgs))
			if !msgs[j].deleted && member[msgs[j].author] {
				if err := n.DeleteMessage(ctx, handles[msgs[j].author], msgs[j].id); err != nil {
					t.Fatal(err)
				}
				msgs[j].deleted = true
			}
		default: // members are removed (one, or a few in one batch) and come back: each counts from its return
			var out []protocol.AccountID
			var back []MemberSpec
			for range 1 + rnd.IntN(3) {
				i := 1 + rnd.IntN(size-1)
				if member[i] {
					member[i] = false
					out, back = append(out, ids[i]), append(back, MemberSpec{Account: ids[i]})
				}
			}
			if err := n.RemoveMembers(ctx, handles[0], room.ID, out); err != nil {
				t.Fatal(err)
			}
			for _, a := range out {
				post(0, fmt.Sprintf("[To:%s] while away", a))
			}
			if err := n.AddMembers(ctx, handles[0], room.ID, back); err != nil {
				t.Fatal(err)
			}
			for i, a := range ids {
				if slices.Contains(out, a) {
					member[i], from[i] = true, len(msgs)
				}
			}
		}
		check(fmt.Sprint("step ", step), some())
	}
	check("after the steps", everyone)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = newTestNode(t, dir)
	check("after a restart", everyone)
	post(1, "[toall] after the restart")
	post(2, fmt.Sprintf("[To:%s] you too", ids[3]))
	check("posts after a restart", everyone)
}
