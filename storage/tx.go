package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/horenso/horenso/protocol"
)

// Tx is a transaction handed to View or Update functions. It must not be
// used after the function returns. Reads in an Update see the function's
// own earlier writes by key; prefix scans (the listing methods) see only
// what was stored before the function began.
type Tx struct {
	txn      *badger.Txn
	writable bool
	ops      []op
	own      map[string]int // key → index in ops of its latest write
	ownBy    map[byte][]int // a key's prefix byte → the indexes in ops where keys with it were first written (list)
	size     int64
	hooks    []func()
	cache    *writeCache // the writer's, in an Update; nil in a View (see writecache.go)
	// handed holds the aliases this Update handed out, by alias kind
	// and global key (AppendChange stores a new message's by its alias).
	handed map[string]uint64
	// auth is set once the Update writes an account or a token record
	// (see Store.AuthGeneration).
	auth bool
	// accounts is set once the Update writes an account record (see
	// Store.AccountGeneration).
	accounts bool
	// decoded is set while the Update holds records written with
	// setDecoded that are not encoded yet (see encodeRecords).
	decoded bool
	// stored holds the events this Update stored, decoded, for Event: a
	// batch of a partner's events reads each one's parent, most often
	// the event before it in the batch.
	stored map[protocol.EventID]*protocol.Signed
	notes  map[any]any // see Note
	// leases holds the counter leases this Update wrote, by counter
	// kind (see counters.go).
	leases map[byte]uint64
}

// Note keeps v under key for the rest of the transaction: what a caller
// worked out in it that later calls in the same transaction may reuse, and
// that must not outlive it (what a failed Update read of its own writes).
// Noted returns it. Keys are compared as map keys; use a type of the
// caller's own, as with context values.
func (tx *Tx) Note(key, v any) {
	if tx.notes == nil {
		tx.notes = make(map[any]any)
	}
	tx.notes[key] = v
}

// Noted returns what Note kept under key in this transaction, or nil.
func (tx *Tx) Noted(key any) any { return tx.notes[key] }

// AfterCommit arranges for fn to run once the Update's writes are durable,
// before Update returns; it never runs if they are not applied. Functions
// run in the order added, on the store's single writer goroutine, so they
// must be quick and must not call the store.
func (tx *Tx) AfterCommit(fn func()) { tx.hooks = append(tx.hooks, fn) }

type op struct {
	key, val []byte
	// rec is a record written with setDecoded, kept decoded so that the
	// Update's later reads of it copy it instead of decoding it; val is
	// nil until something needs its bytes (see encoded).
	rec     decoded
	size    int64 // what the write counts against the transaction's size
	del     bool
	discard bool // drop the key's earlier versions (see setDiscard)
	dropped bool // taken back (unset): not written
	lease   bool // a counter's lease, written by nextNumber (see counters.go)
}

// ErrReadOnly is returned by writes in a View transaction.
var ErrReadOnly = errors.New("write in a read-only transaction")

func (tx *Tx) set(k, v []byte) error {
	if !tx.writable {
		return ErrReadOnly
	}
	tx.put(op{key: k, val: v})
	return nil
}

// put records o as the transaction's latest write of its key. A key
// written again replaces its earlier write in place, so a record rewritten
// by every event of a batch (a room's heads, its Room record) costs the
// transaction its last value only, not one value per rewrite: Badger
// keeps only the last write of a key in a transaction anyway, but counts
// every one against its size limit.
func (tx *Tx) put(o op) {
	if len(o.key) > 0 && (o.key[0] == pAccount || o.key[0] == pToken) {
		tx.auth = true
		tx.accounts = tx.accounts || o.key[0] == pAccount
	}
	if tx.own == nil {
		tx.own = make(map[string]int)
	}
	if o.size == 0 {
		o.size = o.cost()
	}
	if i, ok := tx.own[string(o.key)]; ok {
		tx.size -= tx.ops[i].size
		tx.ops[i] = o
	} else {
		tx.own[string(o.key)] = len(tx.ops)
		if len(o.key) > 0 {
			if tx.ownBy == nil {
				tx.ownBy = make(map[byte][]int)
			}
			tx.ownBy[o.key[0]] = append(tx.ownBy[o.key[0]], len(tx.ops))
		}
		tx.ops = append(tx.ops, o)
	}
	tx.size += o.size
}

// cost estimates what o counts against Badger's transaction size limit.
func (o op) cost() int64 {
	if o.del {
		return int64(len(o.key) + 32)
	}
	return int64(len(o.key) + len(o.val) + 32)
}

// decoded is a record kept decoded in an Update until its bytes are
// needed (setDecoded): one rewritten by every event of a batch, a room's
// Room record and its heads, is then encoded once per Update instead of
// once per event, and read back without decoding it.
type decoded interface {
	// maxEncodedSize bounds the record's encoding, for the transaction's
	// size before it is encoded.
	maxEncodedSize() int
	// copyTo copies the record into dst, which must share nothing with
	// it afterwards, if dst is a pointer to a record of its type.
	copyTo(dst any) bool
}

// setDecoded writes rec under k like setRecord, but keeps rec decoded and
// encodes it only when its bytes are needed: by a read of k's bytes, or
// when the Update is written (flush). The caller must not change rec
// afterwards.
func (tx *Tx) setDecoded(k []byte, rec decoded) error {
	if !tx.writable {
		return ErrReadOnly
	}
	tx.put(op{key: k, rec: rec, size: int64(len(k) + rec.maxEncodedSize() + 32)})
	tx.decoded = true
	return nil
}

// getDecoded copies into v the record the Update wrote under k with
// setDecoded, if it did and v is of its type.
func (tx *Tx) getDecoded(k []byte, v any) bool {
	i, ok := tx.own[string(k)]
	return ok && tx.ops[i].rec != nil && tx.ops[i].rec.copyTo(v)
}

// encoded returns the bytes of the Update's write ops[i], encoding a
// record kept decoded first.
func (tx *Tx) encoded(i int) ([]byte, error) {
	o := &tx.ops[i]
	if o.val == nil && o.rec != nil {
		b, err := protocol.EncodeRecord(o.rec)
		if err != nil {
			return nil, err
		}
		o.val = b
	}
	return o.val, nil
}

// encodeRecords encodes the records the Update keeps decoded, once it is
// done with them, and counts what they take exactly.
func (tx *Tx) encodeRecords() error {
	if !tx.decoded {
		return nil
	}
	for i := range tx.ops {
		o := &tx.ops[i]
		if o.rec == nil || o.val != nil {
			continue
		}
		if _, err := tx.encoded(i); err != nil {
			return fmt.Errorf("encode %q: %w", o.key, err)
		}
		tx.size -= o.size
		o.size = o.cost()
		tx.size += o.size
	}
	tx.decoded = false
	return nil
}

// setDiscard is set for a value that replaces one that must not survive:
// Badger keeps a key's earlier versions until compaction drops them, and
// its backup streams every version it still has. The entry's
// discard-earlier-versions bit makes a backup stop at it and lets the
// next compaction of its level drop the older versions (see redact.go).
func (tx *Tx) setDiscard(k, v []byte) error {
	if err := tx.set(k, v); err != nil {
		return err
	}
	tx.ops[tx.own[string(k)]].discard = true
	return nil
}

// unset takes back the Update's own write of val under k, if that is
// its latest write of k: the key is then written as if the Update had
// never set it. It is for a record that turns out redundant within the
// Update that wrote it (a message's alias, see PutMessage); the value
// under k before the Update must have been none, or one the store can
// do without.
func (tx *Tx) unset(k, val []byte) {
	i, ok := tx.own[string(k)]
	if !ok || tx.ops[i].del || !bytes.Equal(tx.ops[i].val, val) {
		return
	}
	// The write stays in its place, as nothing (dropped): deleting it
	// from ops would renumber every later write, a cost per call that
	// grows with the Update (a batch of partner events unsets two keys
	// per message).
	tx.size -= tx.ops[i].size
	tx.ops[i] = op{dropped: true}
	delete(tx.own, string(k))
}

// knownAbsent tells the writer's cache that the store holds no value
// under k, which the caller knows without reading it, unless the batch
// being written holds one. It does nothing outside an Update.
func (tx *Tx) knownAbsent(k []byte) {
	if tx.cache == nil {
		return
	}
	if _, ok := tx.own[string(k)]; ok {
		return
	}
	tx.cache.addAbsent(k)
}

func (tx *Tx) delete(k []byte) error {
	if !tx.writable {
		return ErrReadOnly
	}
	tx.put(op{key: k, del: true})
	return nil
}

// flush writes the Update's writes into txn, encoding the records kept
// decoded first.
func (tx *Tx) flush(txn *badger.Txn) error {
	if err := tx.encodeRecords(); err != nil {
		return err
	}
	for _, o := range tx.ops {
		var err error
		switch {
		case o.dropped:
		case o.del:
			err = txn.Delete(o.key)
		case o.discard:
			err = txn.SetEntry(badger.NewEntry(o.key, o.val).WithDiscard())
		default:
			err = txn.Set(o.key, o.val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// get returns the value under k, or ErrNotFound.
func (tx *Tx) get(k []byte) ([]byte, error) {
	if i, ok := tx.own[string(k)]; ok {
		if tx.ops[i].del {
			return nil, ErrNotFound
		}
		return tx.encoded(i)
	}
	if tx.cache != nil {
		if v, found, ok := tx.cache.lookup(k); ok {
			if !found {
				return nil, ErrNotFound
			}
			return bytes.Clone(v), nil
		}
	}
	item, err := tx.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		if tx.cache != nil {
			tx.cache.add(k, nil, false)
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v, err := item.ValueCopy(nil)
	if err == nil && tx.cache != nil {
		tx.cache.add(k, v, true)
	}
	return v, err
}

// getHead returns the first n bytes of the value under k (all of it if
// shorter), or ErrNotFound: for a record of which only the head is
// wanted, without copying the rest out of Badger. In the writer's Update
// it is get, which keeps the whole value in the write cache.
func (tx *Tx) getHead(k []byte, n int) ([]byte, error) {
	if _, ok := tx.own[string(k)]; ok || tx.cache != nil {
		v, err := tx.get(k)
		return v[:min(n, len(v))], err
	}
	item, err := tx.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var head []byte
	err = item.Value(func(v []byte) error {
		head = bytes.Clone(v[:min(n, len(v))])
		return nil
	})
	return head, err
}

// has reports whether a value is stored under k, without reading it.
func (tx *Tx) has(k []byte) (bool, error) {
	if i, ok := tx.own[string(k)]; ok {
		return !tx.ops[i].del, nil
	}
	if tx.cache != nil {
		if _, found, ok := tx.cache.lookup(k); ok {
			return found, nil
		}
	}
	_, err := tx.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		if tx.cache != nil {
			tx.cache.add(k, nil, false)
		}
		return false, nil
	}
	return err == nil, err
}

func (tx *Tx) getRecord(k []byte, v any) error {
	if tx.getDecoded(k, v) {
		return nil
	}
	b, err := tx.get(k)
	if err != nil {
		return err
	}
	return protocol.DecodeRecord(b, v)
}

func (tx *Tx) setRecord(k []byte, v any) error {
	b, err := protocol.EncodeRecord(v)
	if err != nil {
		return err
	}
	return tx.set(k, b)
}

// scan calls fn for each key with prefix, in key order or in reverse. It
// starts at the first key ≥ from (≤ from in reverse) when from is not nil,
// and stops when fn returns false. fn gets the key without the prefix and
// a function that loads the value; neither may be kept after fn returns.
func (tx *Tx) scan(prefix, from []byte, reverse bool, fn func(k []byte, val func() ([]byte, error)) (bool, error)) error {
	// Values are small and kept in the LSM tree next to their keys, so
	// prefetching them only adds goroutines and copies: it made reading
	// 50 values twice as slow (storage's BenchmarkBadgerRangeRead).
	opt := badger.IteratorOptions{Prefix: prefix, Reverse: reverse}
	it := tx.txn.NewIterator(opt)
	defer it.Close()
	start := from
	if start == nil {
		start = prefix
		if reverse {
			start = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 96)...)
		}
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		more, err := fn(item.Key()[len(prefix):], func() ([]byte, error) { return item.ValueCopy(nil) })
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// entry is a key (without its prefix) and value that list returns.
type entry struct{ k, v []byte }

// list returns every key with prefix and its value, in key order, as the
// transaction sees them: unlike scan, with its own writes. For the small
// indexes whose listing must see what the same Update wrote (a removal, a
// hidden event), not for large ranges.
func (tx *Tx) list(prefix []byte) ([]entry, error) {
	if len(prefix) == 0 {
		return nil, errors.New("list: no prefix")
	}
	var out []entry
	err := tx.scan(prefix, nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		if _, mine := tx.own[string(prefix)+string(k)]; mine {
			return true, nil // added below, if not deleted
		}
		v, err := val()
		if err != nil {
			return false, err
		}
		out = append(out, entry{bytes.Clone(k), v})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	// Only the writes of keys with the prefix's first byte: going over
	// every write of the Update made a batch of removals, each listing
	// its account's, cost the square of the batch.
	added := false
	for _, i := range tx.ownBy[prefix[0]] {
		o := tx.ops[i]
		if o.del || o.dropped || !bytes.HasPrefix(o.key, prefix) {
			continue
		}
		v, err := tx.encoded(i)
		if err != nil {
			return nil, err
		}
		out = append(out, entry{bytes.Clone(o.key[len(prefix):]), v})
		added = true
	}
	if added {
		slices.SortFunc(out, func(a, b entry) int { return bytes.Compare(a.k, b.k) })
	}
	return out, nil
}
