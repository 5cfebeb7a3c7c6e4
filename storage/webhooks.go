package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Webhooks are this node's own, like invitation links: settings of its
// local accounts, never federated. The delivery queue (pDelivery) is
// ordered by when each delivery is next due, so the node finds the due
// ones with one scan that stops at the first not yet due.

// Webhook is a local account's webhook setting.
type Webhook struct {
	ID       uint64            `cbor:"1,keyasint"`
	Account  protocol.Handle   `cbor:"2,keyasint"`
	URL      string            `cbor:"3,keyasint"`
	Events   []string          `cbor:"4,keyasint"`           // ChatWork event types: message_created, message_updated, mention_to_me
	Rooms    []protocol.RoomID `cbor:"5,keyasint,omitempty"` // only these rooms; empty: every room the account is in
	Token    string            `cbor:"6,keyasint"`           // base64 of the HMAC key, as ChatWork shows it
	Created  int64             `cbor:"7,keyasint"`           // unix ms
	Since    uint64            `cbor:"8,keyasint"`           // the change feed's last sequence at creation: later changes fire it
	Disabled bool              `cbor:"9,keyasint,omitempty"`
	// DisabledReason says why the node disabled it; DisabledAt when (unix ms).
	DisabledReason string `cbor:"10,keyasint,omitempty"`
	DisabledAt     int64  `cbor:"11,keyasint,omitempty"`
	Failures       uint32 `cbor:"12,keyasint,omitempty"` // failed attempts since the last success
	LastSuccess    int64  `cbor:"13,keyasint,omitempty"` // unix ms
	LastError      string `cbor:"14,keyasint,omitempty"`
}

// Delivery is one queued webhook request: the exact body to sign and
// send, until it is delivered or given up.
type Delivery struct {
	ID       uint64 `cbor:"1,keyasint"`
	Webhook  uint64 `cbor:"2,keyasint"`
	Event    string `cbor:"3,keyasint"` // the webhook_event_type
	Body     []byte `cbor:"4,keyasint"` // the JSON request body
	Created  int64  `cbor:"5,keyasint"` // unix ms
	Attempts uint32 `cbor:"6,keyasint,omitempty"`
	Due      int64  `cbor:"7,keyasint"` // unix ms: when it is next sent; its key holds it too
}

// DeliveryAttempt is one entry of a webhook's delivery log.
type DeliveryAttempt struct {
	Delivery uint64 `cbor:"1,keyasint"`
	Event    string `cbor:"2,keyasint"`
	Attempt  uint32 `cbor:"3,keyasint"`
	Time     int64  `cbor:"4,keyasint"`           // unix ms
	Status   int    `cbor:"5,keyasint,omitempty"` // HTTP status; 0: no answer
	Error    string `cbor:"6,keyasint,omitempty"`
	Duration int64  `cbor:"7,keyasint,omitempty"` // ms
	Response string `cbor:"8,keyasint,omitempty"` // the start of the answer's body
	Outcome  string `cbor:"9,keyasint"`           // delivered, retry, expired, dropped
}

// Kinds of pWebhookSeq counters.
const (
	seqWebhook  byte = 'w'
	seqDelivery byte = 'd'
	seqAttempt  byte = 'l'
)

func (tx *Tx) nextWebhookSeq(kind byte) (uint64, error) {
	k := key(pWebhookSeq, []byte{kind})
	var n uint64
	b, err := tx.get(k)
	switch {
	case err == nil:
		n = be64(b)
	case !errors.Is(err, ErrNotFound):
		return 0, err
	}
	n++
	return n, tx.set(k, u64(n))
}

// NewWebhookID hands out the next webhook ID (from 1).
func (tx *Tx) NewWebhookID() (uint64, error) {
	id, err := tx.nextWebhookSeq(seqWebhook)
	return id, wrap("new webhook ID", err)
}

// PutWebhook stores a webhook setting.
func (tx *Tx) PutWebhook(w *Webhook) error {
	return wrap("put webhook", tx.setRecord(key(pWebhook, u64(w.ID)), w))
}

// Webhook returns a webhook setting; the error wraps ErrNotFound if there
// is none with id.
func (tx *Tx) Webhook(id uint64) (*Webhook, error) {
	w := new(Webhook)
	if err := tx.getRecord(key(pWebhook, u64(id)), w); err != nil {
		return nil, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return w, nil
}

// Webhooks returns every webhook setting, by ID, as the transaction sees
// them (its own writes included).
func (tx *Tx) Webhooks() ([]*Webhook, error) {
	es, err := tx.list([]byte{pWebhook})
	if err != nil {
		return nil, wrap("list webhooks", err)
	}
	out := make([]*Webhook, 0, len(es))
	for _, e := range es {
		w := new(Webhook)
		if err := protocol.DecodeRecord(e.v, w); err != nil {
			return nil, wrap("list webhooks", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// DeleteWebhook deletes a webhook setting and its delivery log. Its queued
// deliveries stay until the node next takes them up and finds no setting.
func (tx *Tx) DeleteWebhook(id uint64) error {
	if err := tx.delete(key(pWebhook, u64(id))); err != nil {
		return wrap("delete webhook", err)
	}
	ks, err := tx.keys(key(pDeliveryLog, u64(id)))
	if err != nil {
		return wrap("delete webhook", err)
	}
	for _, k := range ks {
		if err := tx.delete(k); err != nil {
			return wrap("delete webhook", err)
		}
	}
	return nil
}

// keys returns the full keys with prefix, as stored before the
// transaction began.
func (tx *Tx) keys(prefix []byte) ([][]byte, error) {
	var ks [][]byte
	err := tx.scan(prefix, nil, false, func(k []byte, _ func() ([]byte, error)) (bool, error) {
		ks = append(ks, append(bytes.Clone(prefix), k...))
		return true, nil
	})
	return ks, err
}

func deliveryKey(d *Delivery) []byte {
	return key(pDelivery, u64(uint64(d.Due)), u64(d.ID))
}

// EnqueueDelivery adds d to the delivery queue, due at d.Due, giving it
// the next delivery ID.
func (tx *Tx) EnqueueDelivery(d *Delivery) error {
	id, err := tx.nextWebhookSeq(seqDelivery)
	if err != nil {
		return wrap("enqueue delivery", err)
	}
	d.ID = id
	return wrap("enqueue delivery", tx.setRecord(deliveryKey(d), d))
}

// RescheduleDelivery stores d, which DueDeliveries returned, due at due.
func (tx *Tx) RescheduleDelivery(d *Delivery, due int64) error {
	if err := tx.delete(deliveryKey(d)); err != nil {
		return wrap("reschedule delivery", err)
	}
	d.Due = due
	return wrap("reschedule delivery", tx.setRecord(deliveryKey(d), d))
}

// DeleteDelivery takes d off the queue.
func (tx *Tx) DeleteDelivery(d *Delivery) error {
	return wrap("delete delivery", tx.delete(deliveryKey(d)))
}

// DueDeliveries returns up to limit deliveries due at now or before, the
// earliest first, and when the next delivery after them is due (0 if
// none is queued). It reads what was stored before the transaction began.
func (tx *Tx) DueDeliveries(now int64, limit int) ([]*Delivery, int64, error) {
	var out []*Delivery
	var next int64
	err := tx.scan([]byte{pDelivery}, nil, false, func(k []byte, val func() ([]byte, error)) (bool, error) {
		due := int64(be64(k))
		if due > now || len(out) >= limit {
			next = due
			return false, nil
		}
		b, err := val()
		if err != nil {
			return false, err
		}
		d := new(Delivery)
		if err := protocol.DecodeRecord(b, d); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	return out, next, wrap("due deliveries", err)
}

// QueuedDeliveries counts the queued deliveries of each webhook.
func (tx *Tx) QueuedDeliveries() (map[uint64]int, error) {
	out := map[uint64]int{}
	err := tx.scan([]byte{pDelivery}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		var d Delivery
		if err := protocol.DecodeRecord(b, &d); err != nil {
			return false, err
		}
		out[d.Webhook]++
		return true, nil
	})
	return out, wrap("count deliveries", err)
}

// AppendDeliveryAttempt adds a to the delivery log of webhook and keeps
// only its keep newest entries.
func (tx *Tx) AppendDeliveryAttempt(webhook uint64, a *DeliveryAttempt, keep int) error {
	seq, err := tx.nextWebhookSeq(seqAttempt)
	if err != nil {
		return wrap("log delivery", err)
	}
	prefix := key(pDeliveryLog, u64(webhook))
	if err := tx.setRecord(key(pDeliveryLog, u64(webhook), u64(seq)), a); err != nil {
		return wrap("log delivery", err)
	}
	es, err := tx.list(prefix)
	if err != nil {
		return wrap("log delivery", err)
	}
	for i := 0; i < len(es)-keep; i++ {
		if err := tx.delete(append(bytes.Clone(prefix), es[i].k...)); err != nil {
			return wrap("log delivery", err)
		}
	}
	return nil
}

// DeliveryLog returns the delivery log of a webhook, newest first.
func (tx *Tx) DeliveryLog(webhook uint64) ([]*DeliveryAttempt, error) {
	var out []*DeliveryAttempt
	err := tx.scan(key(pDeliveryLog, u64(webhook)), nil, true, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		a := new(DeliveryAttempt)
		if err := protocol.DecodeRecord(b, a); err != nil {
			return false, err
		}
		out = append(out, a)
		return true, nil
	})
	return out, wrap("delivery log", err)
}

// WebhookCursor returns the last change-feed sequence number the node
// turned into webhook deliveries, and false if it never recorded one.
func (tx *Tx) WebhookCursor() (uint64, bool, error) {
	b, err := tx.get([]byte{pWebhookCursor})
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get webhook cursor: %w", err)
	}
	return be64(b), true, nil
}

// PutWebhookCursor records the last change-feed sequence number turned
// into webhook deliveries.
func (tx *Tx) PutWebhookCursor(seq uint64) error {
	return wrap("put webhook cursor", tx.set([]byte{pWebhookCursor}, u64(seq)))
}
