package storage

import (
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// DeleteToken deletes one token by its hash, with its entry in the
// owner's token list. The error wraps ErrNotFound for an unknown token.
func (tx *Tx) DeleteToken(h TokenHash) error {
	t, err := tx.Token(h)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if err := tx.delete(key(pToken, h[:])); err != nil {
		return wrap("delete token", err)
	}
	if err := tx.deleteFetchCursors(h); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return wrap("delete token", tx.delete(key(pOwnTok, []byte(t.Handle), []byte{0}, h[:])))
}

// OwnToken is one of an account's tokens: its hash and its record.
type OwnToken struct {
	Hash TokenHash
	*Token
}

// Tokens returns every token of an account (bots' and sessions'), in the
// order of their hashes.
func (tx *Tx) Tokens(handle protocol.Handle) ([]OwnToken, error) {
	var hs []TokenHash
	err := tx.scan(key(pOwnTok, []byte(handle), []byte{0}), nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		hs = append(hs, TokenHash(k))
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens of %s: %w", handle, err)
	}
	out := make([]OwnToken, 0, len(hs))
	for _, h := range hs {
		t, err := tx.Token(h)
		if err != nil {
			return nil, fmt.Errorf("list tokens of %s: %w", handle, err)
		}
		out = append(out, OwnToken{Hash: h, Token: t})
	}
	return out, nil
}
