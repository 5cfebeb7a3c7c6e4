package p2p

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p-pubsub/timecache"
)

// Pubsub remembers the ID of every message it has seen, and of every one
// it delivered, each in a map (timecache.FirstSeenCache) with an expiry
// of SeenTTL, to drop copies. It sweeps the expired IDs once a minute, a
// constant of its own, so each map holds the node's gossip rate times
// SeenTTL plus up to a minute; and a Go map keeps the size it grew to. At
// 1,343 posts/s to a partner the two held 20 MB of a node's 95 MB heap
// (BenchmarkSoak's heap profile, docs/PERFORMANCE.md, "Pubsub's seen
// messages swept"), and under the Go memory limit the node warned that
// its collector took 0.7 of a core. sweepSeen sweeps them every
// seenSweepEvery instead, under their own lock, as pubsub's sweep does.
// Pubsub's own sweep still runs once a minute and finds little left.
const seenSweepEvery = 2 * time.Second

// seenCache is one of pubsub's two maps of message IDs, reached through
// its unexported fields.
type seenCache struct {
	lk *sync.RWMutex
	m  map[string]time.Time
}

// seenCaches finds ps's maps of seen and delivered message IDs. Pubsub
// does not export them, so they are found by name and type; if a release
// of pubsub renames or retypes them, seenCaches says so and the host
// leaves pubsub to its own minute (TestSeenCachesFound fails).
func seenCaches(ps *pubsub.PubSub) ([]seenCache, error) {
	v := reflect.ValueOf(ps).Elem()
	var caches []seenCache
	for _, name := range []string{"seenMessages", "deliveredMessages"} {
		tc, err := field[timecache.TimeCache](v, name)
		if err != nil {
			return nil, err
		}
		fc, ok := tc.(*timecache.FirstSeenCache)
		if !ok {
			return nil, fmt.Errorf("pubsub.%s is a %T, not a *timecache.FirstSeenCache", name, tc)
		}
		cv := reflect.ValueOf(fc).Elem()
		lk, err := fieldAddr[sync.RWMutex](cv, "lk")
		if err != nil {
			return nil, err
		}
		m, err := field[map[string]time.Time](cv, "m")
		if err != nil {
			return nil, err
		}
		caches = append(caches, seenCache{lk: lk, m: m})
	}
	return caches, nil
}

// sweepSeen deletes the expired IDs of caches every seenSweepEvery until
// ctx ends.
func sweepSeen(ctx context.Context, caches []seenCache) {
	tick := time.NewTicker(seenSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, c := range caches {
				c.sweep(now)
			}
		}
	}
}

func (c seenCache) sweep(now time.Time) {
	c.lk.Lock()
	defer c.lk.Unlock()
	for id, expiry := range c.m {
		if expiry.Before(now) {
			delete(c.m, id)
		}
	}
}

// field returns the value of v's field name, exported or not, if it is a
// T.
func field[T any](v reflect.Value, name string) (T, error) {
	p, err := fieldAddr[T](v, name)
	if err != nil {
		var zero T
		return zero, err
	}
	return *p, nil
}

// fieldAddr returns the address of v's field name, exported or not, if it
// is a T; v must be addressable.
func fieldAddr[T any](v reflect.Value, name string) (*T, error) {
	f := v.FieldByName(name)
	if !f.IsValid() {
		return nil, fmt.Errorf("%s has no field %s", v.Type(), name)
	}
	if f.Type() != reflect.TypeFor[T]() {
		return nil, fmt.Errorf("%s.%s is a %s, not a %s", v.Type(), name, f.Type(), reflect.TypeFor[T]())
	}
	return (*T)(unsafe.Pointer(f.UnsafeAddr())), nil
}
