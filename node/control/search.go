package control

import (
	"context"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The search ops: rebuild the index, and search as an account.
const (
	opSearchReindex = "search.reindex"
	opSearchQuery   = "search.query"
)

type searchArgs struct {
	As     protocol.Handle `json:"as"`
	Q      string          `json:"q"`
	Offset int             `json:"offset,omitempty"`
	Limit  int             `json:"limit,omitempty"`
}

func reindex(ctx context.Context, n *node.Node, _ none) (node.SearchStatus, error) {
	if err := n.Reindex(ctx); err != nil {
		return node.SearchStatus{}, err
	}
	return n.SearchStatus(), nil
}

func searchQuery(ctx context.Context, n *node.Node, a searchArgs) (*node.SearchResult, error) {
	return n.Search(ctx, a.As, node.SearchQuery{Q: a.Q, Offset: a.Offset, Limit: a.Limit})
}

// Reindex rebuilds the node's search index from its store
// (node.Node.Reindex) and returns the new index's state. It takes as long
// as the store is large: searches use the old index until it returns.
func (c *Client) Reindex(ctx context.Context) (node.SearchStatus, error) {
	return call[node.SearchStatus](ctx, c, opSearchReindex, nil)
}

// Search searches as local account as (node.Node.Search), newest first.
func (c *Client) Search(ctx context.Context, as protocol.Handle, q string, offset, limit int) (*node.SearchResult, error) {
	return call[*node.SearchResult](ctx, c, opSearchQuery, searchArgs{As: as, Q: q, Offset: offset, Limit: limit})
}
