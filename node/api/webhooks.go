package api

import (
	"net/http"
	"strings"

	"github.com/horenso/horenso/node"
)

// The caller's webhooks (ChatWork's, set up here rather than on a
// separate admin page): list, create, enable or disable, delete, and
// the delivery log of each. See docs/API.md, "Webhooks".

func (s *Server) webhookRoutes() {
	s.handle("GET /api/webhooks", s.webhooks)
	s.handle("POST /api/webhooks", s.createWebhook)
	s.handle("PUT /api/webhooks/{webhook_id}", s.updateWebhook)
	s.handle("DELETE /api/webhooks/{webhook_id}", s.deleteWebhook)
	s.handle("GET /api/webhooks/{webhook_id}/deliveries", s.webhookDeliveries)
}

// webhookJSON is a webhook as /api/webhooks shows it; token only in the
// answer to its creation.
type webhookJSON struct {
	*node.Webhook
	Token string `json:"token,omitempty"`
}

func (s *Server) webhooks(w http.ResponseWriter, r *http.Request, c *caller) error {
	hs, err := s.node.Webhooks(r.Context(), c.handle())
	if err != nil {
		return err
	}
	if hs == nil {
		hs = []*node.Webhook{}
	}
	writeJSON(w, http.StatusOK, hs)
	return nil
}

// createWebhook reads url, events (comma-separated, or a JSON array) and
// room_ids (optional, comma-separated ChatWork room IDs).
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	u, _, err := p.text("url", true, 1, node.MaxWebhookURL)
	if err != nil {
		return err
	}
	ev, _, err := p.text("events", true, 1, 200)
	if err != nil {
		return err
	}
	aliases, err := p.ids("room_ids")
	if err != nil {
		return err
	}
	spec := node.WebhookSpec{URL: u, Events: strings.Split(ev, ",")}
	for _, a := range aliases {
		id, err := s.node.RoomByAlias(r.Context(), a)
		if err != nil {
			return err
		}
		spec.Rooms = append(spec.Rooms, id)
	}
	h, token, err := s.node.CreateWebhook(r.Context(), c.handle(), spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookJSON{Webhook: h, Token: token})
	return nil
}

// updateWebhook reads enabled (0 or 1).
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if _, ok, _ := p.get("enabled"); !ok {
		return invalid("parameter enabled is required")
	}
	on, err := p.boolean("enabled", true)
	if err != nil {
		return err
	}
	h, err := s.node.SetWebhookEnabled(r.Context(), c.handle(), id, on)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	if err := s.node.DeleteWebhook(r.Context(), c.handle(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"webhook_setting_id": id})
	return nil
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	log, err := s.node.WebhookLog(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	if log == nil {
		log = []node.WebhookAttempt{}
	}
	writeJSON(w, http.StatusOK, log)
	return nil
}
