package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Webhooks, as ChatWork has them: a local account (a bot, usually) names
// a URL and the events it wants, and the node POSTs each event there as
// JSON, signed with the webhook's token. Settings are this node's own and
// concern its own accounts only; in a room shared with partner nodes each
// node fires the webhooks of its own accounts, for events from anywhere.
// webhookqueue.go turns the change feed into queued deliveries and sends
// them.

// Webhook event types, ChatWork's names.
const (
	WebhookMessageCreated = "message_created"
	WebhookMessageUpdated = "message_updated"
	WebhookMentionToMe    = "mention_to_me"
)

// WebhookEvents lists the event types a webhook may ask for.
var WebhookEvents = []string{WebhookMessageCreated, WebhookMessageUpdated, WebhookMentionToMe}

// Limits on webhooks.
const (
	MaxWebhooksPerAccount = 5    // as ChatWork
	MaxWebhookURL         = 2048 // bytes
	webhookLogSize        = 50   // delivery attempts kept per webhook
)

// WebhookConfig configures webhook delivery. The zero value is the
// default.
type WebhookConfig struct {
	// AllowPrivate lets webhook URLs reach loopback, private, link-local
	// and unspecified addresses, which are refused by default (at
	// creation, and at each dial, so that a name that later resolves to
	// one is refused too). Default: false.
	AllowPrivate bool
	// Timeout bounds each request, from dialing to reading the answer.
	// Default: 10s.
	Timeout time.Duration
	// RetryMin is the wait before the first retry of a failed delivery;
	// each later retry waits twice as long as the one before (jittered by
	// ±1/8), up to RetryMax. Defaults: 10s and 1h.
	RetryMin, RetryMax time.Duration
	// Deadline is how long after an event the node keeps trying to
	// deliver it. A delivery still failing then is dropped and its
	// webhook disabled. Default: 24h.
	Deadline time.Duration
	// MaxFailures disables a webhook after this many failed attempts in a
	// row (over all its deliveries). Default: 100. Negative: only the
	// Deadline disables.
	MaxFailures int
	// Workers is how many requests are under way at most. Default: 4.
	Workers int
}

// Defaults of WebhookConfig, documented on its fields.
const (
	DefaultWebhookTimeout     = 10 * time.Second
	DefaultWebhookRetryMin    = 10 * time.Second
	DefaultWebhookRetryMax    = time.Hour
	DefaultWebhookDeadline    = 24 * time.Hour
	DefaultWebhookMaxFailures = 100
	DefaultWebhookWorkers     = 4
)

func (c *WebhookConfig) setDefaults() {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.Timeout, DefaultWebhookTimeout}, {&c.RetryMin, DefaultWebhookRetryMin},
		{&c.RetryMax, DefaultWebhookRetryMax}, {&c.Deadline, DefaultWebhookDeadline}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultWebhookMaxFailures
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWebhookWorkers
	}
}

// Webhook is a webhook setting as its account sees it. The token is shown
// once, by CreateWebhook.
type Webhook struct {
	ID             uint64          `json:"webhook_setting_id"`
	Account        protocol.Handle `json:"account"`
	URL            string          `json:"url"`
	Events         []string        `json:"events"`
	Rooms          []uint64        `json:"room_ids,omitempty"` // ChatWork room_ids; empty: every room of the account
	Created        int64           `json:"created"`            // unix ms
	Enabled        bool            `json:"enabled"`
	DisabledReason string          `json:"disabled_reason,omitempty"`
	DisabledAt     int64           `json:"disabled_at,omitempty"`
	Failures       uint32          `json:"failures"` // failed attempts since the last success
	LastSuccess    int64           `json:"last_success,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	Queued         int             `json:"queued"` // deliveries waiting
}

// WebhookSpec describes a webhook to create.
type WebhookSpec struct {
	URL    string
	Events []string          // some of WebhookEvents, at least one
	Rooms  []protocol.RoomID // only these rooms (the account must be in them); empty: all
}

// WebhookAttempt is one entry of a webhook's delivery log.
type WebhookAttempt struct {
	Delivery uint64 `json:"delivery_id"`
	Event    string `json:"event"`
	Attempt  uint32 `json:"attempt"`
	Time     int64  `json:"time"`             // unix ms
	Status   int    `json:"status,omitempty"` // HTTP status; 0: no answer
	Error    string `json:"error,omitempty"`
	Duration int64  `json:"duration_ms"`
	Response string `json:"response,omitempty"` // the start of the answer's body
	Outcome  string `json:"outcome"`            // delivered, retry, expired, dropped
}

// ErrNoWebhook is returned (wrapped in ErrNotFound) for an unknown
// webhook, or one of another account.
var ErrNoWebhook = errors.New("no such webhook")

// ErrWebhookAddress is returned (wrapped in ErrInvalid at creation) for
// a webhook URL that names or resolves to an address the node refuses:
// loopback, private, link-local, multicast or unspecified, unless
// WebhookConfig.AllowPrivate.
var ErrWebhookAddress = errors.New("webhook address not allowed")

// CreateWebhook creates a webhook of as and returns it with its token,
// which is shown only now. It fails with ErrInvalid for a bad URL or
// event list, or a URL the node refuses (see ErrWebhookAddress), ErrForbidden
// for a room as is not in, and ErrConflict once as has
// MaxWebhooksPerAccount webhooks.
func (n *Node) CreateWebhook(ctx context.Context, as protocol.Handle, spec WebhookSpec) (*Webhook, string, error) {
	u, err := n.checkWebhookURL(ctx, spec.URL)
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	events, err := checkWebhookEvents(spec.Events)
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	token := base64.StdEncoding.EncodeToString(key)
	var out *Webhook
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		all, err := tx.Webhooks()
		if err != nil {
			return err
		}
		mine := 0
		for _, w := range all {
			if w.Account == as {
				mine++
			}
		}
		if mine >= MaxWebhooksPerAccount {
			return problem(ErrConflict, "an account has at most %d webhooks", MaxWebhooksPerAccount)
		}
		for _, r := range spec.Rooms {
			if _, ok, err := tx.IsMember(me.ID, r); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%w: %w", ErrForbidden, protocol.ErrNotMember)
			}
		}
		last, err := tx.LastChange()
		if err != nil {
			return err
		}
		if len(all) == 0 {
			// No webhook existed: the cursor need not have followed the
			// feed, and nothing before this one can fire.
			if err := tx.PutWebhookCursor(last); err != nil {
				return err
			}
		}
		id, err := tx.NewWebhookID()
		if err != nil {
			return err
		}
		w := &storage.Webhook{ID: id, Account: as, URL: u.String(), Events: events, Rooms: slices.Clone(spec.Rooms),
			Token: token, Created: n.cfg.Now().UnixMilli(), Since: last}
		if err := tx.PutWebhook(w); err != nil {
			return err
		}
		out, err = webhookView(tx, w, 0)
		return err
	})
	if err != nil {
		return nil, "", wrapOp("create webhook", err)
	}
	n.log.Info("webhook created", "account", as, "webhook", out.ID, "url", redactURL(out.URL))
	return out, token, nil
}

// Webhooks returns the webhooks of as, by ID.
func (n *Node) Webhooks(ctx context.Context, as protocol.Handle) ([]*Webhook, error) {
	var out []*Webhook
	err := n.store.View(func(tx *storage.Tx) error {
		if _, err := n.actor(tx, as); err != nil {
			return err
		}
		all, err := tx.Webhooks()
		if err != nil {
			return err
		}
		queued, err := tx.QueuedDeliveries()
		if err != nil {
			return err
		}
		for _, w := range all {
			if w.Account != as {
				continue
			}
			v, err := webhookView(tx, w, queued[w.ID])
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, wrapOp("list webhooks", err)
}

// ownWebhook returns webhook id of as; ErrNotFound if as has none such.
func (n *Node) ownWebhook(tx *storage.Tx, as protocol.Handle, id uint64) (*storage.Webhook, error) {
	if _, err := n.actor(tx, as); err != nil {
		return nil, err
	}
	w, err := tx.Webhook(id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && w.Account != as {
		return nil, &Problem{Kind: ErrNotFound, Msg: ErrNoWebhook.Error(), Cause: ErrNoWebhook}
	}
	return w, err
}

// DeleteWebhook deletes a webhook of as, with its delivery log; its
// queued deliveries are dropped.
func (n *Node) DeleteWebhook(ctx context.Context, as protocol.Handle, id uint64) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		if _, err := n.ownWebhook(tx, as, id); err != nil {
			return err
		}
		return tx.DeleteWebhook(id)
	})
	return wrapOp("delete webhook", err)
}

// SetWebhookEnabled enables a webhook of as, after the node or its
// account disabled it, and clears its failure count; events that happened
// while it was disabled are not sent. Or it disables it: its queued
// deliveries are dropped.
func (n *Node) SetWebhookEnabled(ctx context.Context, as protocol.Handle, id uint64, enabled bool) (*Webhook, error) {
	var out *Webhook
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		w, err := n.ownWebhook(tx, as, id)
		if err != nil {
			return err
		}
		switch {
		case enabled && w.Disabled:
			if w.Since, err = tx.LastChange(); err != nil {
				return err
			}
			w.Disabled, w.DisabledReason, w.DisabledAt, w.Failures = false, "", 0, 0
		case !enabled && !w.Disabled:
			w.Disabled, w.DisabledReason, w.DisabledAt = true, "disabled by its account", n.cfg.Now().UnixMilli()
		}
		if err := tx.PutWebhook(w); err != nil {
			return err
		}
		out, err = webhookView(tx, w, 0)
		return err
	})
	if err == nil {
		n.hooks.poke() // drop what a disabled one has queued
	}
	return out, wrapOp("set webhook enabled", err)
}

// WebhookLog returns the newest delivery attempts of a webhook of as,
// newest first.
func (n *Node) WebhookLog(ctx context.Context, as protocol.Handle, id uint64) ([]WebhookAttempt, error) {
	var out []WebhookAttempt
	err := n.store.View(func(tx *storage.Tx) error {
		if _, err := n.ownWebhook(tx, as, id); err != nil {
			return err
		}
		log, err := tx.DeliveryLog(id)
		for _, a := range log {
			out = append(out, WebhookAttempt(*a))
		}
		return err
	})
	return out, wrapOp("webhook log", err)
}

func webhookView(tx *storage.Tx, w *storage.Webhook, queued int) (*Webhook, error) {
	v := &Webhook{ID: w.ID, Account: w.Account, URL: w.URL, Events: w.Events, Created: w.Created, Enabled: !w.Disabled,
		DisabledReason: w.DisabledReason, DisabledAt: w.DisabledAt, Failures: w.Failures, LastSuccess: w.LastSuccess,
		LastError: w.LastError, Queued: queued}
	for _, r := range w.Rooms {
		alias, err := tx.LookupAlias(storage.AliasRoom, r[:])
		if err != nil {
			return nil, err
		}
		v.Rooms = append(v.Rooms, alias)
	}
	return v, nil
}

func checkWebhookEvents(events []string) ([]string, error) {
	var out []string
	for _, e := range events {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !slices.Contains(WebhookEvents, e) {
			return nil, problem(ErrInvalid, "unknown webhook event %q (known: %s)", e, strings.Join(WebhookEvents, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, problem(ErrInvalid, "a webhook needs at least one event (%s)", strings.Join(WebhookEvents, ", "))
	}
	return out, nil
}

// checkWebhookURL parses an http or https URL and refuses one whose host
// names or resolves to an address the node does not send to.
func (n *Node) checkWebhookURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > MaxWebhookURL {
		return nil, problem(ErrInvalid, "webhook URL longer than %d bytes", MaxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Hostname() == "" {
		return nil, problem(ErrInvalid, "webhook URL must be an absolute http or https URL")
	}
	if u.User != nil {
		return nil, problem(ErrInvalid, "webhook URL must not hold a user name or password")
	}
	u.Fragment, u.RawFragment = "", ""
	if n.cfg.Webhooks.AllowPrivate {
		return u, nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return nil, &Problem{Kind: ErrInvalid, Msg: fmt.Sprintf("webhook host %q does not resolve", host), Cause: err}
		}
	}
	for _, a := range addrs {
		if err := publicAddr(a); err != nil {
			return nil, &Problem{Kind: ErrInvalid, Msg: fmt.Sprintf("webhook URL refused: %v (the node's admin may allow it)", err), Cause: err}
		}
	}
	return u, nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598),
// private in all but name.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr returns an error wrapping ErrWebhookAddress for an address
// a webhook must not reach unless the admin allows it.
func publicAddr(a netip.Addr) error {
	a = a.Unmap()
	var what string
	switch {
	case a.IsLoopback():
		what = "loopback"
	case a.IsPrivate() || cgnat.Contains(a):
		what = "private"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		what = "link-local"
	case a.IsUnspecified() || a.Is4() && a.As4()[0] == 0:
		what = "unspecified"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		what = "multicast"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s is a %s address", ErrWebhookAddress, a, what)
}

// dialControl is the webhook dialer's Control hook: it runs after name
// resolution, on the address about to be connected, so a name that
// resolved to a public address at creation and to a private one now
// (DNS rebinding) is refused as well.
func dialControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrWebhookAddress, address)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrWebhookAddress, address)
	}
	return publicAddr(a)
}

// redactURL is a webhook URL for the logs: without its query, which may
// hold a secret.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "?"
	}
	u.RawQuery = ""
	return u.String()
}
