package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/horenso/horenso/node"
)

func newTestServer(t *testing.T) (*httptest.Server, *node.Node) {
	t.Helper()
	dir := t.TempDir()
	if _, err := node.Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	srv := httptest.NewServer(New(n, Config{}))
	t.Cleanup(srv.Close)
	return srv, n
}

func TestHealth(t *testing.T) {
	srv, n := newTestServer(t)
	resp, err := http.Get(srv.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		NodeID string `json:"node_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || body.Status != "ok" || body.NodeID != string(n.ID()) {
		t.Fatalf("health = %d %+v", resp.StatusCode, body)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, err := http.Get(srv.URL + "/v2/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Errors []string `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound || len(body.Errors) != 1 {
		t.Fatalf("unknown endpoint = %d %+v, want 404 with ChatWork's errors shape", resp.StatusCode, body)
	}
}
