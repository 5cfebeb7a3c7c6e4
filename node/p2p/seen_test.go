package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
)

// TestSeenCachesFound checks that seenCaches reaches pubsub's own maps of
// seen and delivered message IDs, the ones a publish adds to, and that a
// sweep takes out the expired IDs and keeps the others. It fails if a
// pubsub release renames or retypes the fields, so that the host's
// warning does not go unnoticed.
func TestSeenCachesFound(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	lh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(),
		libp2p.ResourceManager(&network.NullResourceManager{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lh.Close() })
	ps, err := pubsub.NewGossipSub(ctx, lh, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(), pubsub.WithMessageIdFn(messageID), pubsub.WithSeenMessagesTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	caches, err := seenCaches(ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(caches) != 2 {
		t.Fatalf("%d caches, want 2 (seen and delivered)", len(caches))
	}
	topic, err := ps.Join("seen-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := topic.Publish(ctx, []byte("an event")); err != nil {
		t.Fatal(err)
	}
	published := messageID(&pb.Message{Data: []byte("an event")})
	for i, c := range caches {
		// Pubsub marks the message delivered in its event loop, after
		// Publish returns.
		held, n := false, 0
		for deadline := time.Now().Add(10 * time.Second); !held && time.Now().Before(deadline); {
			c.lk.RLock()
			_, held = c.m[published]
			n = len(c.m)
			c.lk.RUnlock()
			if !held {
				time.Sleep(time.Millisecond)
			}
		}
		if !held || n != 1 {
			t.Fatalf("cache %d after one publish: holds it %v, %d IDs; want it alone", i, held, n)
		}
		c.lk.Lock()
		c.m["expired"] = time.Now().Add(-time.Second)
		c.lk.Unlock()
		c.sweep(time.Now())
		c.lk.RLock()
		_, expired := c.m["expired"]
		_, held = c.m[published]
		c.lk.RUnlock()
		if expired || !held {
			t.Errorf("cache %d after a sweep: the expired ID kept %v, the published one %v", i, expired, held)
		}
	}
}
