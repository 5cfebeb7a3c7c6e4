package storage

// Size returns the bytes of the store's files as Badger last measured
// them (it does so about once a minute): the LSM tree's tables and the
// value log. It is safe to call at any time and does not touch the disk.
func (s *Store) Size() (lsm, vlog int64) { return s.db.Size() }
