package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"strings"
	"sync"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Self-service: a local account's display name and avatar picture, and
// ending its other web sessions.
//
// An avatar picture is the uploaded image decoded and re-encoded as a
// thumbnail (makeThumb: at most ThumbSize pixels on its long side, JPEG or
// PNG), so what the node serves is always a plain image it made itself,
// and kept in the blob store like a file's bytes; the 0xEC reference keeps
// the blob while the account shows it. Avatars are node-local: partners
// see the initials of a partner's person, as before.

// MaxAvatarBytes bounds an uploaded avatar picture, before it is scaled.
const MaxAvatarBytes = 5 << 20

// SetName sets local account h's display name, and publishes it to the
// account's rooms as RenameOrg does the organization: members on partners'
// nodes see it as it arrives. ErrInvalid for an empty or too long name,
// ErrNotFound for an unknown account.
func (n *Node) SetName(ctx context.Context, h protocol.Handle, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > protocol.MaxNameSize {
		return fmt.Errorf("set name of %s: %w", h, problem(ErrInvalid, "the name must have 1 to %d bytes", protocol.MaxNameSize))
	}
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		old, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		if old.Name == name {
			return nil
		}
		a := *old
		a.Name = name
		if err := tx.PutAccount(old, &a); err != nil {
			return err
		}
		ms, err := tx.RoomsOf(protocol.NewAccountID(n.id, h))
		if err != nil {
			return err
		}
		for _, m := range ms {
			room := m.Room
			tx.AfterCommit(func() { n.net.queue(outbound{kind: publishProfile, room: room, profile: h}) })
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set name of %s: %w", h, err)
	}
	return nil
}

// SetAvatar makes the image r holds (PNG, JPEG, GIF or WebP, at most
// MaxAvatarBytes) local account h's avatar picture, replacing any. It
// returns the new avatar's version (Profile.Avatar). ErrInvalid for what
// is not such an image, ErrNotFound for an unknown account.
func (n *Node) SetAvatar(ctx context.Context, h protocol.Handle, r io.Reader) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxAvatarBytes+1))
	if err != nil {
		return "", fmt.Errorf("set avatar of %s: %w", h, err)
	}
	if len(raw) > MaxAvatarBytes {
		return "", fmt.Errorf("set avatar of %s: %w", h, problem(ErrInvalid, "the picture is too large (max %d bytes)", MaxAvatarBytes))
	}
	img, typ, err := makeThumb(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("set avatar of %s: %w", h, problem(ErrInvalid, "the picture must be a PNG, JPEG, GIF or WebP image"))
	}
	if _, full := n.store.Space(); full {
		return "", fmt.Errorf("set avatar of %s: %w", h, ErrDiskFull)
	}
	// Shared from storing the bytes until the reference is committed, as
	// a file post holds it: collectBlobs cannot remove them in between.
	n.blobs.mu.RLock()
	defer n.blobs.mu.RUnlock()
	f, sum, _, err := n.blobs.stage(ctx, bytes.NewReader(img), int64(len(img)))
	if err != nil {
		return "", fmt.Errorf("set avatar of %s: %w", h, err)
	}
	if err := n.blobs.commit(ctx, f, sum); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("set avatar of %s: %w", h, err)
	}
	if err := n.putAvatar(ctx, h, sum, typ); err != nil {
		n.queueCollect(sum)
		return "", fmt.Errorf("set avatar of %s: %w", h, err)
	}
	return avatarVersion(sum), nil
}

// ClearAvatar removes local account h's avatar picture, if it has one.
func (n *Node) ClearAvatar(ctx context.Context, h protocol.Handle) error {
	if err := n.putAvatar(ctx, h, nil, ""); err != nil {
		return fmt.Errorf("clear avatar of %s: %w", h, err)
	}
	return nil
}

// putAvatar points account h at blob sum (nil: none) and queues the blob
// it showed before for collection.
func (n *Node) putAvatar(ctx context.Context, h protocol.Handle, sum []byte, typ string) error {
	return n.store.Update(ctx, func(tx *storage.Tx) error {
		old, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		if bytes.Equal(old.Avatar, sum) {
			return nil
		}
		a := *old
		a.Avatar, a.AvatarType = sum, typ
		if old.Avatar != nil {
			if err := tx.DeleteAvatarRef(old.Avatar, h); err != nil {
				return err
			}
			was := old.Avatar
			tx.AfterCommit(func() { n.queueCollect(was) })
		}
		if sum != nil {
			if err := tx.SetAvatarRef(sum, h); err != nil {
				return err
			}
		}
		return tx.PutAccount(old, &a)
	})
}

// OpenAvatar opens local account h's avatar picture and returns its media
// type and version. ErrNotFound if h has none. The caller closes the
// reader.
func (n *Node) OpenAvatar(ctx context.Context, h protocol.Handle) (io.ReadSeekCloser, string, string, error) {
	var sum []byte
	var typ string
	err := n.store.View(func(tx *storage.Tx) error {
		a, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		sum, typ = a.Avatar, a.AvatarType
		return nil
	})
	if err == nil && sum == nil {
		err = problem(ErrNotFound, "no avatar picture")
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("open avatar of %s: %w", h, err)
	}
	f, _, err := n.blobs.open(ctx, sum)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = problem(ErrNotFound, "the avatar picture is missing from the blob store")
		}
		return nil, "", "", fmt.Errorf("open avatar of %s: %w", h, err)
	}
	return f, typ, avatarVersion(sum), nil
}

// avatarVersion names an avatar picture in URLs, so that a new one is
// never taken from a cache: the start of its hash.
func avatarVersion(sum []byte) string {
	if sum == nil {
		return ""
	}
	return hex.EncodeToString(sum[:6])
}

// EndOtherSessions ends account h's web sessions but the one of token
// keep (all of them if keep is ""), and returns how many it ended. Bots'
// API tokens stay.
func (n *Node) EndOtherSessions(ctx context.Context, h protocol.Handle, keep string) (int, error) {
	var kh *storage.TokenHash
	if keep != "" {
		x := storage.HashToken(keep)
		kh = &x
	}
	ended := 0
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		ended = 0
		ts, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name == SessionTokenName && (kh == nil || t.Hash != *kh) {
				ended++
			}
		}
		return endSessions(tx, h, kh)
	})
	if err != nil {
		return 0, fmt.Errorf("end other sessions of %s: %w", h, err)
	}
	return ended, nil
}

// avatarCache keeps the avatar versions AvatarVersions read ("" for an
// account with no avatar, or none), tagged with the store's
// AccountGeneration read before the View that read them: an entry serves
// only while no account record was written since. A 5,000-member room's
// member list read 5,000 account records for them, 14 of its 18 ms.
type avatarCache struct {
	mu       sync.Mutex
	gen      uint64
	versions map[protocol.AccountID]string
}

// avatarCacheMax bounds avatarCache: past it, the cache starts afresh.
const avatarCacheMax = 100_000

// AvatarVersions returns the avatar picture versions (Profile.Avatar) of
// the local accounts among ids that have one, reading those it has not
// cached in one transaction: for member lists and the directory.
func (n *Node) AvatarVersions(ctx context.Context, ids []protocol.AccountID) (map[protocol.AccountID]string, error) {
	out := map[protocol.AccountID]string{}
	gen := n.store.AccountGeneration() // before the View: see storage.Store.AccountGeneration
	c := &n.avatars
	var missing []protocol.AccountID
	c.mu.Lock()
	if c.gen != gen || c.versions == nil {
		c.gen, c.versions = gen, make(map[protocol.AccountID]string)
	}
	for _, id := range ids {
		if id.Node() != n.id {
			continue
		}
		if v, ok := c.versions[id]; !ok {
			missing = append(missing, id)
		} else if v != "" {
			out[id] = v
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	read := make(map[protocol.AccountID]string, len(missing))
	err := n.store.View(func(tx *storage.Tx) error {
		for _, id := range missing {
			v := "" // none, or no such account
			switch a, err := tx.Account(id.Handle()); {
			case err == nil && a.Avatar != nil:
				v = avatarVersion(a.Avatar)
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				return err
			}
			read[id] = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("avatar versions: %w", err)
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.versions)+len(read) > avatarCacheMax {
			clear(c.versions)
		}
		maps.Copy(c.versions, read)
	}
	c.mu.Unlock()
	for id, v := range read {
		if v != "" {
			out[id] = v
		}
	}
	return out, nil
}
