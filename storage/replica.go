package storage

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// A standby's store is a replica of its primary's: the primary writes
// increments with Hold.WriteSince (pitr.go) and the standby applies them
// here, as ordinary writes of its own (its Badger versions are its own;
// the primary's version it has reached is kept under pReplica, in the
// same commits). Nothing else writes a replica: Update fails with
// ErrReplica.

// ErrReplica is returned by Update on a store opened with
// Options.Replica.
var ErrReplica = errors.New("store is a replica: it takes changes from its primary only")

// ReplicaVersion returns the primary's store version a replica has
// applied; 0 if none.
func (s *Store) ReplicaVersion() (uint64, error) {
	var v uint64
	err := s.View(func(tx *Tx) error {
		b, err := tx.get([]byte{pReplica})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err == nil && len(b) == 8 {
			v = be64(b)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("replica version: %w", err)
	}
	return v, nil
}

// applyBatchBytes is how many bytes of keys and values one commit of
// ApplyIncrement or ApplyFull holds at most (a commit always holds at
// least one whole primary commit): half of what one Badger transaction
// may hold (15% of a memtable), leaving room for Badger's own bytes per
// record. It was 1 MiB, more than a transaction of a 4 MiB memtable
// (--store-memtable-mib 4) can hold.
func (s *Store) applyBatchBytes() int { return int(s.db.MaxBatchSize() / 2) }

// ApplyIncrement applies to a replica an increment its primary wrote with
// WriteSince(since), since being the version the replica has applied,
// ending at primary version until. It applies the primary's commits in
// version order, a few at a time, each group in one commit: a reader sees
// the store as the primary was after one of its commits, never a mix. It
// returns how many key versions it applied.
func (s *Store) ApplyIncrement(ctx context.Context, r io.Reader, until uint64) (int, error) {
	var kvs []*pb.KV
	err := readKVs(r, func(kv *pb.KV) error {
		if len(kv.Key) > 0 && kv.Key[0] != pReplica {
			kvs = append(kvs, kv)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("apply increment: %w", err)
	}
	// Stable: versions of one key come newest first, and ascending
	// versions must put the newest last.
	slices.SortStableFunc(kvs, func(a, b *pb.KV) int { return cmp.Compare(a.Version, b.Version) })
	limit := s.applyBatchBytes()
	for start := 0; start < len(kvs) || start == 0; {
		end, size := start, 0
		for end < len(kvs) && (size < limit || kvs[end].Version == kvs[end-1].Version) {
			size += len(kvs[end].Key) + len(kvs[end].Value)
			end++
		}
		reached := until
		if end < len(kvs) {
			reached = kvs[end-1].Version
		}
		group := kvs[start:end]
		err := s.submit(ctx, func(tx *Tx) error {
			for _, kv := range group {
				if err := applyKV(tx, kv); err != nil {
					return err
				}
			}
			return tx.set([]byte{pReplica}, u64(reached))
		})
		if err != nil {
			return start, fmt.Errorf("apply increment up to version %d: %w", until, err)
		}
		if end == len(kvs) {
			break
		}
		start = end
	}
	return len(kvs), nil
}

func applyKV(tx *Tx, kv *pb.KV) error {
	if len(kv.Meta) > 0 && kv.Meta[0]&badgerBitDelete != 0 {
		return tx.delete(kv.Key)
	}
	return tx.set(kv.Key, kv.Value)
}

// ApplyFull makes a replica hold exactly a full copy its primary wrote
// with WriteSince(0) at version until: it writes the keys whose values
// differ and deletes those the copy lacks, in key order, in commits of
// about applyBatchBytes. Unlike ApplyIncrement it is not atomic: until
// it returns, a reader may see a mix of the old and the new state. It
// returns how many keys it wrote or deleted.
func (s *Store) ApplyFull(ctx context.Context, r io.Reader, until uint64) (int, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.DefaultIteratorOptions)
	defer it.Close()
	it.Rewind()
	var batch []*pb.KV
	size, changed := 0, 0
	flush := func(last bool) error {
		if len(batch) == 0 && !last {
			return nil
		}
		group := batch
		err := s.submit(ctx, func(tx *Tx) error {
			for _, kv := range group {
				if err := applyKV(tx, kv); err != nil {
					return err
				}
			}
			if last {
				return tx.set([]byte{pReplica}, u64(until))
			}
			return nil
		})
		changed += len(group)
		batch, size = nil, 0
		return err
	}
	limit := s.applyBatchBytes()
	add := func(kv *pb.KV) error {
		batch = append(batch, kv)
		if size += len(kv.Key) + len(kv.Value); size >= limit {
			return flush(false)
		}
		return nil
	}
	// ours drops every key of ours before key (none: all the rest), and
	// reports whether we hold key with this value.
	ours := func(key, value []byte) (bool, error) {
		for ; it.Valid(); it.Next() {
			k := it.Item().Key()
			c := bytes.Compare(k, key)
			if key != nil && c > 0 {
				return false, nil
			}
			if key != nil && c == 0 {
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return false, err
				}
				it.Next()
				return bytes.Equal(v, value), nil
			}
			if k[0] == pReplica {
				continue
			}
			if err := add(&pb.KV{Key: it.Item().KeyCopy(nil), Meta: []byte{badgerBitDelete}}); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	err := readKVs(r, func(kv *pb.KV) error {
		if len(kv.Key) == 0 || kv.Key[0] == pReplica {
			return nil
		}
		same, err := ours(kv.Key, kv.Value)
		if err != nil || same {
			return err
		}
		return add(kv)
	})
	if err == nil {
		_, err = ours(nil, nil)
	}
	if err == nil {
		err = flush(true)
	}
	if err != nil {
		return changed, fmt.Errorf("apply full copy at version %d: %w", until, err)
	}
	return changed, nil
}

// readKVs calls f with each entry of a file in Badger's backup format.
func readKVs(r io.Reader, f func(*pb.KV) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		var size uint64
		if err := binary.Read(br, binary.LittleEndian, &size); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if size > maxKVList {
			return fmt.Errorf("a record of %d bytes: not a backup stream", size)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("truncated backup stream: %w", err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf, &list); err != nil {
			return err
		}
		for _, kv := range list.Kv {
			if err := f(kv); err != nil {
				return err
			}
		}
	}
}
