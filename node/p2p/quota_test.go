package p2p

import (
	"errors"
	"fmt"
	"testing"

	"github.com/horenso/horenso/protocol"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestQuota: a partner over its daily quota of events has what it sends
// dropped and counted, by gossip and by sync, without being taken for a
// misbehaving peer; one over its quota of rooms does not get more rooms
// pulled.
func TestQuota(t *testing.T) {
	create, fa, fb := sharedRoom(t, 30)
	room := create.RoomID()
	es := posts(t, keyOf("b"), "bob", room, []protocol.Order{create.Order()}, 6)
	fb.add(t, es[:3]...)
	a := startHost(t, "a", fa, func(c *Config) { c.Quota = Quota{Events: 5, Rooms: 1} })
	b := startHost(t, "b", fb)
	pair(t, a, b, "tcp")
	// The connection's sync round brings 3 events: within the quota.
	waitFor(t, "a to pull b's first posts", func() bool { return fa.count(room) == 4 })
	settle(t, b, a, room)

	// Gossip brings 2 more, and the next is over the quota.
	for i, e := range es[3:] {
		publish(t, b, e)
		if i < 2 {
			waitFor(t, fmt.Sprint("a to accept gossip ", i), func() bool { return fa.count(room) == 5+i })
		}
	}
	waitFor(t, "a to drop gossip over quota", func() bool { return a.Stats().QuotaDroppedEvents >= 1 })
	// So is a pull of it (and a's own rounds, which retry it, drop it
	// again: the drops are counted, not the events).
	if err := a.SyncRoom(t.Context(), b.ID(), room); !errors.Is(err, ErrOverQuota) {
		t.Errorf("sync over quota: %v, want ErrOverQuota", err)
	}
	st := a.Stats()
	if st.QuotaDroppedEvents < 2 || st.SyncMisbehaved != 0 || st.GossipRejected != 0 {
		t.Errorf("a's stats: %d dropped over quota, %d misbehaved, %d rejected; want 2 or more, 0, 0",
			st.QuotaDroppedEvents, st.SyncMisbehaved, st.GossipRejected)
	}
	if n := fa.count(room); n != 6 {
		t.Errorf("a holds %d events, want 6: the create and 5 of b's", n)
	}

	// b names two rooms a holds nothing of: a pulls one, its quota of rooms.
	for nonce := range byte(2) {
		r := newRoom(t, keyOf("b"), 40+nonce, a.ID())
		fb.view(r.RoomID(), a.ID(), b.ID())
		fb.add(t, r)
		if err := b.SyncRoom(t.Context(), a.ID(), r.RoomID()); !errors.Is(err, ErrRefused) {
			t.Fatalf("b's sync of a room a does not hold: %v, want ErrRefused", err)
		}
	}
	if st := a.Stats(); st.QuotaDroppedRooms != 1 {
		t.Errorf("a dropped %d rooms over quota, want 1", st.QuotaDroppedRooms)
	}
	// The room it pulls brings an event, over its quota of events.
	dropped := a.Stats().QuotaDroppedEvents
	waitFor(t, "a to drop the pulled room's event", func() bool { return a.Stats().QuotaDroppedEvents > dropped })
	for nonce := range byte(2) {
		if r := newRoom(t, keyOf("b"), 40+nonce, a.ID()); fa.count(r.RoomID()) != 0 {
			t.Errorf("a holds events of room %d, pulled over quota", nonce)
		}
	}
	var u Usage
	for _, p := range a.Partners() {
		if p.ID == b.ID() {
			u = p.Usage
		}
	}
	if u.Events != 5 || u.Rooms != 1 || u.Dropped < 4 || u.Bytes == 0 || u.Since.IsZero() {
		t.Errorf("a's usage of b: %+v; want 5 events, 1 room, 4 or more dropped (3 events, 1 room, retries)", u)
	}
}

// TestQuotaChargesAnEventOnce: an event that gossip and a sync round (or
// two partners) deliver at once is charged once, to the first; one dropped
// over quota is not charged.
func TestQuotaChargesAnEventOnce(t *testing.T) {
	q := newQuotas(Quota{Events: 3}, testLogger(t, "a"))
	var st stats
	b, c := peer.ID("b"), peer.ID("c")
	e1, e2, e3, e4 := protocol.EventID{1}, protocol.EventID{2}, protocol.EventID{3}, protocol.EventID{4}
	for _, take := range []struct {
		p    peer.ID
		ids  []protocol.EventID
		want bool
	}{
		{b, []protocol.EventID{e1, e2}, true},
		{b, []protocol.EventID{e2}, true},      // by sync, after gossip
		{c, []protocol.EventID{e1}, true},      // from another partner
		{b, []protocol.EventID{e3, e4}, false}, // over: 4 new events
		{b, []protocol.EventID{e2, e3}, true},  // e3 fits
	} {
		sizes := make([]int, len(take.ids))
		for i := range sizes {
			sizes[i] = 100
		}
		if got := q.takeEvents(take.p, take.ids, sizes, &st); got != take.want {
			t.Errorf("take %v: %v, want %v", take.ids, got, take.want)
		}
	}
	if u := q.get(b); u.Events != 3 || u.Bytes != 300 || u.Dropped != 2 {
		t.Errorf("b's usage: %+v; want 3 events, 300 bytes, 2 dropped", u)
	}
	if u := q.get(c); u.Events != 0 {
		t.Errorf("c's usage: %+v; want none: b was charged for e1", u)
	}
}
