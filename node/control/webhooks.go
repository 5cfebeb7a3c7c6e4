package control

import (
	"context"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The webhook ops: an admin sets up a webhook for an account (a bot,
// usually) as that account would in the web app.

const (
	opWebhookAdd    = "webhook.add"
	opWebhookList   = "webhook.list"
	opWebhookRemove = "webhook.remove"
	opWebhookEnable = "webhook.enable"
	opWebhookLog    = "webhook.log"
)

type (
	webhookAddArgs struct {
		As     protocol.Handle `json:"as"`
		URL    string          `json:"url"`
		Events []string        `json:"events"`
		Rooms  []uint64        `json:"room_ids,omitempty"`
	}
	webhookArgs struct {
		As      protocol.Handle `json:"as"`
		ID      uint64          `json:"webhook_setting_id,omitempty"`
		Enabled bool            `json:"enabled,omitempty"`
	}
)

// NewWebhook is a webhook just created, with its token, which is shown
// only then.
type NewWebhook struct {
	*node.Webhook
	Token string `json:"token"`
}

func init() {
	ops[opWebhookAdd] = op(func(ctx context.Context, n *node.Node, a webhookAddArgs) (*NewWebhook, error) {
		spec := node.WebhookSpec{URL: a.URL, Events: a.Events}
		for _, alias := range a.Rooms {
			id, err := n.RoomByAlias(ctx, alias)
			if err != nil {
				return nil, err
			}
			spec.Rooms = append(spec.Rooms, id)
		}
		w, token, err := n.CreateWebhook(ctx, a.As, spec)
		if err != nil {
			return nil, err
		}
		return &NewWebhook{Webhook: w, Token: token}, nil
	})
	ops[opWebhookList] = op(func(ctx context.Context, n *node.Node, a webhookArgs) ([]*node.Webhook, error) {
		return n.Webhooks(ctx, a.As)
	})
	ops[opWebhookRemove] = op(func(ctx context.Context, n *node.Node, a webhookArgs) (none, error) {
		return none{}, n.DeleteWebhook(ctx, a.As, a.ID)
	})
	ops[opWebhookEnable] = op(func(ctx context.Context, n *node.Node, a webhookArgs) (*node.Webhook, error) {
		return n.SetWebhookEnabled(ctx, a.As, a.ID, a.Enabled)
	})
	ops[opWebhookLog] = op(func(ctx context.Context, n *node.Node, a webhookArgs) ([]node.WebhookAttempt, error) {
		return n.WebhookLog(ctx, a.As, a.ID)
	})
}

// AddWebhook creates a webhook of account as (node.Node.CreateWebhook);
// rooms are ChatWork room IDs, none for every room of the account. The
// result holds the token, which is not shown again.
func (c *Client) AddWebhook(ctx context.Context, as protocol.Handle, url string, events []string, rooms []uint64) (*NewWebhook, error) {
	return call[*NewWebhook](ctx, c, opWebhookAdd, webhookAddArgs{As: as, URL: url, Events: events, Rooms: rooms})
}

// Webhooks lists the webhooks of account as, without their tokens.
func (c *Client) Webhooks(ctx context.Context, as protocol.Handle) ([]*node.Webhook, error) {
	return call[[]*node.Webhook](ctx, c, opWebhookList, webhookArgs{As: as})
}

// RemoveWebhook deletes a webhook of account as.
func (c *Client) RemoveWebhook(ctx context.Context, as protocol.Handle, id uint64) error {
	_, err := call[none](ctx, c, opWebhookRemove, webhookArgs{As: as, ID: id})
	return err
}

// SetWebhookEnabled enables a webhook of account as again, or disables
// it (node.Node.SetWebhookEnabled).
func (c *Client) SetWebhookEnabled(ctx context.Context, as protocol.Handle, id uint64, enabled bool) (*node.Webhook, error) {
	return call[*node.Webhook](ctx, c, opWebhookEnable, webhookArgs{As: as, ID: id, Enabled: enabled})
}

// WebhookLog returns the newest delivery attempts of a webhook of as.
func (c *Client) WebhookLog(ctx context.Context, as protocol.Handle, id uint64) ([]node.WebhookAttempt, error) {
	return call[[]node.WebhookAttempt](ctx, c, opWebhookLog, webhookArgs{As: as, ID: id})
}
