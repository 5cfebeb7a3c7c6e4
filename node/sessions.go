package node

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// SessionTokenName is the name of the API tokens that back web sessions.
// CreateToken refuses it, so a bot's token is never taken for a session.
const SessionTokenName = "web session"

// touchEvery is how stale a session's recorded last use may get:
// Authenticate writes it at most this often per session, not on every
// request, so that reading with a session costs no write.
const touchEvery = time.Minute

// Client describes where a login came from. StartSession records it with
// the session, so that its owner can tell their sessions apart.
type Client struct {
	UserAgent string // the User-Agent header; cut to 256 bytes
	Addr      string // the client's IP address
}

// Session is one of an account's web sessions as its owner sees it. ID
// names it for EndSession; it is derived from the token's hash and gives
// nothing away about the token.
type Session struct {
	ID        string `json:"id"`
	Created   int64  `json:"created"`   // unix ms
	LastUsed  int64  `json:"last_used"` // unix ms, to within a minute
	UserAgent string `json:"user_agent,omitempty"`
	Addr      string `json:"addr,omitempty"`
}

// StartSession checks a login (handle or email) and password as Login does
// and returns the account with a new session token: an API token named
// SessionTokenName, stored only as its hash like any other, which works
// until RevokeToken or EndSession ends it, the account is disabled or
// changes its password, or it expires (Config.SessionIdle,
// Config.SessionMax). It also deletes the account's expired sessions.
func (n *Node) StartSession(ctx context.Context, login, password string, from Client) (*Account, string, error) {
	a, err := n.Login(ctx, login, password)
	if err != nil {
		return nil, "", err
	}
	token := newToken()
	now := n.cfg.Now()
	if len(from.UserAgent) > 256 {
		from.UserAgent = from.UserAgent[:256]
	}
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		acc, err := tx.Account(a.Handle)
		if err != nil {
			return noAccount(a.Handle, err)
		}
		if acc.Disabled {
			return ErrDisabled
		}
		ts, err := tx.Tokens(a.Handle)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if n.expired(t.Token, now) {
				if err := tx.DeleteToken(t.Hash); err != nil {
					return err
				}
			}
		}
		return tx.PutToken(storage.HashToken(token), &storage.Token{Handle: a.Handle, Name: SessionTokenName,
			Created: now.UnixMilli(), LastUsed: now.UnixMilli(), UserAgent: from.UserAgent, Addr: from.Addr})
	})
	if err != nil {
		return nil, "", fmt.Errorf("start session: %w", err)
	}
	return a, token, nil
}

// expired reports whether t is an API token past its expiry or a web
// session past its idle or absolute lifetime at now. A session without
// a recorded last use (made before last use was recorded) counts as used
// now: upgrading logs no one out.
func (n *Node) expired(t *storage.Token, now time.Time) bool {
	ms := now.UnixMilli()
	if t.Expires != 0 && ms >= t.Expires {
		return true
	}
	if t.Name != SessionTokenName {
		return false
	}
	if t.Created != 0 && ms >= t.Created+n.cfg.SessionMax.Milliseconds() {
		return true
	}
	return t.LastUsed != 0 && ms >= t.LastUsed+n.cfg.SessionIdle.Milliseconds()
}

// touch records that token h was used at now, if its last recorded use
// is touchEvery old or more. It runs in its own update, after the read
// that authenticated the request; a session deleted meanwhile gives
// ErrUnauthorized.
func (n *Node) touch(ctx context.Context, h storage.TokenHash, now time.Time) error {
	return n.store.Update(ctx, func(tx *storage.Tx) error {
		t, err := tx.Token(h)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		if now.UnixMilli()-t.LastUsed < touchEvery.Milliseconds() {
			return nil // a concurrent request touched it
		}
		t.LastUsed = now.UnixMilli()
		if t.Created == 0 {
			t.Created = t.LastUsed // no creation time recorded: counts from its first use
		}
		return tx.PutToken(h, t)
	})
}

// SessionID returns the ID under which Sessions lists the session of a
// token.
func SessionID(token string) string { return sessionID(storage.HashToken(token)) }

// sessionID is hexadecimal so that an ID never begins with "-": an ID
// copied from `horenso token list` into `horenso token revoke` must not
// read as a flag.
func sessionID(h storage.TokenHash) string { return hex.EncodeToString(h[:12]) }

// Sessions returns the web sessions of account h that have not expired,
// most recently used first. Bots' API tokens are not sessions and are not
// listed.
func (n *Node) Sessions(ctx context.Context, h protocol.Handle) ([]*Session, error) {
	now := n.cfg.Now()
	out := []*Session{}
	err := n.store.View(func(tx *storage.Tx) error {
		ts, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name != SessionTokenName || n.expired(t.Token, now) {
				continue
			}
			s := &Session{ID: sessionID(t.Hash), Created: t.Created, LastUsed: t.LastUsed, UserAgent: t.UserAgent, Addr: t.Addr}
			if s.LastUsed == 0 {
				s.LastUsed = s.Created
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", h, err)
	}
	slices.SortStableFunc(out, func(a, b *Session) int { return cmp.Compare(b.LastUsed, a.LastUsed) })
	return out, nil
}

// EndSession ends account h's web session with ID id (see Sessions):
// ErrNotFound if h has no such session.
func (n *Node) EndSession(ctx context.Context, h protocol.Handle, id string) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		ts, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name == SessionTokenName && hmac.Equal([]byte(sessionID(t.Hash)), []byte(id)) {
				return tx.DeleteToken(t.Hash)
			}
		}
		return problem(ErrNotFound, "no such session")
	})
	return wrapOp("end session", err)
}

// endSessions deletes account h's web sessions but the one whose hash is
// keep (none if keep is nil). Bots' API tokens stay.
func endSessions(tx *storage.Tx, h protocol.Handle, keep *storage.TokenHash) error {
	ts, err := tx.Tokens(h)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.Name == SessionTokenName && (keep == nil || t.Hash != *keep) {
			if err := tx.DeleteToken(t.Hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// RevokeToken deletes one API token (a session's or a bot's), so it stops
// working at once. An unknown token gives ErrUnauthorized.
func (n *Node) RevokeToken(ctx context.Context, token string) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		err := tx.DeleteToken(storage.HashToken(token))
		if errors.Is(err, storage.ErrNotFound) {
			return ErrUnauthorized
		}
		return err
	})
	return wrapOp("revoke token", err)
}

// MaxPasswordLen is the longest password, in bytes, accounts may have.
const MaxPasswordLen = 1024

// ValidPassword checks a new password's length: ErrInvalid (a *Problem)
// if it is shorter than MinPasswordLen or longer than MaxPasswordLen.
func ValidPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return problem(ErrInvalid, "password is too short (min %d characters)", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return problem(ErrInvalid, "password is too long (max %d bytes)", MaxPasswordLen)
	}
	return nil
}

// ChangePassword sets account h's password to next if current is its
// password now, and ends the account's other web sessions: all of them
// but the one of token keep (none if keep is ""). Bots' API tokens keep
// working. A wrong current password gives ErrUnauthorized, a bad new one
// ErrInvalid.
func (n *Node) ChangePassword(ctx context.Context, h protocol.Handle, current, next, keep string) error {
	if err := ValidPassword(next); err != nil {
		return fmt.Errorf("change password of %s: %w", h, err)
	}
	var old string
	err := n.store.View(func(tx *storage.Tx) error {
		a, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		old = a.PasswordHash
		return nil
	})
	if err == nil {
		var ok bool
		if ok, err = n.passwords.check(ctx, old, current); err == nil && !ok {
			err = ErrUnauthorized
		}
	}
	if err != nil {
		return fmt.Errorf("change password of %s: %w", h, err)
	}
	var kh *storage.TokenHash
	if keep != "" {
		x := storage.HashToken(keep)
		kh = &x
	}
	hash, err := n.passwords.hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", h, err)
	}
	return n.setPassword(ctx, h, hash, old, kh)
}

// SetPassword sets account h's password, as an admin does, and ends all
// the account's web sessions; bots' API tokens keep working. A bad
// password gives ErrInvalid, an unknown account ErrNotFound.
func (n *Node) SetPassword(ctx context.Context, h protocol.Handle, password string) error {
	if err := ValidPassword(password); err != nil {
		return fmt.Errorf("set password of %s: %w", h, err)
	}
	hash, err := n.passwords.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", h, err)
	}
	return n.setPassword(ctx, h, hash, "", nil)
}

// ResetPassword gives account h a new random password, ends all its web
// sessions as SetPassword does, and returns the password: it is not
// stored and cannot be shown again.
func (n *Node) ResetPassword(ctx context.Context, h protocol.Handle) (string, error) {
	pw := GeneratePassword()
	hash, err := n.passwords.hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("reset password of %s: %w", h, err)
	}
	if err := n.setPassword(ctx, h, hash, "", nil); err != nil {
		return "", err
	}
	return pw, nil
}

// GeneratePassword returns a new random password: 20 characters of
// base64url, 120 bits.
func GeneratePassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setPassword stores hash as h's password hash, if it is still was ("":
// whatever it is), and ends its sessions but keep's.
func (n *Node) setPassword(ctx context.Context, h protocol.Handle, hash, was string, keep *storage.TokenHash) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		old, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		if was != "" && old.PasswordHash != was {
			return problem(ErrConflict, "the password was changed meanwhile")
		}
		a := *old
		a.PasswordHash = hash
		if err := tx.PutAccount(old, &a); err != nil {
			return err
		}
		return endSessions(tx, h, keep)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", h, err)
	}
	return nil
}

// CSRFToken returns the anti-CSRF token bound to a session token: the
// HMAC-SHA256 of the session token under a key derived from the node's
// identity key. It needs no storage, is the same across restarts, differs
// for every session and cannot be computed without the node's key, so a
// page on another site cannot forge it. Compare with hmac.Equal.
func (n *Node) CSRFToken(session string) string {
	k := sha256.Sum256(append([]byte("horenso csrf key v1\x00"), n.key.Seed()...))
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
