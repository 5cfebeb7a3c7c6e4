package node

// StoreSize returns the size of the store's files, its LSM tree and its
// value log, in bytes, for the admin's status page. Blobs are not
// counted.
func (n *Node) StoreSize() (lsm, vlog int64) { return n.store.Size() }
