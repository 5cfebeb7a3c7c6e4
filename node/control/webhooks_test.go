package control

import (
	"errors"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestWebhookOps: an admin sets up, lists, disables and removes a bot's
// webhook over the socket; the token is shown once.
func TestWebhookOps(t *testing.T) {
	dir, _, _ := serve(t)
	ctx := t.Context()
	c := dial(t, dir)
	must[*node.Account](t)(c.AddUser(ctx, node.NewAccount{Handle: "bot"}))

	if _, err := c.AddWebhook(ctx, "bot", "http://127.0.0.1:8080/", []string{"message_created"}, nil); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("webhook to loopback: %v, want ErrInvalid", err)
	}
	if _, err := c.AddWebhook(ctx, "nobody", "https://203.0.113.5/hook", []string{"message_created"}, nil); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("webhook of an unknown account: %v, want ErrNotFound", err)
	}
	w := must[*NewWebhook](t)(c.AddWebhook(ctx, "bot", "https://203.0.113.5/hook", []string{"message_created", "mention_to_me"}, nil))
	if w.Token == "" || w.ID == 0 || len(w.Events) != 2 || !w.Enabled {
		t.Fatalf("added %+v", w)
	}
	hs := must[[]*node.Webhook](t)(c.Webhooks(ctx, "bot"))
	if len(hs) != 1 || hs[0].URL != "https://203.0.113.5/hook" {
		t.Fatalf("listed %+v", hs)
	}
	h := must[*node.Webhook](t)(c.SetWebhookEnabled(ctx, "bot", w.ID, false))
	if h.Enabled || h.DisabledReason == "" {
		t.Errorf("disabled %+v", h)
	}
	if log := must[[]node.WebhookAttempt](t)(c.WebhookLog(ctx, "bot", w.ID)); len(log) != 0 {
		t.Errorf("log of an unused webhook: %+v", log)
	}
	if err := c.RemoveWebhook(ctx, "bot", w.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWebhook(ctx, "bot", w.ID); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("removed twice: %v, want ErrNotFound", err)
	}
}
