package api

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// TestWebhooksOverHTTP: a bot sets up a webhook with its API token, a
// person posts with the ChatWork API, and a receiver checking the
// signature as ChatWork's documentation says gets the event with the IDs
// the ChatWork API uses.
func TestWebhooksOverHTTP(t *testing.T) {
	e := newEnvWith(t, node.Config{Webhooks: node.WebhookConfig{AllowPrivate: true, RetryMin: 20 * time.Millisecond}}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.node.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	var mu sync.Mutex
	var token string
	got := make(chan []byte, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		key, _ := base64.StdEncoding.DecodeString(token)
		mu.Unlock()
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-ChatWorkWebhookSignature")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
			t.Errorf("bad signature on %s", body)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- body
	}))
	t.Cleanup(recv.Close)

	resp := e.do("POST", "/api/webhooks", req{token: e.alice.token,
		json: fmt.Sprintf(`{"url": %q, "events": ["message_created", "mention_to_me"], "room_ids": [%d]}`, recv.URL+"/cw", e.room.Alias)})
	if resp.status != http.StatusOK {
		t.Fatalf("create: %s", resp)
	}
	var created struct {
		ID     uint64   `json:"webhook_setting_id"`
		Token  string   `json:"token"`
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Rooms  []uint64 `json:"room_ids"`
	}
	resp.decode(t, &created)
	if created.ID == 0 || created.Token == "" || len(created.Events) != 2 || len(created.Rooms) != 1 || created.Rooms[0] != e.room.Alias {
		t.Fatalf("created %s", resp)
	}
	mu.Lock()
	token = created.Token
	mu.Unlock()

	resp = e.do("POST", fmt.Sprintf("/v2/rooms/%d/messages", e.room.Alias), req{token: e.bob.token,
		form: form("body", fmt.Sprintf("[To:%d]Alice, look", e.alice.Alias))})
	if resp.status != http.StatusOK {
		t.Fatalf("post: %s", resp)
	}
	var posted struct {
		MessageID string `json:"message_id"`
	}
	resp.decode(t, &posted)
	var message struct {
		MessageID string `json:"message_id"`
		Account   struct {
			AccountID uint64 `json:"account_id"`
		} `json:"account"`
		Body     string `json:"body"`
		SendTime int64  `json:"send_time"`
	}
	e.do("GET", fmt.Sprintf("/v2/rooms/%d/messages/%s", e.room.Alias, posted.MessageID), req{token: e.bob.token}).decode(t, &message)
	types := map[string]json.RawMessage{}
	for len(types) < 2 {
		select {
		case b := <-got:
			var p struct {
				Setting string          `json:"webhook_setting_id"`
				Type    string          `json:"webhook_event_type"`
				Event   json.RawMessage `json:"webhook_event"`
			}
			if err := json.Unmarshal(b, &p); err != nil || p.Setting != fmt.Sprint(created.ID) {
				t.Fatalf("payload %s: %v", b, err)
			}
			types[p.Type] = p.Event
		case <-time.After(15 * time.Second):
			t.Fatalf("got %d events, want 2", len(types))
		}
	}
	want := fmt.Sprintf(`{"message_id":%q,"room_id":%d,"account_id":%d,"body":%q,"send_time":%d,"update_time":0}`,
		message.MessageID, e.room.Alias, message.Account.AccountID, message.Body, message.SendTime)
	if string(types["message_created"]) != want {
		t.Errorf("message_created event\n %s\nwant\n %s", types["message_created"], want)
	}
	want = fmt.Sprintf(`{"from_account_id":%d,"to_account_id":%d,"room_id":%d,"message_id":%q,"body":%q,"send_time":%d,"update_time":0}`,
		e.bob.Alias, e.alice.Alias, e.room.Alias, message.MessageID, message.Body, message.SendTime)
	if string(types["mention_to_me"]) != want {
		t.Errorf("mention_to_me event\n %s\nwant\n %s", types["mention_to_me"], want)
	}

	// The list never shows the token; the log shows the deliveries.
	resp = e.do("GET", "/api/webhooks", req{token: e.alice.token})
	if resp.status != http.StatusOK || strings.Contains(string(resp.body), created.Token) || !strings.Contains(string(resp.body), recv.URL) {
		t.Errorf("list: %s", resp)
	}
	path := fmt.Sprintf("/api/webhooks/%d", created.ID)
	var log []node.WebhookAttempt
	deadline := time.Now().Add(10 * time.Second)
	for len(log) < 2 && time.Now().Before(deadline) {
		e.do("GET", path+"/deliveries", req{token: e.alice.token}).decode(t, &log)
		time.Sleep(10 * time.Millisecond)
	}
	if len(log) != 2 || log[0].Outcome != "delivered" || log[0].Status != http.StatusOK {
		t.Errorf("deliveries %+v", log)
	}

	// Another account neither sees nor changes it.
	for _, c := range []struct{ method, path string }{{"GET", path + "/deliveries"}, {"DELETE", path}, {"PUT", path + "?enabled=0"}} {
		if resp := e.do(c.method, c.path, req{token: e.bob.token}); resp.status != http.StatusNotFound || resp.errors(t)[0] != "no such webhook" {
			t.Errorf("bob %s %s: %s", c.method, c.path, resp)
		}
	}
	resp = e.do("PUT", path, req{token: e.alice.token, form: form("enabled", "0")})
	var h node.Webhook
	resp.decode(t, &h)
	if resp.status != http.StatusOK || h.Enabled || h.DisabledReason == "" {
		t.Errorf("disable: %s", resp)
	}
	if resp := e.do("DELETE", path, req{token: e.alice.token}); resp.status != http.StatusOK {
		t.Errorf("delete: %s", resp)
	}
	if resp := e.do("GET", "/api/webhooks", req{token: e.alice.token}); string(resp.body) != "[]\n" {
		t.Errorf("list after delete: %s", resp)
	}
}

// TestWebhookRefusals: bad input and, with the default configuration,
// URLs that reach the node's own network are refused in ChatWork's error
// shape; a web session needs its CSRF token to create one.
func TestWebhookRefusals(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct {
		name, json string
		status     int
		msg        string
	}{
		{"loopback", `{"url": "http://127.0.0.1:8080/hook", "events": "message_created"}`, 400, "loopback address"},
		{"localhost", `{"url": "http://localhost/hook", "events": "message_created"}`, 400, "loopback address"},
		{"private", `{"url": "https://10.0.0.5/hook", "events": "message_created"}`, 400, "private address"},
		{"metadata", `{"url": "http://169.254.169.254/", "events": "message_created"}`, 400, "link-local address"},
		{"no url", `{"events": "message_created"}`, 400, "parameter url is required"},
		{"scheme", `{"url": "file:///etc/passwd", "events": "message_created"}`, 400, "http or https"},
		{"event", `{"url": "https://203.0.113.9/", "events": "room_deleted"}`, 400, "unknown webhook event"},
		{"room of others", fmt.Sprintf(`{"url": "https://203.0.113.9/", "events": "message_created", "room_ids": "%d"}`, e.room.Alias), 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("POST", "/api/webhooks", req{token: e.carol.token, json: c.json})
			if resp.status != c.status || !strings.Contains(resp.errors(t)[0], c.msg) {
				t.Errorf("%s, want %d %q", resp, c.status, c.msg)
			}
		})
	}
	cookie, csrf := e.login(e.carol)
	body := `{"url": "https://203.0.113.9/hook", "events": "message_created"}`
	if resp := e.do("POST", "/api/webhooks", req{cookie: cookie, json: body}); resp.status != http.StatusForbidden {
		t.Errorf("without CSRF token: %s", resp)
	}
	if resp := e.do("POST", "/api/webhooks", req{cookie: cookie, json: body, header: map[string]string{csrfHeader: csrf}}); resp.status != http.StatusOK {
		t.Errorf("with CSRF token: %s", resp)
	}
}
