package storage

import (
	"bytes"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The write cache keeps, in memory, the values the store's writer read
// lately: what every post reads back (a room's heads and Room record,
// its control snapshot, alias counters, read markers, unread records).
// A Badger point read of a key that is not in the newest memtable looks
// in every level of the tree, so without the cache what a post costs
// grows with the store (issue 22, docs/STORAGE.md "Write cache").
//
// It is exact: an entry is the key's committed value (or its absence).
// Only the writer goroutine uses it, in the Tx of an Update (View
// transactions read Badger: they must see the store as of their start,
// not as of now), so it needs no lock. Its rules:
//
//   - A get in an Update looks in the Update's own writes, then in the
//     writes of the earlier Updates in the same Badger transaction, not
//     yet committed (pending), then in the cache, then in Badger; a value
//     read from Badger is added (a key Badger does not hold, as absent).
//   - The writes of an Update are staged in pending when they join the
//     batch's transaction; once that transaction has committed, each
//     written key that is in the cache takes its new value (keys not in
//     the cache are not added, but for events (which hold their snapshot keys),
//     which the room's next event reads as its parents': most written
//     keys, such as timeline entries, are never read back by the
//     writer). A failed or
//     discarded transaction drops pending; an error from Badger's commit
//     empties the whole cache, since what reached the disk is not known.
//   - Writes that do not go through the writer (Open's migrations,
//     Close's shutdown marker, Purge's marker, Restore's load) happen
//     while the writer is not running or to keys it never reads.
//   - A reopened store starts with an empty cache: a cold cache reads
//     Badger.
type writeCache struct {
	lru      *simplelru.LRU[string, cached]
	bytes    int64 // the cost of the entries in lru
	maxBytes int64
	// pending holds the writes in the writer's current Badger
	// transaction, by key: the latest of each.
	pending map[string]op
	// counters is the state of the leased counters, by kind (see
	// counters.go); a counter not in it is read from its record.
	counters map[byte]*counter

	hits, misses atomic.Uint64
}

// cached is a cache entry: a key's value, or its absence.
type cached struct {
	val    []byte
	absent bool
}

// cacheEntryOverhead estimates what an entry costs besides its key and
// value: the list element, the map slot, the string and slice headers.
const cacheEntryOverhead = 112

// maxCachedValue is the largest value the cache keeps: a bigger one is
// read from Badger each time rather than crowd out many small ones.
const maxCachedValue = 64 << 10

func newWriteCache(maxBytes int64) *writeCache {
	c := &writeCache{maxBytes: maxBytes, pending: map[string]op{}, counters: map[byte]*counter{}}
	// The count bound is not the limit (bytes are): it only has to be
	// larger than the number of entries maxBytes can hold.
	lru, err := simplelru.NewLRU(int(maxBytes/cacheEntryOverhead)+1, func(k string, v cached) {
		c.bytes -= entryCost(k, v)
	})
	if err != nil {
		panic(err) // only for a size ≤ 0, which maxBytes/overhead+1 is not
	}
	c.lru = lru
	return c
}

func entryCost(k string, v cached) int64 {
	return int64(len(k)+len(v.val)) + cacheEntryOverhead
}

// lookup returns what the cache or the pending writes hold for k; ok is
// false if neither holds it, and the caller must read Badger. The value
// must not be modified.
func (c *writeCache) lookup(k []byte) (val []byte, found, ok bool) {
	if o, ok := c.pending[string(k)]; ok {
		return o.val, !o.del, true
	}
	if e, ok := c.lru.Get(string(k)); ok {
		c.hits.Add(1)
		return e.val, !e.absent, true
	}
	c.misses.Add(1)
	return nil, false, false
}

// addAbsent records that Badger holds nothing under k, unless the
// cache or the pending writes know of k already.
func (c *writeCache) addAbsent(k []byte) {
	if _, ok := c.pending[string(k)]; ok || c.lru.Contains(string(k)) {
		return
	}
	c.put(string(k), cached{absent: true})
}

// add records what Badger holds under k, which the writer has just read
// and has not written since the last commit: val, or absence if not
// found. It keeps its own copy of val.
func (c *writeCache) add(k, val []byte, found bool) {
	if found && len(val) > maxCachedValue {
		return
	}
	e := cached{absent: !found}
	if found {
		e.val = bytes.Clone(val)
		if e.val == nil {
			e.val = []byte{}
		}
	}
	c.put(string(k), e)
}

func (c *writeCache) put(k string, e cached) {
	if old, ok := c.lru.Peek(k); ok {
		c.bytes -= entryCost(k, old)
	}
	c.lru.Add(k, e)
	c.bytes += entryCost(k, e)
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
}

// stage records the writes of an Update that joined the writer's
// transaction.
func (c *writeCache) stage(ops []op) {
	if c == nil {
		return
	}
	for _, o := range ops {
		if !o.dropped {
			c.pending[string(o.key)] = o
		}
	}
}

// committed applies the pending writes to the cache once their
// transaction has committed; on a failed commit it empties the cache.
func (c *writeCache) committed(err error) {
	if c == nil {
		return
	}
	if err != nil {
		c.lru.Purge()
		clear(c.pending)
		clear(c.counters)
		return
	}
	for k, o := range c.pending {
		if k[0] == pCounter {
			c.counterCommitted(o)
		}
		if !c.lru.Contains(k) && !readBack(k) {
			continue
		}
		if o.del {
			c.put(k, cached{absent: true})
		} else if len(o.val) > maxCachedValue {
			c.lru.Remove(k)
		} else {
			c.put(k, cached{val: append([]byte{}, o.val...)})
		}
	}
	clear(c.pending)
}

// readBack reports whether k is a key the writer reads back soon after
// writing it, so that its first write puts it in the cache: an event's
// sequence number and its record, with its snapshot key, which the
// room's next event reads as its parent's (protocol.Check). Other written
// keys join the cache when first read.
func readBack(k string) bool {
	return len(k) > 0 && (k[0] == pEvent || k[0] == pEventBody)
}

// discarded drops the pending writes of a transaction that was not
// committed.
func (c *writeCache) discarded() {
	if c != nil {
		clear(c.pending)
	}
}

// WriteCacheStats describes the write cache (see writecache.go).
type WriteCacheStats struct {
	// Hits and Misses count the writer's point reads the cache answered
	// and those it sent to Badger, since Open.
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
}

// WriteCacheStats returns the write cache's counters. It is safe to call
// at any time.
func (s *Store) WriteCacheStats() WriteCacheStats {
	if s.cache == nil {
		return WriteCacheStats{}
	}
	return WriteCacheStats{Hits: s.cache.hits.Load(), Misses: s.cache.misses.Load()}
}
