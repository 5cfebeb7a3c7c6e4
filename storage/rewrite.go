package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// rewrite is a change to every key of a few prefixes, made after a schema
// migration in commits of its own, so that it survives being stopped at
// any point (the schema 10 cleanup, the schema 11 move): a marker key
// holds the phase (the first byte of the prefix being gone over) and the
// last key of it dealt with, without the prefix. Empty, it means the start
// of the first phase; absent, nothing to do.
type rewrite struct {
	marker byte
	phases [][]byte // the prefixes gone over, in order
	// maxBytes bounds a commit's transaction size, besides cleanupBatch
	// keys; 0: only the keys.
	maxBytes int64
	// step deals with key k (without its prefix) of phase i, whose value
	// val returns.
	step func(tx *Tx, i int, k []byte, val func() ([]byte, error)) error
	// what names the rewrite in logs and errors, doing what it does.
	what, doing string
	// interrupt, if set, is called after each commit (tests).
	interrupt func(batches int) error
}

// run makes the rewrite, from where the marker says, then deletes the
// marker. Open runs it after migrating, before the writer starts.
func (r *rewrite) run(db *badger.DB, log *slog.Logger) error {
	start := time.Now()
	for batches := 1; ; batches++ {
		done, err := r.commit(db)
		if err != nil {
			return err
		}
		if done {
			if batches > 1 {
				log.Info(r.what+" done", "commits", batches, "took", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if batches == 1 {
			log.Info(r.what + " under way: " + r.doing)
		}
		if r.interrupt != nil {
			if err := r.interrupt(batches); err != nil {
				return err
			}
		}
	}
}

// commit makes one commit of the rewrite and reports whether it is done.
func (r *rewrite) commit(db *badger.DB) (done bool, err error) {
	err = db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte{r.marker})
		if errors.Is(err, badger.ErrKeyNotFound) {
			done = true
			return nil
		}
		var marker []byte
		if err == nil {
			marker, err = item.ValueCopy(nil)
		}
		if err != nil {
			return fmt.Errorf("read %s marker: %w", r.what, err)
		}
		phase, from := 0, []byte(nil)
		if len(marker) > 0 {
			phase, from = -1, marker[1:]
			for i, p := range r.phases {
				if p[0] == marker[0] {
					phase = i
				}
			}
			if phase < 0 {
				return fmt.Errorf("%s marker names phase %#x", r.what, marker[0])
			}
		}
		tx := &Tx{txn: txn, writable: true}
		prefix := r.phases[phase]
		full := func(n int) bool { return n == cleanupBatch || r.maxBytes > 0 && tx.size > r.maxBytes }
		var last []byte
		n := 0
		err = tx.scan(prefix, append(bytes.Clone(prefix), from...), false, func(k []byte, val func() ([]byte, error)) (bool, error) {
			if len(marker) > 1 && bytes.Equal(k, from) {
				return true, nil // dealt with by the commit before
			}
			if full(n) {
				return false, nil
			}
			n++
			last = bytes.Clone(k)
			return true, r.step(tx, phase, k, val)
		})
		if err != nil {
			return fmt.Errorf("%s %#x: %w", r.what, prefix[0], err)
		}
		switch {
		case n > 0 && full(n):
			err = tx.set([]byte{r.marker}, append([]byte{prefix[0]}, last...))
		case phase+1 < len(r.phases):
			err = tx.set([]byte{r.marker}, []byte{r.phases[phase+1][0]})
		default:
			done = true
			err = tx.delete([]byte{r.marker})
		}
		if err != nil {
			return err
		}
		return tx.flush(txn)
	})
	return done, err
}
