package nodetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// webhookSink receives one webhook's requests, checks each signature as
// ChatWork's documentation says, and keeps the accepted ones by type.
type webhookSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	token string
	got   map[string]json.RawMessage // event type → webhook_event
}

func newWebhookSink(t *testing.T) *webhookSink {
	s := &webhookSink{got: map[string]json.RawMessage{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(s.token)
		mac := hmac.New(sha256.New, key)
		mac.Write(raw)
		if !hmac.Equal([]byte(r.Header.Get("X-ChatWorkWebhookSignature")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
			t.Errorf("bad signature on %s", raw)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct {
			Type  string          `json:"webhook_event_type"`
			Event json.RawMessage `json:"webhook_event"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Errorf("payload %s: %v", raw, err)
		}
		s.got[p.Type] = p.Event
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) await(t *testing.T, types ...string) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	Await(t, 20*time.Second, func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, ty := range types {
			if s.got[ty] == nil {
				return false, "no " + ty + " yet"
			}
			out[ty] = s.got[ty]
		}
		return true, ""
	})
	return out
}

// TestWebhooksAcrossNodes: a message posted on node A in a room shared
// with node B fires the webhook of B's bot on B, with B's own ChatWork
// IDs (those B's /v2 API shows the bot), and the webhook of A's account
// on A with A's.
func TestWebhooksAcrossNodes(t *testing.T) {
	c := NewCluster(t, 2, Options{Webhooks: node.WebhookConfig{AllowPrivate: true, RetryMin: 50 * time.Millisecond}})
	a, b := c.Nodes[0], c.Nodes[1]
	a.User("alice")
	b.User("bbot")
	alice, bbot := a.As("alice"), b.As("bbot")
	room := alice.CreateRoom("Ops", bbot.ID())
	onB := bbot.AwaitRoom(room)
	ctx := t.Context()

	sinkB, sinkA := newWebhookSink(t), newWebhookSink(t)
	_, tokB, err := b.CreateWebhook(ctx, "bbot", node.WebhookSpec{URL: sinkB.srv.URL,
		Events: []string{node.WebhookMessageCreated, node.WebhookMentionToMe}})
	if err != nil {
		t.Fatal(err)
	}
	_, tokA, err := a.CreateWebhook(ctx, "alice", node.WebhookSpec{URL: sinkA.srv.URL, Events: []string{node.WebhookMessageCreated}})
	if err != nil {
		t.Fatal(err)
	}
	sinkB.mu.Lock()
	sinkB.token = tokB
	sinkB.mu.Unlock()
	sinkA.mu.Lock()
	sinkA.token = tokA
	sinkA.mu.Unlock()

	alice.Post(room, fmt.Sprintf("[To:%s] deploy to staging, please", bbot.ID()))
	gotB := sinkB.await(t, node.WebhookMessageCreated, node.WebhookMentionToMe)

	// What B's ChatWork API shows the bot of that message.
	var created struct {
		MessageID string `json:"message_id"`
		RoomID    uint64 `json:"room_id"`
		AccountID uint64 `json:"account_id"`
		Body      string `json:"body"`
		SendTime  int64  `json:"send_time"`
	}
	if err := json.Unmarshal(gotB[node.WebhookMessageCreated], &created); err != nil {
		t.Fatal(err)
	}
	var v2msg struct {
		MessageID string `json:"message_id"`
		Account   struct {
			AccountID uint64 `json:"account_id"`
		} `json:"account"`
		Body     string `json:"body"`
		SendTime int64  `json:"send_time"`
	}
	if st := v2(t, b, b.Token("bbot"), "GET", fmt.Sprintf("/rooms/%d/messages/%s", onB.Alias, created.MessageID), nil, &v2msg); st != http.StatusOK {
		t.Fatalf("B's /v2 message %s: %d", created.MessageID, st)
	}
	if created.RoomID != onB.Alias || created.AccountID != v2msg.Account.AccountID || created.Body != v2msg.Body ||
		created.SendTime != v2msg.SendTime {
		t.Errorf("B's message_created %s, B's /v2 shows room %d, %+v", gotB[node.WebhookMessageCreated], onB.Alias, v2msg)
	}
	botOnB, err := b.Account(ctx, "bbot")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("[To:%d] deploy to staging, please", botOnB.Alias)
	if created.Body != want {
		t.Errorf("body %q, want %q", created.Body, want)
	}
	var mention struct {
		From uint64 `json:"from_account_id"`
		To   uint64 `json:"to_account_id"`
		Room uint64 `json:"room_id"`
	}
	json.Unmarshal(gotB[node.WebhookMentionToMe], &mention)
	if mention.From != created.AccountID || mention.To != botOnB.Alias || mention.Room != onB.Alias {
		t.Errorf("B's mention_to_me %s", gotB[node.WebhookMentionToMe])
	}

	// A fires its own account's webhook, with A's IDs.
	gotA := sinkA.await(t, node.WebhookMessageCreated)
	var createdA struct {
		RoomID    uint64 `json:"room_id"`
		AccountID uint64 `json:"account_id"`
	}
	json.Unmarshal(gotA[node.WebhookMessageCreated], &createdA)
	aliceOnA, err := a.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if createdA.RoomID != alice.AwaitRoom(room).Alias || createdA.AccountID != aliceOnA.Alias {
		t.Errorf("A's message_created %s", gotA[node.WebhookMessageCreated])
	}
}
