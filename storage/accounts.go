package storage

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/horenso/horenso/protocol"
)

// Account is a local account: a person or bot on this node.
type Account struct {
	Handle       protocol.Handle `cbor:"1,keyasint"`
	Name         string          `cbor:"2,keyasint"`
	Email        string          `cbor:"3,keyasint,omitempty"`
	Org          string          `cbor:"4,keyasint,omitempty"`
	PasswordHash string          `cbor:"5,keyasint,omitempty"` // PHC-format argon2id hash; empty: no password login
	Admin        bool            `cbor:"6,keyasint,omitempty"` // may administer the node
	Disabled     bool            `cbor:"7,keyasint,omitempty"`
	Created      int64           `cbor:"8,keyasint"` // unix ms
	MyChat       protocol.RoomID `cbor:"9,keyasint"` // the account's personal room
	Title        string          `cbor:"10,keyasint,omitempty"`
	Department   string          `cbor:"11,keyasint,omitempty"`
	Introduction string          `cbor:"12,keyasint,omitempty"`
	// Avatar is the SHA-256 of the account's avatar picture in the blob
	// store, AvatarType its media type; nil: none (initials instead).
	Avatar     []byte `cbor:"13,keyasint,omitempty"`
	AvatarType string `cbor:"14,keyasint,omitempty"`
}

// PutAccount stores a, keeping the email index in step with old, the
// state PutAccount last stored (nil for a new account).
func (tx *Tx) PutAccount(old, a *Account) error {
	if old != nil && old.Email != "" && !strings.EqualFold(old.Email, a.Email) {
		if err := tx.delete(key(pEmail, []byte(strings.ToLower(old.Email)))); err != nil {
			return wrap("put account", err)
		}
	}
	if a.Email != "" {
		if err := tx.set(key(pEmail, []byte(strings.ToLower(a.Email))), []byte(a.Handle)); err != nil {
			return wrap("put account", err)
		}
	}
	return wrap("put account", tx.setRecord(key(pAccount, []byte(a.Handle)), a))
}

// Account returns a local account; the error wraps ErrNotFound if there is
// none with handle h.
func (tx *Tx) Account(h protocol.Handle) (*Account, error) {
	a := new(Account)
	if err := tx.getRecord(key(pAccount, []byte(h)), a); err != nil {
		return nil, fmt.Errorf("get account %s: %w", h, err)
	}
	return a, nil
}

// AccountByEmail returns the local account with an email address, compared
// without regard to case.
func (tx *Tx) AccountByEmail(email string) (*Account, error) {
	h, err := tx.get(key(pEmail, []byte(strings.ToLower(email))))
	if err != nil {
		return nil, fmt.Errorf("get account by email: %w", err)
	}
	return tx.Account(protocol.Handle(h))
}

// Accounts returns every local account, by handle.
func (tx *Tx) Accounts() ([]*Account, error) {
	var as []*Account
	err := tx.scan([]byte{pAccount}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		a := new(Account)
		if err := protocol.DecodeRecord(b, a); err != nil {
			return false, err
		}
		as = append(as, a)
		return true, nil
	})
	return as, wrap("list accounts", err)
}

// Token is an API token's record. The token itself is never stored, only
// its SHA-256 hash (tokens are 256-bit random strings, so a fast hash is
// enough: there is nothing to brute-force).
//
// Fields 4 to 9 were added after the first release: a record without
// them decodes with them zero, and a build that predates them ignores
// them. Fields 5 and 6 are recorded for web sessions only, 7 to 9 for
// scoped API tokens only.
type Token struct {
	Handle  protocol.Handle `cbor:"1,keyasint"`
	Name    string          `cbor:"2,keyasint,omitempty"` // what the token is for
	Created int64           `cbor:"3,keyasint"`           // unix ms
	// LastUsed is when the session last authenticated a request, in unix
	// ms, recorded at most once a minute; 0: not recorded yet.
	LastUsed int64 `cbor:"4,keyasint,omitempty"`
	// UserAgent and Addr are the User-Agent header and the client
	// address of the login that started the session.
	UserAgent string `cbor:"5,keyasint,omitempty"`
	Addr      string `cbor:"6,keyasint,omitempty"`
	// Scopes are the ChatWork OAuth scope names the token may use; none:
	// every one (the full access of tokens made before scopes existed).
	Scopes []string `cbor:"7,keyasint,omitempty"`
	// Rooms are the room_id aliases the token's room requests are limited
	// to; none: every room of the account.
	Rooms []uint64 `cbor:"8,keyasint,omitempty"`
	// Expires is when the token stops working, in unix ms; 0: never.
	Expires int64 `cbor:"9,keyasint,omitempty"`
}

// TokenHash is the SHA-256 hash of an API token: its key in the store.
type TokenHash [32]byte

// HashToken returns the hash under which token is stored.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// PutToken stores a token's record under its hash.
func (tx *Tx) PutToken(h TokenHash, t *Token) error {
	if err := tx.setRecord(key(pToken, h[:]), t); err != nil {
		return wrap("put token", err)
	}
	return wrap("put token", tx.set(key(pOwnTok, []byte(t.Handle), []byte{0}, h[:]), nil))
}

// Token returns the record of a token hash; the error wraps ErrNotFound for
// an unknown token.
func (tx *Tx) Token(h TokenHash) (*Token, error) {
	t := new(Token)
	if err := tx.getRecord(key(pToken, h[:]), t); err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return t, nil
}

// DeleteTokens deletes every token of an account and returns how many
// there were.
func (tx *Tx) DeleteTokens(handle protocol.Handle) (int, error) {
	var hs []TokenHash
	err := tx.scan(key(pOwnTok, []byte(handle), []byte{0}), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		hs = append(hs, TokenHash(k))
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete tokens: %w", err)
	}
	for _, h := range hs {
		if err := tx.delete(key(pToken, h[:])); err != nil {
			return 0, fmt.Errorf("delete tokens: %w", err)
		}
		if err := tx.deleteFetchCursors(h); err != nil {
			return 0, fmt.Errorf("delete tokens: %w", err)
		}
		if err := tx.delete(key(pOwnTok, []byte(handle), []byte{0}, h[:])); err != nil {
			return 0, fmt.Errorf("delete tokens: %w", err)
		}
	}
	return len(hs), nil
}
