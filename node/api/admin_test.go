package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAdminAuth: the admin handler serves /metrics to anyone without a
// token, and with one only to requests that carry it, as a bearer token
// or a basic auth password.
func TestAdminAuth(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "a test counter"})
	c.Inc()
	reg.MustRegister(c)
	tests := []struct {
		name  string
		token string
		auth  func(*http.Request)
		path  string
		want  int
	}{
		{"open", "", func(*http.Request) {}, "/metrics", 200},
		{"open, other path", "", func(*http.Request) {}, "/", 404},
		{"no token sent", "t0k", func(*http.Request) {}, "/metrics", 401},
		{"wrong bearer", "t0k", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, "/metrics", 401},
		{"bearer", "t0k", func(r *http.Request) { r.Header.Set("Authorization", "Bearer t0k") }, "/metrics", 200},
		{"basic", "t0k", func(r *http.Request) { r.SetBasicAuth("prometheus", "t0k") }, "/metrics", 200},
		{"wrong basic", "t0k", func(r *http.Request) { r.SetBasicAuth("prometheus", "t0") }, "/metrics", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Admin(AdminConfig{Gatherer: reg, Token: tt.token})
			r := httptest.NewRequest("GET", tt.path, nil)
			tt.auth(r)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == 200 && !strings.Contains(w.Body.String(), "test_total 1") {
				t.Fatalf("body lacks the counter: %s", w.Body)
			}
		})
	}
}
