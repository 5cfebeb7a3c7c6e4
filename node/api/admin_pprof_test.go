package api

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAdminPprof: the runtime's profiles are served on the admin handler
// only when asked for, and behind its token like /metrics.
func TestAdminPprof(t *testing.T) {
	tests := []struct {
		name   string
		pprof  bool
		token  string
		bearer string
		want   int
	}{
		{"off", false, "", "", 404},
		{"on", true, "", "", 200},
		{"on, no token sent", true, "t0k", "", 401},
		{"on, token", true, "t0k", "t0k", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Admin(AdminConfig{Gatherer: prometheus.NewRegistry(), Token: tt.token, Pprof: tt.pprof})
			r := httptest.NewRequest("GET", "/debug/pprof/heap", nil)
			if tt.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			// A heap profile is a gzipped protocol buffer.
			if tt.want == 200 && !bytes.HasPrefix(w.Body.Bytes(), []byte{0x1f, 0x8b}) {
				t.Fatalf("body is not a gzipped profile: %.40q", w.Body)
			}
		})
	}
}
