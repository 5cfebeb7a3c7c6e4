package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// SchemaVersion is the version of the key layout this code reads and
// writes. Open upgrades older stores by running migrations in order and
// refuses stores written by a newer version.
const SchemaVersion = 1

// migrations[i] upgrades a store from schema version i to i+1. Version 0
// is an empty store, so migrations[0] sets up a new one.
var migrations = []func(txn *badger.Txn) error{
	0: func(*badger.Txn) error { return nil }, // nothing to set up: every index starts empty
}

// ErrNewerSchema is returned by Open for a store written by a newer Horenso.
var ErrNewerSchema = errors.New("store was written by a newer version of horenso")

func migrate(txn *badger.Txn) error {
	var have uint32
	item, err := txn.Get([]byte{pSchema})
	switch {
	case err == nil:
		v, err := item.ValueCopy(nil)
		if err != nil || len(v) != 4 {
			return fmt.Errorf("read schema version: %v %w", v, err)
		}
		have = binary.BigEndian.Uint32(v)
	case !errors.Is(err, badger.ErrKeyNotFound):
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > SchemaVersion {
		return fmt.Errorf("%w: schema %d, this build reads up to %d", ErrNewerSchema, have, SchemaVersion)
	}
	for v := have; v < SchemaVersion; v++ {
		if err := migrations[v](txn); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	return txn.Set([]byte{pSchema}, binary.BigEndian.AppendUint32(nil, SchemaVersion))
}
