package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/horenso/horenso/node"
)

// levels is a slog handler that keeps the level of each record.
type levels struct {
	mu  sync.Mutex
	got []slog.Level
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

// TestFailLevels: a request whose client went away is logged as
// information, not as the node's error; a failure of the node is an
// error.
func TestFailLevels(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		canceled bool
		want     slog.Level
	}{
		{"client gone", context.Canceled, true, slog.LevelInfo},
		{"canceled inside, client still there", context.Canceled, false, slog.LevelError},
		{"internal", errors.New("disk on fire"), false, slog.LevelError},
		{"not found", node.ErrNotFound, true, slog.LevelInfo},
	} {
		h := &levels{}
		s := &Server{log: slog.New(h)}
		ctx, cancel := context.WithCancel(t.Context())
		if c.canceled {
			cancel()
		}
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v2/me", nil)
		s.fail(httptest.NewRecorder(), r, c.err)
		cancel()
		if len(h.got) != 1 || h.got[0] != c.want {
			t.Errorf("%s: logged at %v, want %v", c.name, h.got, c.want)
		}
	}
}
