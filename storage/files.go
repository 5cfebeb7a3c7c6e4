package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// File is the file of a file post (a message.post with a file) that the
// node shows: its record (pFile) under its file_id alias (AliasFile of the
// post's ID), listed in its room (pRoomFile) and under its bytes' hash
// (pBlobRef). The bytes themselves are not in the store: the node keeps
// them in its blob store, by hash.
type File struct {
	ID      uint64             `cbor:"-"` // the alias, the record's key
	Event   protocol.EventID   `cbor:"1,keyasint"`
	Room    protocol.RoomID    `cbor:"2,keyasint"`
	Author  protocol.AccountID `cbor:"3,keyasint"`
	Hash    []byte             `cbor:"4,keyasint"`
	Size    uint64             `cbor:"5,keyasint"`
	Name    string             `cbor:"6,keyasint"`
	Type    string             `cbor:"7,keyasint,omitempty"`
	Time    int64              `cbor:"8,keyasint"` // the post's time, unix ms at its origin
	Message uint64             `cbor:"9,keyasint"` // the post's message_id alias
}

// PutFile stores f (its ID an alias handed out for it) and counts its size
// against its author's usage. Putting a file that is stored already
// changes nothing.
func (tx *Tx) PutFile(f *File) error {
	if f.ID == 0 || len(f.Hash) != 32 {
		return fmt.Errorf("put file %d: no alias or bad hash", f.ID)
	}
	k := key(pFile, u64(f.ID))
	if ok, err := tx.has(k); err != nil || ok {
		return wrap("put file", err)
	}
	if err := tx.setRecord(k, f); err != nil {
		return wrap("put file", err)
	}
	if err := tx.set(key(pRoomFile, f.Room[:], u64(f.ID)), nil); err != nil {
		return wrap("put file", err)
	}
	if err := tx.set(key(pBlobRef, f.Hash, u64(f.ID)), nil); err != nil {
		return wrap("put file", err)
	}
	return wrap("put file", tx.addUsage(f.Author, int64(f.Size)))
}

// File returns file id; the error wraps ErrNotFound for a file the node
// does not show (never taken in, or deleted).
func (tx *Tx) File(id uint64) (*File, error) {
	var f File
	if err := tx.getRecord(key(pFile, u64(id)), &f); err != nil {
		return nil, fmt.Errorf("get file %d: %w", id, err)
	}
	f.ID = id
	return &f, nil
}

// FileOf returns the file of the file post post, with ErrNotFound as File.
func (tx *Tx) FileOf(post protocol.EventID) (*File, error) {
	id, err := tx.LookupAlias(AliasFile, post[:])
	if err != nil {
		return nil, fmt.Errorf("get file of %s: %w", post, err)
	}
	return tx.File(id)
}

// DeleteFile removes f and uncounts its size. It reports whether another
// file still has the same bytes (then they must stay).
func (tx *Tx) DeleteFile(f *File) (referenced bool, err error) {
	for _, k := range [][]byte{key(pFile, u64(f.ID)), key(pRoomFile, f.Room[:], u64(f.ID)), key(pBlobRef, f.Hash, u64(f.ID))} {
		if err := tx.delete(k); err != nil {
			return false, wrap("delete file", err)
		}
	}
	if err := tx.addUsage(f.Author, -int64(f.Size)); err != nil {
		return false, wrap("delete file", err)
	}
	referenced, err = tx.BlobReferenced(f.Hash)
	if err == nil && !referenced {
		err = tx.delete(key(pFetch, f.Hash))
	}
	return referenced, wrap("delete file", err)
}

// BlobReferenced reports whether a file the node shows, or a local
// account's avatar picture, has the bytes of hash, counting what this
// transaction wrote.
func (tx *Tx) BlobReferenced(hash []byte) (bool, error) {
	es, err := tx.list(key(pBlobRef, hash))
	if err != nil || len(es) > 0 {
		return len(es) > 0, wrap("list blob references", err)
	}
	es, err = tx.list(key(pAvatarRef, hash))
	return len(es) > 0, wrap("list blob references", err)
}

// FilesOfBlob returns the files whose bytes hash the node has (at most
// limit).
func (tx *Tx) FilesOfBlob(hash []byte, limit int) ([]*File, error) {
	var out []*File
	err := tx.scan(key(pBlobRef, hash), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		f, err := tx.File(be64(k))
		if err != nil {
			return false, err
		}
		out = append(out, f)
		return len(out) < limit, nil
	})
	return out, wrap("list files of blob", err)
}

// RoomFiles returns up to limit files of room, newest first; by is the
// author to keep, or "" for all.
func (tx *Tx) RoomFiles(room protocol.RoomID, by protocol.AccountID, limit int) ([]*File, error) {
	var out []*File
	err := tx.scan(key(pRoomFile, room[:]), nil, true, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		f, err := tx.File(be64(k))
		if err != nil {
			return false, err
		}
		if by == "" || f.Author == by {
			out = append(out, f)
		}
		return len(out) < limit, nil
	})
	return out, wrap("list room files", err)
}

// Usage returns the bytes of the files account has posted that the node
// still shows.
func (tx *Tx) Usage(account protocol.AccountID) (uint64, error) {
	b, err := tx.get(key(pUsage, accountPart(account)))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get usage: %w", err)
	}
	return be64(b), nil
}

func (tx *Tx) addUsage(account protocol.AccountID, delta int64) error {
	u, err := tx.Usage(account)
	if err != nil {
		return err
	}
	n := int64(u) + delta
	if n <= 0 {
		return tx.delete(key(pUsage, accountPart(account)))
	}
	return tx.set(key(pUsage, accountPart(account)), u64(uint64(n)))
}

// SetFetch marks the blob hash, which room's file posts name, as to be
// fetched from the room's member nodes.
func (tx *Tx) SetFetch(hash []byte, room protocol.RoomID) error {
	return wrap("set fetch", tx.set(key(pFetch, hash), room[:]))
}

// DeleteFetch unmarks the blob hash: fetched, or no longer needed.
func (tx *Tx) DeleteFetch(hash []byte) error {
	return wrap("delete fetch", tx.delete(key(pFetch, hash)))
}

// Fetch is a blob to fetch and a room to fetch it for.
type Fetch struct {
	Hash []byte
	Room protocol.RoomID
}

// Fetches returns up to limit blobs marked to be fetched.
func (tx *Tx) Fetches(limit int) ([]Fetch, error) {
	var out []Fetch
	err := tx.scan([]byte{pFetch}, nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		v, err := val()
		if err != nil {
			return false, err
		}
		var r protocol.RoomID
		if len(v) != len(r) {
			return true, nil
		}
		copy(r[:], v)
		out = append(out, Fetch{Hash: bytes.Clone(k), Room: r})
		return len(out) < limit, nil
	})
	return out, wrap("list fetches", err)
}
