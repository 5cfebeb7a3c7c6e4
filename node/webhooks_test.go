package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// hookReceiver is a webhook receiver that checks each request as
// ChatWork's documentation tells receivers to: decode the token from
// base64 to get the key, compute HMAC-SHA256 of the raw request body
// with it, base64 the digest and compare it with the
// X-ChatWorkWebhookSignature header.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	status atomic.Int32 // what it answers; 0: 200

	mu    sync.Mutex
	token string
	got   []hookRequest
}

type hookRequest struct {
	Setting   string          `json:"webhook_setting_id"`
	Type      string          `json:"webhook_event_type"`
	Time      int64           `json:"webhook_event_time"`
	Event     json.RawMessage `json:"webhook_event"`
	delivery  string
	attempt   string
	signature string
	query     string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *hookReceiver) setToken(tok string) { rc.mu.Lock(); rc.token = tok; rc.mu.Unlock() }

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("receiver: read body: %v", err)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	key, err := base64.StdEncoding.DecodeString(rc.token)
	if err != nil {
		rc.t.Errorf("receiver: token %q is not base64: %v", rc.token, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(raw)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sig := r.Header.Get("X-ChatWorkWebhookSignature")
	if !hmac.Equal([]byte(sig), []byte(want)) {
		rc.t.Errorf("receiver: signature %q, want %q", sig, want)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	if q := r.URL.Query().Get("chatwork_webhook_signature"); q != sig {
		rc.t.Errorf("receiver: query signature %q, header %q", q, sig)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "ChatWork-Webhook/") {
		rc.t.Errorf("receiver: User-Agent %q", ua)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" || r.Method != http.MethodPost {
		rc.t.Errorf("receiver: %s with Content-Type %q", r.Method, ct)
	}
	if s := rc.status.Load(); s != 0 && s != http.StatusOK {
		http.Error(w, "receiver is failing on purpose", int(s))
		return
	}
	var req hookRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		rc.t.Errorf("receiver: body %s: %v", raw, err)
	}
	req.delivery, req.attempt, req.signature = r.Header.Get("X-Horenso-Webhook-Delivery"), r.Header.Get("X-Horenso-Webhook-Attempt"), sig
	req.query = r.URL.RawQuery
	rc.got = append(rc.got, req)
	w.WriteHeader(http.StatusOK)
}

// requests returns what it accepted so far.
func (rc *hookReceiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.got...)
}

// await waits until it has accepted n requests and returns them.
func (rc *hookReceiver) await(n int) []hookRequest {
	rc.t.Helper()
	var got []hookRequest
	waitFor(rc.t, 15*time.Second, func() (bool, string) {
		got = rc.requests()
		return len(got) >= n, strconv.Itoa(len(got)) + " requests, want " + strconv.Itoa(n)
	})
	return got
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fastHooks is a webhook configuration for tests: the receiver is on
// 127.0.0.1, and retries come quickly.
var fastHooks = WebhookConfig{AllowPrivate: true, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	Timeout: 5 * time.Second}

// runHookNode opens the node in dir (initializing it) with hooks and runs
// it; stop ends Run, waits for it and closes the node.
func runHookNode(t *testing.T, dir string, hooks WebhookConfig) (n *Node, stop func()) {
	t.Helper()
	if !Initialized(dir) {
		if _, err := Init(dir, "Acme"); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(Config{DataDir: dir, Logger: testLogger(t), Webhooks: hooks, AckInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("run: %v", err)
			}
			if err := n.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return n, stop
}

// botRoom makes accounts bot and bob on n and a room of the two.
func botRoom(t *testing.T, n *Node) (bot, bob *Account, room *Room) {
	ctx := t.Context()
	bot = must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bot", Name: "Bot"}))
	bob = must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "bob", Name: "Bob"}))
	room = must[*Room](t)(n.CreateRoom(ctx, "bob", NewRoom{Name: "Ops", Members: []MemberSpec{{Account: bot.ID, Role: protocol.RoleMember}}}))
	return bot, bob, room
}

func TestWebhookEvents(t *testing.T) {
	n, _ := runHookNode(t, t.TempDir(), fastHooks)
	ctx := t.Context()
	bot, bob, room := botRoom(t, n)
	before := must[*Message](t)(n.Post(ctx, "bob", room.ID, "before the webhook"))
	rc := newHookReceiver(t)
	w, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL + "/hook?x=1",
		Events: []string{WebhookMessageCreated, WebhookMessageUpdated, WebhookMentionToMe}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)

	m := must[*Message](t)(n.Post(ctx, "bob", room.ID, "[To:"+string(bot.ID)+"]Bot, deploy please"))
	got := rc.await(2)
	byType := map[string]hookRequest{}
	for _, r := range got {
		byType[r.Type] = r
		if r.Setting != strconv.FormatUint(w.ID, 10) {
			t.Errorf("webhook_setting_id %q, want %d", r.Setting, w.ID)
		}
		if r.Time == 0 || r.delivery == "" || r.attempt != "1" {
			t.Errorf("request %+v: no event time, delivery ID or first attempt", r)
		}
		if !strings.HasPrefix(r.query, "x=1&chatwork_webhook_signature=") {
			t.Errorf("query %q: the URL's own query is not kept first", r.query)
		}
	}
	var created struct {
		MessageID  string `json:"message_id"`
		RoomID     uint64 `json:"room_id"`
		AccountID  uint64 `json:"account_id"`
		Body       string `json:"body"`
		SendTime   int64  `json:"send_time"`
		UpdateTime int64  `json:"update_time"`
	}
	if err := json.Unmarshal(byType[WebhookMessageCreated].Event, &created); err != nil {
		t.Fatalf("message_created event %s: %v", byType[WebhookMessageCreated].Event, err)
	}
	wantBody := "[To:" + strconv.FormatUint(bot.Alias, 10) + "]Bot, deploy please"
	if created.MessageID != strconv.FormatUint(m.Alias, 10) || created.RoomID != room.Alias || created.AccountID != bob.Alias ||
		created.Body != wantBody || created.SendTime != m.Time/1000 || created.UpdateTime != 0 {
		t.Errorf("message_created event %+v, want message %d in room %d by %d: %q", created, m.Alias, room.Alias, bob.Alias, wantBody)
	}
	var mention struct {
		From      uint64 `json:"from_account_id"`
		To        uint64 `json:"to_account_id"`
		RoomID    uint64 `json:"room_id"`
		MessageID string `json:"message_id"`
		Body      string `json:"body"`
	}
	if err := json.Unmarshal(byType[WebhookMentionToMe].Event, &mention); err != nil {
		t.Fatalf("mention_to_me event %s: %v", byType[WebhookMentionToMe].Event, err)
	}
	if mention.From != bob.Alias || mention.To != bot.Alias || mention.RoomID != room.Alias ||
		mention.MessageID != created.MessageID || mention.Body != wantBody {
		t.Errorf("mention_to_me event %+v", mention)
	}

	// An edit fires message_updated; the bot's own message fires
	// message_created as in ChatWork, but never mention_to_me.
	if err := n.EditMessage(ctx, "bob", m.ID, "never mind"); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "bot", room.ID, "[To:"+string(bot.ID)+"] note to self"))
	got = rc.await(4)
	var types []string
	var updated struct {
		MessageID  string `json:"message_id"`
		Body       string `json:"body"`
		UpdateTime int64  `json:"update_time"`
	}
	for _, r := range got[2:] { // sent concurrently, in any order
		types = append(types, r.Type)
		if r.Type == WebhookMessageUpdated {
			json.Unmarshal(r.Event, &updated)
		}
	}
	slices.Sort(types)
	if strings.Join(types, ",") != "message_created,message_updated" {
		t.Errorf("then %v, want message_updated, message_created", types)
	}
	if updated.MessageID != created.MessageID || updated.Body != "never mind" || updated.UpdateTime == 0 {
		t.Errorf("message_updated event %s", got[2].Event)
	}
	for _, r := range got {
		if strings.Contains(string(r.Event), `"message_id":"`+strconv.FormatUint(before.Alias, 10)+`"`) {
			t.Errorf("a message from before the webhook fired it: %s", r.Event)
		}
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		log := must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
		for _, a := range log {
			if a.Outcome != "delivered" || a.Status != http.StatusOK || a.Attempt != 1 {
				return false, fmt.Sprintf("attempt %+v", a)
			}
		}
		return len(log) == 4, fmt.Sprintf("%d attempts logged, want 4", len(log))
	})
	if _, err := n.WebhookLog(ctx, "bob", w.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob reads the bot's webhook log: %v, want ErrNotFound", err)
	}
}

// TestWebhookOutage: a receiver that fails, then is down, gets the
// deliveries once it is back, after retries the log shows.
func TestWebhookOutage(t *testing.T) {
	n, _ := runHookNode(t, t.TempDir(), fastHooks)
	ctx := t.Context()
	_, _, room := botRoom(t, n)

	rc := newHookReceiver(t)
	rc.status.Store(http.StatusInternalServerError)
	w, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "while failing"))
	waitFor(t, 10*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Failures >= 3 && hs[0].Queued == 1, "failures " + strconv.Itoa(int(hs[0].Failures))
	})
	// Down: nothing listens at its address any more.
	addr := rc.srv.Listener.Addr().String()
	rc.srv.Close()
	rc.status.Store(http.StatusOK)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "while down"))
	waitFor(t, 10*time.Second, func() (bool, string) {
		log := must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
		return len(log) > 0 && log[0].Status == 0 && strings.Contains(log[0].Error, "refused"), "no refused connection yet"
	})
	// Up again, at the same address.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	up := &hookReceiver{t: t, token: token}
	up.srv = httptest.NewUnstartedServer(http.HandlerFunc(up.serve))
	up.srv.Listener = ln
	up.srv.Start()
	t.Cleanup(up.srv.Close)
	got := up.await(2)
	var bodies []string
	for _, r := range got {
		var ev struct{ Body string }
		json.Unmarshal(r.Event, &ev)
		bodies = append(bodies, ev.Body)
		if a, _ := strconv.Atoi(r.attempt); a < 2 {
			t.Errorf("%q delivered at attempt %s, want a retry", ev.Body, r.attempt)
		}
	}
	if !strings.Contains(strings.Join(bodies, "|"), "while failing") || !strings.Contains(strings.Join(bodies, "|"), "while down") {
		t.Errorf("delivered %q", bodies)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Failures == 0 && hs[0].Queued == 0 && hs[0].Enabled, "not settled"
	})
	log := must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
	outcomes := map[string]int{}
	for _, a := range log {
		outcomes[a.Outcome]++
	}
	if outcomes["delivered"] != 2 || outcomes["retry"] < 4 {
		t.Errorf("log outcomes %v, want 2 delivered after retries", outcomes)
	}
}

// TestWebhookQueueSurvivesRestart: deliveries queued on a node that
// stops, and events it had not yet turned into deliveries, are sent once
// the node runs again on the same data directory.
func TestWebhookQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n, stop := runHookNode(t, dir, fastHooks)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	rc := newHookReceiver(t)
	rc.status.Store(http.StatusServiceUnavailable)
	w, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "queued"))
	waitFor(t, 10*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Failures >= 1 && hs[0].Queued == 1, "not failed yet"
	})
	stop()

	// Open, without running: the post is in the change feed only.
	n = newTestNode(t, dir)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "posted while not running"))
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	rc.status.Store(http.StatusOK)
	n, _ = runHookNode(t, dir, fastHooks)
	got := rc.await(2)
	bodies := map[string]int{}
	for _, r := range got {
		var ev struct{ Body string }
		json.Unmarshal(r.Event, &ev)
		bodies[ev.Body]++
	}
	if bodies["queued"] != 1 || bodies["posted while not running"] != 1 {
		t.Errorf("delivered %v, want each once", bodies)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Queued == 0, "still queued"
	})
	if got := rc.requests(); len(got) != 2 {
		t.Errorf("%d requests, want 2", len(got))
	}
	_ = w
}

// TestWebhookDisabledAfterFailures: a receiver that keeps failing gets
// its webhook disabled, with the reason; enabling it again clears it.
func TestWebhookDisabledAfterFailures(t *testing.T) {
	cfg := fastHooks
	cfg.MaxFailures = 3
	n, _ := runHookNode(t, t.TempDir(), cfg)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	rc := newHookReceiver(t)
	rc.status.Store(http.StatusBadGateway)
	w, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "one"))
	var h *Webhook
	waitFor(t, 10*time.Second, func() (bool, string) {
		h = must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))[0]
		return !h.Enabled, "still enabled"
	})
	if !strings.Contains(h.DisabledReason, "3 attempts in a row failed") || !strings.Contains(h.DisabledReason, "502") {
		t.Errorf("disabled reason %q", h.DisabledReason)
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		log := must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
		return len(log) > 0 && log[0].Outcome == "dropped", "queued delivery not dropped"
	})
	// Disabled, it sends nothing.
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "two"))

	rc.status.Store(http.StatusOK)
	h = must[*Webhook](t)(n.SetWebhookEnabled(ctx, "bot", w.ID, true))
	if !h.Enabled || h.Failures != 0 || h.DisabledReason != "" {
		t.Errorf("enabled webhook %+v", h)
	}
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "three"))
	got := rc.await(1)
	var ev struct{ Body string }
	json.Unmarshal(got[0].Event, &ev)
	if len(got) != 1 || ev.Body != "three" {
		t.Errorf("after enabling, delivered %d, first %q; want only three", len(got), ev.Body)
	}
}

// TestWebhookDeadline: a delivery that still fails at the deadline is
// dropped and its webhook disabled.
func TestWebhookDeadline(t *testing.T) {
	cfg := fastHooks
	cfg.Deadline = 300 * time.Millisecond
	cfg.MaxFailures = -1
	n, _ := runHookNode(t, t.TempDir(), cfg)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	rc := newHookReceiver(t)
	rc.status.Store(http.StatusInternalServerError)
	w, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "too late"))
	var h *Webhook
	waitFor(t, 10*time.Second, func() (bool, string) {
		h = must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))[0]
		return !h.Enabled && h.Queued == 0, "still enabled or queued"
	})
	log := must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
	if log[0].Outcome != "expired" || !strings.Contains(h.DisabledReason, "failed for 300ms") {
		t.Errorf("newest attempt %+v, disabled reason %q", log[0], h.DisabledReason)
	}
}

// TestWebhookSSRF: by default a webhook may not point at loopback,
// private or link-local addresses, whether named by address or by a host
// name, and the dialer refuses them at connection time too (a name that
// resolves elsewhere later, DNS rebinding, meets the same check).
func TestWebhookSSRF(t *testing.T) {
	n, _ := runHookNode(t, t.TempDir(), WebhookConfig{})
	ctx := t.Context()
	botRoom(t, n)
	rc := newHookReceiver(t)
	for _, u := range []string{rc.srv.URL, "http://localhost:9/hook", "http://10.1.2.3/", "http://[::1]:8080/",
		"http://169.254.169.254/latest/meta-data", "http://0.0.0.0:80/", "http://192.168.1.1/", "http://[fe80::1]/",
		"http://100.64.0.1/"} {
		_, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: u, Events: []string{WebhookMessageCreated}})
		if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrWebhookAddress) {
			t.Errorf("create webhook to %s: %v, want ErrInvalid and ErrWebhookAddress", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/", "/relative", "http://user:pw@example.com/"} {
		if _, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: u, Events: []string{WebhookMessageCreated}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("create webhook to %s: %v, want ErrInvalid", u, err)
		}
	}
	if _, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: "http://203.0.113.7/", Events: []string{"room_created"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown event: %v, want ErrInvalid", err)
	}
	// A public address passes the check at creation.
	if _, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: "https://203.0.113.7/hook", Events: []string{WebhookMessageCreated}}); err != nil {
		t.Errorf("create webhook to a public address: %v", err)
	}
	// The dialer of the default configuration refuses the receiver.
	c := newWebhookClient(n.cfg.Webhooks)
	resp, err := c.Post(rc.srv.URL, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrWebhookAddress) {
		t.Errorf("dial %s: %v, want ErrWebhookAddress", rc.srv.URL, err)
	}
	if got := rc.requests(); len(got) != 0 {
		t.Errorf("receiver got %d requests", len(got))
	}
}

func TestWebhookRoomsAndLimits(t *testing.T) {
	n, _ := runHookNode(t, t.TempDir(), fastHooks)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	other := must[*Room](t)(n.CreateRoom(ctx, "bob", NewRoom{Name: "Bob only"}))
	if _, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: "http://127.0.0.1:9/", Events: []string{WebhookMessageCreated},
		Rooms: []protocol.RoomID{other.ID}}); !errors.Is(err, ErrForbidden) {
		t.Errorf("webhook for a room the bot is not in: %v, want ErrForbidden", err)
	}
	rc := newHookReceiver(t)
	_, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated},
		Rooms: []protocol.RoomID{room.ID}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	for range MaxWebhooksPerAccount - 1 {
		must[*Webhook](t)(func() (*Webhook, error) {
			w, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: "http://127.0.0.1:9/", Events: []string{WebhookMentionToMe}})
			return w, err
		}())
	}
	if _, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: "http://127.0.0.1:9/", Events: []string{WebhookMentionToMe}}); !errors.Is(err, ErrConflict) {
		t.Errorf("webhook over the limit: %v, want ErrConflict", err)
	}
	hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
	if len(hs) != MaxWebhooksPerAccount || len(hs[0].Rooms) != 1 || hs[0].Rooms[0] != room.Alias {
		t.Errorf("webhooks %+v", hs[0])
	}
	for _, h := range hs[1:] {
		if err := n.DeleteWebhook(ctx, "bot", h.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.DeleteWebhook(ctx, "bob", hs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deletes the bot's webhook: %v, want ErrNotFound", err)
	}
	// The bot is added to bob's room later: the room filter keeps it out.
	if err := n.SetMember(ctx, "bob", other.ID, protocol.NewAccountID(n.ID(), "bot"), protocol.RoleMember); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "bob", other.ID, "elsewhere"))
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "here"))
	got := rc.await(1)
	waitFor(t, 5*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Queued == 0, "queued"
	})
	var ev struct{ Body string }
	json.Unmarshal(got[0].Event, &ev)
	if got := rc.requests(); len(got) != 1 || ev.Body != "here" {
		t.Errorf("delivered %d, first %q; want only here", len(got), ev.Body)
	}
}

// TestWebhookOfDisabledAccount: the webhooks of a disabled account fire
// nothing until it is enabled again.
func TestWebhookOfDisabledAccount(t *testing.T) {
	n, _ := runHookNode(t, t.TempDir(), fastHooks)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	rc := newHookReceiver(t)
	_, token, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: rc.srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setToken(token)
	if err := n.SetDisabled(ctx, "bot", true); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "while the bot is disabled"))
	// The dispatcher has passed the post before the bot is enabled again.
	last := n.LastChange()
	waitFor(t, 5*time.Second, func() (bool, string) {
		var c uint64
		n.store.View(func(tx *storage.Tx) (err error) { c, _, err = tx.WebhookCursor(); return err })
		return c >= last, fmt.Sprintf("cursor %d, post %d", c, last)
	})
	if err := n.SetDisabled(ctx, "bot", false); err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "after"))
	got := rc.await(1)
	waitFor(t, 5*time.Second, func() (bool, string) {
		hs := must[[]*Webhook](t)(n.Webhooks(ctx, "bot"))
		return hs[0].Queued == 0, "queued"
	})
	var ev struct{ Body string }
	json.Unmarshal(got[0].Event, &ev)
	if got := rc.requests(); len(got) != 1 || ev.Body != "after" {
		t.Errorf("delivered %d, first %q; want only after", len(got), ev.Body)
	}
}

// TestWebhookAnswerLimits: an answer's body is read only up to a small
// limit, and a receiver slower than the timeout counts as a failure and
// is tried again.
func TestWebhookAnswerLimits(t *testing.T) {
	cfg := fastHooks
	cfg.Timeout = 300 * time.Millisecond
	n, _ := runHookNode(t, t.TempDir(), cfg)
	ctx := t.Context()
	_, _, room := botRoom(t, n)
	var calls atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			select { // slower than the timeout
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	}))
	t.Cleanup(srv.Close)
	w, _, err := n.CreateWebhook(ctx, "bot", WebhookSpec{URL: srv.URL, Events: []string{WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	must[*Message](t)(n.Post(ctx, "bob", room.ID, "hello"))
	var log []WebhookAttempt
	waitFor(t, 10*time.Second, func() (bool, string) {
		log = must[[]WebhookAttempt](t)(n.WebhookLog(ctx, "bot", w.ID))
		return len(log) == 2 && log[0].Outcome == "delivered", fmt.Sprintf("log %+v", log)
	})
	if first := log[1]; first.Outcome != "retry" || first.Status != 0 || !strings.Contains(first.Error, "Timeout") {
		t.Errorf("first attempt %+v, want a timeout", first)
	}
	if len(log[0].Response) != maxWebhookLogResponse {
		t.Errorf("logged %d bytes of the answer, want %d", len(log[0].Response), maxWebhookLogResponse)
	}
}
