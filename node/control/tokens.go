package control

import (
	"context"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The ops of API tokens beyond token.create, kept here with their client
// methods.
const (
	opTokenList   = "token.list"
	opTokenRevoke = "token.revoke"
)

type tokenRevokeArgs struct {
	Handle protocol.Handle `json:"handle"`
	ID     string          `json:"id"`
}

func init() {
	ops[opTokenList] = op(func(ctx context.Context, n *node.Node, a userArgs) ([]*node.TokenInfo, error) {
		return n.APITokens(ctx, a.Handle)
	})
	ops[opTokenRevoke] = op(func(ctx context.Context, n *node.Node, a tokenRevokeArgs) (none, error) {
		return none{}, n.RevokeAPIToken(ctx, a.Handle, a.ID)
	})
}

// CreateScopedToken creates an API token for account h as spec says
// (node.Node.CreateScopedToken: scopes, rooms as room_ids, lifetime) and
// returns it with its description; the token is not shown again.
func (c *Client) CreateScopedToken(ctx context.Context, h protocol.Handle, spec node.TokenSpec) (*node.TokenInfo, error) {
	return call[*node.TokenInfo](ctx, c, opTokenCreate, tokenArgs{Handle: h, Name: spec.Name, Scopes: spec.Scopes,
		Rooms: spec.Rooms, TTL: spec.TTL})
}

// Tokens lists account h's API tokens that have not expired (not its web
// sessions), newest first, without the tokens themselves.
func (c *Client) Tokens(ctx context.Context, h protocol.Handle) ([]*node.TokenInfo, error) {
	return call[[]*node.TokenInfo](ctx, c, opTokenList, userArgs{Handle: h})
}

// RevokeToken revokes account h's API token with ID id (from Tokens): it
// stops working at once. An unknown ID gives node.ErrNotFound.
func (c *Client) RevokeToken(ctx context.Context, h protocol.Handle, id string) error {
	_, err := call[none](ctx, c, opTokenRevoke, tokenRevokeArgs{Handle: h, ID: id})
	return err
}
