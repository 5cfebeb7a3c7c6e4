package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// TestWebhooksSurviveKill9: a bot's webhook, set up with `horenso
// webhook add`, gets every acknowledged post of a node killed with
// SIGKILL in mid-stream once the node runs again. A delivery may come
// twice (sent, then the node died before recording it), but then under
// the same delivery ID, never as a new one.
func TestWebhooksSurviveKill9(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	flags := []string{"--webhook-allow-private", "--webhook-timeout", "2s"}
	p := start(t, data, flags...)
	ctx := t.Context()
	admin := dial(t, data)
	for _, h := range []protocol.Handle{"bot", "bob"} {
		if _, err := admin.AddUser(ctx, node.NewAccount{Handle: h}); err != nil {
			t.Fatal(err)
		}
	}
	room, err := admin.CreateRoom(ctx, "bob", "ops", "", []string{"bot"})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu         sync.Mutex
		token      string
		deliveries = map[string]string{} // body → delivery ID
		repeats    int
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		// A slow receiver, so that a backlog is queued when the node dies.
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(token)
		mac := hmac.New(sha256.New, key)
		mac.Write(raw)
		if !hmac.Equal([]byte(r.Header.Get("X-ChatWorkWebhookSignature")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
			t.Errorf("bad signature on %s", raw)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct {
			Event struct{ Body string } `json:"webhook_event"`
		}
		json.Unmarshal(raw, &p)
		id := r.Header.Get("X-Horenso-Webhook-Delivery")
		if was, ok := deliveries[p.Event.Body]; ok {
			repeats++
			if was != id {
				t.Errorf("%q delivered as %s and again as %s", p.Event.Body, was, id)
			}
		}
		deliveries[p.Event.Body] = id
	}))
	t.Cleanup(recv.Close)

	var added struct {
		ID    uint64 `json:"webhook_setting_id"`
		Token string `json:"token"`
	}
	horenso(t, data, &added, "webhook", "add", "--as", "bot", "--url", recv.URL+"/hook", "--events", "message_created")
	if added.Token == "" {
		t.Fatal("webhook add printed no token")
	}
	mu.Lock()
	token = added.Token
	mu.Unlock()

	var (
		amu   sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	wctx, stopWriters := context.WithCancel(ctx)
	defer stopWriters()
	for w := range 4 {
		wg.Go(func() {
			c, err := control.Dial(wctx, data)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := 0; wctx.Err() == nil; i++ {
				body := fmt.Sprintf("w%d-%d", w, i)
				if _, err := c.Post(wctx, "bob", room.Alias, body); err != nil {
					return // the node died: not acknowledged
				}
				amu.Lock()
				acked[body] = true
				amu.Unlock()
			}
		})
	}
	waitUntil(t, func() bool {
		amu.Lock()
		defer amu.Unlock()
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 60 && len(deliveries) >= 10
	})
	p.stop(t, syscall.SIGKILL)
	wg.Wait()
	mu.Lock()
	before := len(deliveries)
	mu.Unlock()

	start(t, data, flags...)
	amu.Lock()
	defer amu.Unlock()
	waitUntil(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for body := range acked {
			if deliveries[body] == "" {
				return false
			}
		}
		return true
	})
	var hooks []node.Webhook
	horenso(t, data, &hooks, "webhook", "list", "--as", "bot")
	if len(hooks) != 1 || !hooks[0].Enabled || hooks[0].Failures != 0 {
		t.Errorf("webhook after restart: %+v", hooks)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d acknowledged posts, %d delivered before kill -9, %d after it, %d repeated deliveries",
		len(acked), before, len(deliveries)-before, repeats)
	if before >= len(acked) {
		t.Logf("every post was delivered before the kill: the test did not exercise the queue's recovery")
	}
}
