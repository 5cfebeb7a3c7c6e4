package node

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Webhook delivery: how an event reaches a receiver exactly once in the
// store and at least once on the wire, across crashes.
//
// The dispatcher follows the node's durable change feed (feed.go) with a
// cursor kept in the store. For a batch of changes it builds the request
// bodies of every webhook they fire and, in the same transaction, queues
// them and moves the cursor past the batch. A crash before that commit
// leaves neither, and the batch is read again; after it, both. So every
// event is queued exactly once for each webhook it fires, whether the
// event was this node's or came from a partner, and no event is lost
// while the node is down: the feed keeps it until the cursor passes.
//
// A queued delivery is keyed by when it is next due. The sender claims
// due deliveries in one transaction that counts the attempt and moves
// them a lease ahead (the request timeout and 5s), then sends
// them, then records the outcome: delivered (taken off the queue), or
// failed (due again after an exponential backoff, or dropped past the
// deadline). A crash after a receiver answered but before the outcome
// was stored sends the delivery again when its lease ends: the same
// body, signature and X-Horenso-Webhook-Delivery ID, so a receiver that
// remembers delivery IDs drops the repeat; nothing is repeated silently.
// No delivery is lost: until an outcome is stored, it stays queued.

// The request's fixed headers.
const (
	webhookUserAgent       = "ChatWork-Webhook/1.0.0"
	webhookSignatureHeader = "X-ChatWorkWebhookSignature"
	webhookDeliveryHeader  = "X-Horenso-Webhook-Delivery"
	webhookAttemptHeader   = "X-Horenso-Webhook-Attempt"
	webhookSignatureParam  = "chatwork_webhook_signature"
	maxWebhookResponse     = 4 << 10 // bytes of an answer read
	maxWebhookLogResponse  = 256     // bytes of it kept in the log
	webhookBatch           = 256     // changes per dispatch transaction
)

// hooks is the node's webhook state in memory.
type hooks struct {
	// wake tells the sender that deliveries may be due; it never blocks
	// (a buffer of one: a wake already pending covers the new one).
	wake   chan struct{}
	client *http.Client
}

func (h *hooks) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// runWebhooks dispatches change-feed events to webhook deliveries and
// sends them, until ctx ends; it returns once both have stopped.
func (n *Node) runWebhooks(ctx context.Context) error {
	defer n.hooks.client.CloseIdleConnections()
	var wg sync.WaitGroup
	wg.Go(func() { n.runWebhookDispatch(ctx) })
	wg.Go(func() { n.runWebhookSender(ctx) })
	wg.Wait()
	return nil
}

// newWebhookClient is the HTTP client of webhook requests: no proxy
// (the dial check must see the receiver's address), no redirects (a
// 3xx answer is a failure, and may not lead elsewhere), a timeout per
// request, and, unless the admin allows private addresses, a dial-time
// address check.
func newWebhookClient(cfg WebhookConfig) *http.Client {
	d := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second,
		ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// runWebhookDispatch turns the change feed into queued deliveries, from
// the stored cursor on.
func (n *Node) runWebhookDispatch(ctx context.Context) {
	var cursor uint64
	err := n.store.View(func(tx *storage.Tx) error {
		c, ok, err := tx.WebhookCursor()
		if err == nil && !ok {
			// No webhook was ever made: nothing before now can fire.
			c, err = tx.LastChange()
		}
		cursor = c
		return err
	})
	if err != nil {
		n.log.Error("webhooks: read cursor", "err", err)
		return
	}
	var backoff time.Duration
	for {
		if err := n.WaitChange(ctx, cursor); err != nil {
			return
		}
		next, queued, err := n.dispatchWebhooks(ctx, cursor)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			n.log.Error("webhooks: dispatch", "after", cursor, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		cursor = next
		if queued > 0 {
			n.hooks.poke()
		}
	}
}

// dispatchWebhooks queues the deliveries of up to webhookBatch changes
// after cursor and moves the stored cursor past them, in one transaction.
// It returns the new cursor and how many deliveries it queued. Before
// the first webhook is made it only moves the cursor in memory: nothing
// can fire, and CreateWebhook sets the stored cursor when it makes it.
func (n *Node) dispatchWebhooks(ctx context.Context, cursor uint64) (uint64, int, error) {
	// A look first, without taking a turn of the store's writer: most
	// changes (read markers, tasks, members) and most nodes (without
	// webhooks) queue nothing, and then the stored cursor need not move:
	// reading those changes again after a restart queues nothing either.
	next, write := cursor, false
	err := n.store.View(func(tx *storage.Tx) error {
		stored, _, err := tx.WebhookCursor()
		if err != nil {
			return err
		}
		from := max(cursor, stored)
		next = from
		all, err := tx.Webhooks()
		if err != nil {
			return err
		}
		enabled := slices.ContainsFunc(all, func(w *storage.Webhook) bool { return !w.Disabled })
		if !enabled {
			// Nothing can fire: skip to the feed's end without reading
			// the changes (on a posting node without webhooks that read
			// was 2% of the CPU per post).
			last, err := tx.LastChange()
			next = max(from, last)
			return err
		}
		return tx.Changes(from, func(seq uint64, c *storage.Change) bool {
			next = seq
			if k := ChangeKind(c.Kind); k == ChangeMessage || k == ChangeMessageUpdated {
				write = true
			}
			return seq-from < webhookBatch
		})
	})
	if err != nil || !write {
		return next, 0, err
	}
	queued := 0
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		next, queued = cursor, 0
		stored, ok, err := tx.WebhookCursor()
		if err != nil {
			return err
		}
		if ok && stored > cursor {
			cursor = stored // a webhook's creation set it
		}
		all, err := tx.Webhooks()
		if err != nil {
			return err
		}
		// A disabled account's webhooks fire nothing, like its tokens.
		var accountErr error
		active := map[protocol.Handle]bool{}
		hooks := slices.DeleteFunc(slices.Clone(all), func(w *storage.Webhook) bool {
			on, ok := active[w.Account]
			if !ok {
				a, err := tx.Account(w.Account)
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					accountErr = err
				}
				on = err == nil && !a.Disabled
				active[w.Account] = on
			}
			return w.Disabled || !on
		})
		if accountErr != nil {
			return accountErr
		}
		var changes []storage.Change
		var seqs []uint64
		err = tx.Changes(cursor, func(seq uint64, c *storage.Change) bool {
			seqs, changes = append(seqs, seq), append(changes, *c)
			return len(changes) < webhookBatch
		})
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			next = cursor
			return nil
		}
		next = seqs[len(seqs)-1]
		if len(all) == 0 && !ok {
			return nil
		}
		now := n.cfg.Now()
		for i, c := range changes {
			k, err := n.queueWebhooks(tx, hooks, seqs[i], &c, now)
			if err != nil {
				return err
			}
			queued += k
		}
		return tx.PutWebhookCursor(next)
	})
	return next, queued, err
}

// queueWebhooks queues the deliveries change c (number seq) fires.
func (n *Node) queueWebhooks(tx *storage.Tx, hooks []*storage.Webhook, seq uint64, c *storage.Change, now time.Time) (int, error) {
	kind := ChangeKind(c.Kind)
	if kind != ChangeMessage && kind != ChangeMessageUpdated {
		return 0, nil
	}
	room, m, err := tx.ChangedMessage(c)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if m.Deleted || m.Body == "" {
		return 0, nil // deleted, or its text dropped, since
	}
	var ev *messageEvent // built once, for the first webhook it fires
	queued := 0
	for _, w := range hooks {
		if w.Since >= seq || len(w.Rooms) > 0 && !slices.Contains(w.Rooms, room) {
			continue
		}
		me := protocol.NewAccountID(n.id, w.Account)
		if _, ok, err := tx.IsMember(me, room); err != nil || !ok {
			if err != nil {
				return queued, err
			}
			continue
		}
		var types []string
		if kind == ChangeMessage && slices.Contains(w.Events, WebhookMessageCreated) {
			types = append(types, WebhookMessageCreated)
		}
		if kind == ChangeMessageUpdated && slices.Contains(w.Events, WebhookMessageUpdated) {
			types = append(types, WebhookMessageUpdated)
		}
		if kind == ChangeMessage && slices.Contains(w.Events, WebhookMentionToMe) && m.Author != me && mentions(m.Body, me) {
			types = append(types, WebhookMentionToMe)
		}
		for _, t := range types {
			if ev == nil {
				if ev, err = newMessageEvent(tx, room, m); err != nil {
					return queued, err
				}
			}
			body, err := ev.payload(tx, w, t, me, now)
			if err != nil {
				return queued, err
			}
			d := &storage.Delivery{Webhook: w.ID, Event: t, Body: body, Created: now.UnixMilli(), Due: now.UnixMilli()}
			if err := tx.EnqueueDelivery(d); err != nil {
				return queued, err
			}
			queued++
		}
	}
	return queued, nil
}

// messageEvent is what a webhook payload tells of a message, in the
// node's ChatWork IDs.
type messageEvent struct {
	MessageID  string `json:"message_id"`
	Room       uint64 `json:"room_id"`
	Account    uint64 `json:"account_id"`
	Body       string `json:"body"`
	SendTime   int64  `json:"send_time"`
	UpdateTime int64  `json:"update_time"`
}

func newMessageEvent(tx *storage.Tx, room protocol.RoomID, m *storage.Message) (*messageEvent, error) {
	ra, err := tx.Alias(storage.AliasRoom, room[:])
	if err != nil {
		return nil, err
	}
	aa, err := tx.Alias(storage.AliasAccount, []byte(m.Author))
	if err != nil {
		return nil, err
	}
	body, err := chatworkNotation(tx, m.Body)
	if err != nil {
		return nil, err
	}
	return &messageEvent{MessageID: strconv.FormatUint(m.Alias, 10), Room: ra, Account: aa, Body: body,
		SendTime: m.Time / 1000, UpdateTime: m.EditedAt / 1000}, nil
}

// mentionEvent is ChatWork's mention_to_me event object.
type mentionEvent struct {
	From       uint64 `json:"from_account_id"`
	To         uint64 `json:"to_account_id"`
	Room       uint64 `json:"room_id"`
	MessageID  string `json:"message_id"`
	Body       string `json:"body"`
	SendTime   int64  `json:"send_time"`
	UpdateTime int64  `json:"update_time"`
}

// webhookPayload is ChatWork's request body.
type webhookPayload struct {
	Setting   string `json:"webhook_setting_id"`
	EventType string `json:"webhook_event_type"`
	EventTime int64  `json:"webhook_event_time"`
	Event     any    `json:"webhook_event"`
}

func (ev *messageEvent) payload(tx *storage.Tx, w *storage.Webhook, eventType string, me protocol.AccountID, now time.Time) ([]byte, error) {
	var event any = ev
	if eventType == WebhookMentionToMe {
		to, err := tx.Alias(storage.AliasAccount, []byte(me))
		if err != nil {
			return nil, err
		}
		event = &mentionEvent{From: ev.Account, To: to, Room: ev.Room, MessageID: ev.MessageID, Body: ev.Body,
			SendTime: ev.SendTime, UpdateTime: ev.UpdateTime}
	}
	return json.Marshal(webhookPayload{Setting: strconv.FormatUint(w.ID, 10), EventType: eventType,
		EventTime: now.Unix(), Event: event})
}

// chatworkNotation rewrites the global IDs of a stored body to the node's
// numeric IDs, as the ChatWork API shows the body; references it has no
// alias for stay as they are.
func chatworkNotation(tx *storage.Tx, body string) (string, error) {
	if !strings.Contains(body, "[") {
		return body, nil
	}
	var ferr error
	lookup := func(kind storage.AliasKind, global []byte) (string, bool) {
		n, err := tx.LookupAlias(kind, global)
		if err != nil {
			if !errors.Is(err, storage.ErrNotFound) && ferr == nil {
				ferr = err
			}
			return "", false
		}
		return strconv.FormatUint(n, 10), true
	}
	account := func(a string) string {
		if strings.Contains(a, "@") {
			if s, ok := lookup(storage.AliasAccount, []byte(a)); ok {
				return s
			}
		}
		return a
	}
	out := protocol.RewriteRefs(body, account, func(room, msg string) (string, string) {
		rid, err1 := protocol.ParseRoomID(room)
		eid, err2 := protocol.ParseEventID(msg)
		if err1 != nil || err2 != nil {
			return room, msg
		}
		r, ok1 := lookup(storage.AliasRoom, rid[:])
		e, ok2 := lookup(storage.AliasMessage, eid[:])
		if !ok1 || !ok2 {
			return room, msg
		}
		return r, e
	})
	return out, ferr
}

// runWebhookSender sends due deliveries, at most Workers at a time,
// until ctx ends, and returns once the requests under way have ended.
func (n *Node) runWebhookSender(ctx context.Context) {
	cfg := n.cfg.Webhooks
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := 0 // requests under way; guarded by being touched only here and through done
	done := make(chan struct{}, cfg.Workers)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		for drained := false; !drained; {
			select {
			case <-done:
				busy--
			default:
				drained = true
			}
		}
		var next int64
		if free := cfg.Workers - busy; free > 0 {
			ds, due, err := n.claimDeliveries(ctx, free)
			if err != nil && ctx.Err() == nil {
				n.log.Error("webhooks: claim deliveries", "err", err)
				due = n.cfg.Now().Add(time.Second).UnixMilli()
			}
			next = due
			for _, c := range ds {
				busy++
				wg.Go(func() {
					defer func() { done <- struct{}{} }()
					n.deliver(ctx, c)
				})
			}
		}
		wait := time.Hour
		if next > 0 {
			wait = min(max(time.UnixMilli(next).Sub(n.cfg.Now()), 0), time.Hour)
		}
		if busy >= cfg.Workers {
			wait = time.Hour // a finished request wakes the loop
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-n.hooks.wake:
		case <-done:
			busy--
		case <-timer.C:
		}
	}
}

// claimed is a delivery the sender took up, with what it needs to send it.
type claimed struct {
	d   *storage.Delivery
	url string
	key []byte
}

// claimDeliveries takes up to limit due deliveries: each one's attempt is
// counted and it is moved a lease ahead, so that a crash sends it again
// then. Deliveries of a deleted webhook are dropped, and those of a
// disabled one dropped with a log entry. It returns the claimed ones and
// when the next queued delivery is due (0: none).
func (n *Node) claimDeliveries(ctx context.Context, limit int) ([]claimed, int64, error) {
	var out []claimed
	var next int64
	now := n.cfg.Now()
	lease := now.Add(n.cfg.Webhooks.Timeout + 5*time.Second).UnixMilli()
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		out, next = nil, 0
		ds, after, err := tx.DueDeliveries(now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		next = after
		for _, d := range ds {
			w, err := tx.Webhook(d.Webhook)
			if errors.Is(err, storage.ErrNotFound) {
				if err := tx.DeleteDelivery(d); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if w.Disabled {
				if err := tx.DeleteDelivery(d); err != nil {
					return err
				}
				a := &storage.DeliveryAttempt{Delivery: d.ID, Event: d.Event, Attempt: d.Attempts, Time: now.UnixMilli(),
					Outcome: "dropped", Error: "webhook disabled: " + w.DisabledReason}
				if err := tx.AppendDeliveryAttempt(w.ID, a, webhookLogSize); err != nil {
					return err
				}
				continue
			}
			key, err := base64.StdEncoding.DecodeString(w.Token)
			if err != nil {
				return fmt.Errorf("webhook %d: token: %w", w.ID, err)
			}
			d.Attempts++
			if err := tx.RescheduleDelivery(d, lease); err != nil {
				return err
			}
			out = append(out, claimed{d: d, url: w.URL, key: key})
		}
		if len(out) > 0 && (next == 0 || lease < next) {
			next = lease
		}
		return nil
	})
	return out, next, err
}

// sign returns ChatWork's webhook signature of body: base64 of its
// HMAC-SHA256 with key, the bytes the webhook's token is the base64 of.
func sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// deliver sends one claimed delivery and stores the outcome.
func (n *Node) deliver(ctx context.Context, c claimed) {
	sig := sign(c.key, c.d.Body)
	start := n.cfg.Now()
	status, snippet, err := n.post(ctx, c, sig)
	if ctx.Err() != nil {
		// Shutting down: the request was cut short. Put the delivery
		// back to be due now, so that it goes first after a restart;
		// Run has not returned, so the store is open. A crash instead
		// leaves it leased, and it is sent when the lease ends.
		err := n.store.Update(context.WithoutCancel(ctx), func(tx *storage.Tx) error {
			return tx.RescheduleDelivery(c.d, start.UnixMilli())
		})
		if err != nil {
			n.log.Warn("webhooks: release delivery", "delivery", c.d.ID, "err", err)
		}
		return
	}
	a := &storage.DeliveryAttempt{Delivery: c.d.ID, Event: c.d.Event, Attempt: c.d.Attempts, Time: start.UnixMilli(),
		Status: status, Duration: n.cfg.Now().Sub(start).Milliseconds(), Response: snippet}
	if err == nil && (status < 200 || status > 299) {
		err = fmt.Errorf("answered %d %s", status, http.StatusText(status))
	}
	if err != nil {
		a.Error = err.Error()
	}
	n.ObserveWebhook(map[bool]string{true: "delivered", false: "failed"}[err == nil], n.cfg.Now().Sub(start))
	if serr := n.store.Update(ctx, func(tx *storage.Tx) error { return n.settle(tx, c.d, a, err) }); serr != nil && ctx.Err() == nil {
		n.log.Error("webhooks: store outcome", "delivery", c.d.ID, "err", serr)
	}
	n.hooks.poke()
}

// post makes the request of delivery c and returns the answer's status
// and the start of its body.
func (n *Node) post(ctx context.Context, c claimed, sig string) (int, string, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return 0, "", err
	}
	// Appended, not re-encoded: the receiver's own query stays as written.
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += webhookSignatureParam + "=" + url.QueryEscape(sig)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(c.d.Body))
	if err != nil {
		return 0, "", err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", webhookUserAgent)
	h.Set(webhookSignatureHeader, sig)
	h.Set(webhookDeliveryHeader, strconv.FormatUint(c.d.ID, 10))
	h.Set(webhookAttemptHeader, strconv.FormatUint(uint64(c.d.Attempts), 10))
	resp, err := n.hooks.client.Do(req)
	if err != nil {
		return 0, "", redactErr(err, c.url)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	return resp.StatusCode, snip(b), nil
}

// redactErr replaces the URL in a client error with one without its query
// (and the signature the node added to it).
func redactErr(err error, raw string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(raw), ue.Err)
	}
	return err
}

// snip is the start of an answer's body for the log, as valid UTF-8.
func snip(b []byte) string {
	if len(b) > maxWebhookLogResponse {
		b = b[:maxWebhookLogResponse]
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

// settle stores the outcome of attempt a of delivery d, which failed with
// err (nil: delivered), and updates its webhook's health: a success
// clears the failure count; a failure past the deadline, or the
// MaxFailures-th in a row, disables the webhook.
func (n *Node) settle(tx *storage.Tx, d *storage.Delivery, a *storage.DeliveryAttempt, failure error) error {
	cfg := n.cfg.Webhooks
	w, err := tx.Webhook(d.Webhook)
	if errors.Is(err, storage.ErrNotFound) {
		return tx.DeleteDelivery(d) // deleted meanwhile
	}
	if err != nil {
		return err
	}
	now := n.cfg.Now()
	if failure == nil {
		a.Outcome = "delivered"
		w.Failures, w.LastSuccess = 0, now.UnixMilli()
		if err := tx.DeleteDelivery(d); err != nil {
			return err
		}
	} else {
		w.Failures++
		w.LastError = a.Error
		expired := now.Sub(time.UnixMilli(d.Created)) >= cfg.Deadline
		retry := backoff(cfg, d.Attempts)
		if !expired && now.Add(retry).Sub(time.UnixMilli(d.Created)) >= cfg.Deadline {
			retry = time.UnixMilli(d.Created).Add(cfg.Deadline).Sub(now) // one last try at the deadline
		}
		switch {
		case expired:
			a.Outcome = "expired"
			if err := tx.DeleteDelivery(d); err != nil {
				return err
			}
			if !w.Disabled {
				n.disableWebhook(w, now, fmt.Sprintf("a delivery failed for %s (%d attempts); last error: %s",
					cfg.Deadline, d.Attempts, a.Error))
			}
		default:
			a.Outcome = "retry"
			if err := tx.RescheduleDelivery(d, now.Add(retry).UnixMilli()); err != nil {
				return err
			}
		}
		if !w.Disabled && cfg.MaxFailures > 0 && int(w.Failures) >= cfg.MaxFailures {
			n.disableWebhook(w, now, fmt.Sprintf("%d attempts in a row failed; last error: %s", w.Failures, a.Error))
		}
	}
	if err := tx.AppendDeliveryAttempt(w.ID, a, webhookLogSize); err != nil {
		return err
	}
	return tx.PutWebhook(w)
}

func (n *Node) disableWebhook(w *storage.Webhook, now time.Time, reason string) {
	w.Disabled, w.DisabledAt, w.DisabledReason = true, now.UnixMilli(), reason
	n.log.Warn("webhook disabled", "webhook", w.ID, "account", w.Account, "reason", reason)
}

// backoff is the wait before the retry after attempt number attempts:
// RetryMin doubled for each attempt after the first, up to RetryMax,
// jittered by ±1/8.
func backoff(cfg WebhookConfig, attempts uint32) time.Duration {
	d := cfg.RetryMin
	for i := uint32(1); i < attempts && d < cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, cfg.RetryMax)
	return d + time.Duration(rand.Int64N(int64(d)/4+1)) - d/8
}
