package storage

import "github.com/horenso/horenso/protocol"

// SetAvatarRef records that account h's avatar picture is blob hash, so
// that the blob store keeps it (BlobReferenced).
func (tx *Tx) SetAvatarRef(hash []byte, h protocol.Handle) error {
	return wrap("set avatar reference", tx.set(key(pAvatarRef, hash, []byte(h)), nil))
}

// DeleteAvatarRef removes what SetAvatarRef recorded.
func (tx *Tx) DeleteAvatarRef(hash []byte, h protocol.Handle) error {
	return wrap("delete avatar reference", tx.delete(key(pAvatarRef, hash, []byte(h))))
}
