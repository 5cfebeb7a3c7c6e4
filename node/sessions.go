package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/horenso/horenso/storage"
)

// SessionTokenName is the name of the API tokens that back web sessions.
const SessionTokenName = "web session"

// StartSession checks a login (handle or email) and password as Login does
// and returns the account with a new session token: an API token named
// SessionTokenName, stored only as its hash like any other, which works
// until RevokeToken ends it or the account is disabled.
func (n *Node) StartSession(ctx context.Context, login, password string) (*Account, string, error) {
	a, err := n.Login(ctx, login, password)
	if err != nil {
		return nil, "", err
	}
	token, err := n.CreateToken(ctx, a.Handle, SessionTokenName)
	if err != nil {
		return nil, "", fmt.Errorf("start session: %w", err)
	}
	return a, token, nil
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
