package node

import (
	"cmp"
	"context"
	"crypto/hmac"
	"fmt"
	"slices"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Bounds of a token's description.
const (
	maxTokenRooms   = 100
	maxTokenNameLen = 100
	maxTokenScopes  = 32
)

// TokenSpec describes a new API token. The zero value is a token with
// the full access of its account that never expires, as CreateToken
// makes.
type TokenSpec struct {
	Name string // what the token is for; at most 100 characters
	// Scopes are ChatWork OAuth scope names (see Scopes); empty: every
	// one. offline_access is accepted and dropped.
	Scopes []string
	// Rooms are room_id aliases of the account's rooms that the token's
	// room requests are limited to; empty: every room. A token limited to
	// rooms cannot create rooms.
	Rooms []uint64
	// TTL is how long the token works; 0: until revoked.
	TTL time.Duration
}

// TokenInfo is one of an account's API tokens as its owner sees it (web
// sessions are not listed). ID names it for RevokeAPIToken; derived from
// the token's hash, it gives nothing away about the token.
type TokenInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`          // empty: full access
	Rooms    []uint64 `json:"rooms"`           // empty: every room
	Created  int64    `json:"created"`         // unix ms
	Expires  int64    `json:"expires"`         // unix ms; 0: never
	LastUsed int64    `json:"last_used"`       // unix ms, to within a minute; 0: never used
	Token    string   `json:"token,omitempty"` // only in the answer to its creation
}

func tokenInfo(h storage.TokenHash, t *storage.Token) *TokenInfo {
	return &TokenInfo{ID: sessionID(h), Name: t.Name, Scopes: append([]string{}, t.Scopes...),
		Rooms: append([]uint64{}, t.Rooms...), Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed}
}

// CreateScopedToken makes a new API token for account h as spec says and
// returns it with its description, whose Token field holds the token:
// only its hash is stored, so it cannot be shown again. Unknown scopes,
// rooms h is not a member of, a negative TTL or a name of
// SessionTokenName give ErrInvalid; a disabled account ErrDisabled.
func (n *Node) CreateScopedToken(ctx context.Context, h protocol.Handle, spec TokenSpec) (*TokenInfo, error) {
	fail := func(err error) (*TokenInfo, error) { return nil, fmt.Errorf("create token for %s: %w", h, err) }
	if spec.Name == SessionTokenName {
		return fail(problem(ErrInvalid, "token name %q is reserved for web sessions", spec.Name))
	}
	if len([]rune(spec.Name)) > maxTokenNameLen {
		return fail(problem(ErrInvalid, "token name is too long (max %d characters)", maxTokenNameLen))
	}
	if spec.TTL < 0 {
		return fail(problem(ErrInvalid, "token lifetime must not be negative"))
	}
	if len(spec.Scopes) > maxTokenScopes {
		return fail(problem(ErrInvalid, "too many scopes (max %d)", maxTokenScopes))
	}
	var scopes []string
	for _, s := range spec.Scopes {
		if !ValidScope(s) {
			return fail(problem(ErrInvalid, "unknown scope %q", s))
		}
		if s != ScopeOfflineAccess {
			scopes = append(scopes, s)
		}
	}
	if len(spec.Scopes) > 0 && len(scopes) == 0 {
		// Dropping offline_access must not leave a full-access token.
		return fail(problem(ErrInvalid, "offline_access alone grants nothing; name the scopes the token needs"))
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if len(spec.Rooms) > maxTokenRooms {
		return fail(problem(ErrInvalid, "too many rooms (max %d)", maxTokenRooms))
	}
	rooms := slices.Clone(spec.Rooms)
	slices.Sort(rooms)
	rooms = slices.Compact(rooms)
	for _, alias := range rooms {
		id, err := n.RoomByAlias(ctx, alias)
		if err == nil {
			_, err = n.Room(ctx, h, id)
		}
		if err != nil {
			return fail(problem(ErrInvalid, "room_id %d is not one of %s's rooms", alias, h))
		}
	}
	now := n.cfg.Now()
	t := &storage.Token{Handle: h, Name: spec.Name, Created: now.UnixMilli(), Scopes: scopes, Rooms: rooms}
	if spec.TTL > 0 {
		t.Expires = now.Add(spec.TTL).UnixMilli()
	}
	token := newToken()
	hash := storage.HashToken(token)
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		a, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		if a.Disabled {
			return ErrDisabled
		}
		return tx.PutToken(hash, t)
	})
	if err != nil {
		return fail(err)
	}
	info := tokenInfo(hash, t)
	info.Token = token
	return info, nil
}

// grantOf returns the grant of token record t: nil for full access.
func grantOf(t *storage.Token) *Grant {
	if len(t.Scopes) == 0 && len(t.Rooms) == 0 {
		return nil
	}
	g := &Grant{Scopes: t.Scopes, Rooms: t.Rooms}
	if len(g.Scopes) == 0 {
		g.Scopes = []string{ScopeRoomsAll, ScopeUsersAll, ScopeContactsAll}
	}
	return g
}

// APITokens returns account h's API tokens that have not expired (its
// web sessions are not among them), the newest first.
func (n *Node) APITokens(ctx context.Context, h protocol.Handle) ([]*TokenInfo, error) {
	now := n.cfg.Now()
	out := []*TokenInfo{}
	err := n.store.View(func(tx *storage.Tx) error {
		if _, err := tx.Account(h); err != nil {
			return noAccount(h, err)
		}
		ts, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name == SessionTokenName || n.expired(t.Token, now) {
				continue
			}
			out = append(out, tokenInfo(t.Hash, t.Token))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %s: %w", h, err)
	}
	slices.SortStableFunc(out, func(a, b *TokenInfo) int { return cmp.Compare(b.Created, a.Created) })
	return out, nil
}

// RevokeAPIToken deletes account h's API token with ID id (see
// APITokens), so it stops working at once: ErrNotFound if h has no such
// token. Web sessions are ended with EndSession instead.
func (n *Node) RevokeAPIToken(ctx context.Context, h protocol.Handle, id string) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		ts, err := tx.Tokens(h)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Name != SessionTokenName && hmac.Equal([]byte(sessionID(t.Hash)), []byte(id)) {
				return tx.DeleteToken(t.Hash)
			}
		}
		return problem(ErrNotFound, "no such API token")
	})
	return wrapOp(fmt.Sprintf("revoke API token of %s", h), err)
}
