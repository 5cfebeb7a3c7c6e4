package storage

import (
	"errors"
	"fmt"
)

// The store hands out numbers from counters kept under pCounter: an
// event's sequence number (the key of its record), a change's (the change
// feed's), and an alias per alias kind (the ChatWork API's IDs). A
// counter's record held the last number handed out and was rewritten with
// each: three of the thirteen records a post wrote.
//
// The three counters a post takes a number from (events, changes, message
// aliases) now lease numbers instead. Their record holds the highest number
// that may be handed out without writing it again, and the writer keeps
// the last one it handed out in memory (writeCache.counters). A number
// past the lease makes its Update write the record again, leaseBlock
// ahead, in the same transaction. So every number that a committed write
// holds is at most the record's value committed with or before it, and a
// store opened again (after a clean close or a crash) goes on after the
// record's value: it skips the numbers of the lease it did not use, fewer
// than leaseBlock. Numbers were never dense (an Update that fails uses
// the numbers it took), and nothing reads a counter to learn the last
// number used: the newest change is the change feed's last key
// (LastChange). A record written as a last number (before leases, or by
// an older binary) is read as a lease: the next number follows it. The
// other counters (rooms', accounts', tasks' and files' aliases) still
// write their record with each number.

// leaseBlock is how far ahead of the number that needs it a lease is
// written: a post writes a counter's record once in leaseBlock posts.
const leaseBlock = 1024

// leased reports whether counter kind hands out leased numbers.
func leased(kind byte) bool {
	return kind == eventSeqCounter || kind == feedCounter || kind == byte(AliasMessage)
}

// counter is the writer's state of a leased counter.
type counter struct {
	last  uint64 // the last number handed out
	lease uint64 // the committed record's value: the highest number that may be handed out
}

// nextNumber hands out the next number of counter kind. In an Update on
// the writer a leased counter writes its record only when the number
// passes the lease (see above); elsewhere (Open's migrations) and for
// the other counters, it writes the number itself.
func (tx *Tx) nextNumber(kind byte) (uint64, error) {
	k := key(pCounter, []byte{kind})
	var c *counter
	if tx.cache != nil && leased(kind) {
		c = tx.cache.counters[kind]
	}
	if c == nil {
		var last uint64
		switch b, err := tx.get(k); {
		case err == nil:
			last = be64(b)
		case !errors.Is(err, ErrNotFound):
			return 0, fmt.Errorf("read counter %#x: %w", kind, err)
		}
		if tx.cache == nil || !leased(kind) {
			return last + 1, tx.set(k, u64(last+1))
		}
		c = &counter{last: last, lease: last}
		tx.cache.counters[kind] = c
	}
	n := c.last + 1
	if n > c.lease && n > tx.leases[kind] {
		lease := n + leaseBlock - 1
		if tx.leases == nil {
			tx.leases = make(map[byte]uint64)
		}
		tx.leases[kind] = lease
		tx.put(op{key: k, val: u64(lease), lease: true})
	}
	c.last = n
	return n, nil
}

// counterCommitted brings the writer's state of the counter whose record
// o wrote up to date, now that o is committed: a lease it wrote is its
// lease now; any other write of the record (a standby applying its
// primary's) makes the writer read the record again at its next number.
func (c *writeCache) counterCommitted(o op) {
	if len(o.key) != 2 || o.key[0] != pCounter {
		return
	}
	kind := o.key[1]
	st := c.counters[kind]
	switch {
	case st == nil:
	case o.lease && !o.del && len(o.val) == 8:
		st.lease = max(st.lease, be64(o.val))
	default:
		delete(c.counters, kind)
	}
}
