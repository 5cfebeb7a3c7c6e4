package storage

import (
	"errors"
	"slices"
	"testing"
)

// TestDeliveryQueue: deliveries come out by due time, a rescheduled one
// moves, a deleted webhook takes its log along, the log keeps its newest
// entries, and all of it survives reopening the store.
func TestDeliveryQueue(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	update(t, s, func(tx *Tx) error {
		for i, due := range []int64{300, 100, 200} {
			d := &Delivery{Webhook: uint64(1 + i%2), Event: "message_created", Body: []byte(`{}`), Created: 1, Due: due}
			if err := tx.EnqueueDelivery(d); err != nil {
				return err
			}
		}
		return tx.PutWebhookCursor(42)
	})
	due := func(now int64, limit int) ([]uint64, int64) {
		t.Helper()
		var ids []uint64
		var next int64
		view(t, s, func(tx *Tx) error {
			ds, n, err := tx.DueDeliveries(now, limit)
			for _, d := range ds {
				ids = append(ids, d.ID)
			}
			next = n
			return err
		})
		return ids, next
	}
	if ids, next := due(250, 10); !slices.Equal(ids, []uint64{2, 3}) || next != 300 {
		t.Fatalf("due at 250: %v, next %d; want [2 3], next 300", ids, next)
	}
	if ids, next := due(1000, 1); !slices.Equal(ids, []uint64{2}) || next != 200 {
		t.Fatalf("one due at 1000: %v, next %d; want [2], next 200", ids, next)
	}
	update(t, s, func(tx *Tx) error {
		ds, _, err := tx.DueDeliveries(100, 1)
		if err != nil {
			return err
		}
		ds[0].Attempts++
		return tx.RescheduleDelivery(ds[0], 500)
	})
	s.Close()
	s = openTest(t, dir)
	if ids, next := due(400, 10); !slices.Equal(ids, []uint64{3, 1}) || next != 500 {
		t.Fatalf("after reschedule, due at 400: %v, next %d; want [3 1], next 500", ids, next)
	}
	view(t, s, func(tx *Tx) error {
		c, ok, err := tx.WebhookCursor()
		if err != nil || !ok || c != 42 {
			t.Errorf("cursor %d, %v, %v; want 42", c, ok, err)
		}
		q, err := tx.QueuedDeliveries()
		if err != nil || q[1] != 2 || q[2] != 1 {
			t.Errorf("queued %v, %v; want webhook 1: 2, webhook 2: 1", q, err)
		}
		return nil
	})

	update(t, s, func(tx *Tx) error {
		for _, id := range []uint64{7, 8} {
			if err := tx.PutWebhook(&Webhook{ID: id, Account: "bot", URL: "https://203.0.113.1/", Token: "k"}); err != nil {
				return err
			}
		}
		for i := range 5 {
			for _, id := range []uint64{7, 8} {
				if err := tx.AppendDeliveryAttempt(id, &DeliveryAttempt{Delivery: uint64(i), Outcome: "retry"}, 3); err != nil {
					return err
				}
			}
		}
		return nil
	})
	view(t, s, func(tx *Tx) error {
		log, err := tx.DeliveryLog(7)
		var got []uint64
		for _, a := range log {
			got = append(got, a.Delivery)
		}
		if err != nil || !slices.Equal(got, []uint64{4, 3, 2}) {
			t.Errorf("log of 7: %v, %v; want the newest 3, newest first", got, err)
		}
		return nil
	})
	update(t, s, func(tx *Tx) error { return tx.DeleteWebhook(7) })
	view(t, s, func(tx *Tx) error {
		if _, err := tx.Webhook(7); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted webhook: %v", err)
		}
		if log, _ := tx.DeliveryLog(7); len(log) != 0 {
			t.Errorf("deleted webhook's log: %d entries", len(log))
		}
		if log, _ := tx.DeliveryLog(8); len(log) != 3 {
			t.Errorf("other webhook's log: %d entries, want 3", len(log))
		}
		hs, err := tx.Webhooks()
		if err != nil || len(hs) != 1 || hs[0].ID != 8 {
			t.Errorf("webhooks %v, %v", hs, err)
		}
		return nil
	})
}
