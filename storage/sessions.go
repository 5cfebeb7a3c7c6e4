package storage

import "fmt"

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
	return wrap("delete token", tx.delete(key(pOwnTok, []byte(t.Handle), []byte{0}, h[:])))
}
