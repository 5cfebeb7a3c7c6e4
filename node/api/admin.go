package api

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminConfig configures the admin handler. Gatherer is required.
type AdminConfig struct {
	// Gatherer is what GET /metrics serves, usually a
	// *prometheus.Registry holding Node.Collector and Server.Collector.
	Gatherer prometheus.Gatherer
	// Token, if not empty, must come with every request, as
	// "Authorization: Bearer TOKEN" or as the password of HTTP basic
	// authentication (any user name; Prometheus's basic_auth works).
	// Default: none, for a listener on a loopback address only; the
	// caller decides which addresses need one.
	Token string
	// Logger receives errors of the metrics handler. Default: slog.Default().
	Logger *slog.Logger
	// Pprof serves the Go runtime's profiles (net/http/pprof) under
	// /debug/pprof/, behind the same token: heap, CPU, goroutines, to find
	// what holds a running node's memory (docs/OPERATIONS.md, "Memory").
	// Default: off.
	Pprof bool
}

// Admin returns the handler of the admin listener, separate from the API
// so that it can stay on a private address: GET /metrics, the node's
// metrics in the Prometheus text format, and with cfg.Pprof the runtime's
// profiles under /debug/pprof/. Everything else is 404. It is safe for
// concurrent use.
func Admin(cfg AdminConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError), ErrorHandling: promhttp.ContinueOnError}))
	if cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index) // heap, allocs, goroutine, … by name
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if cfg.Token == "" {
		return mux
	}
	want := []byte(cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := "", false
		if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
			got, ok = v, true
		} else if _, p, found := r.BasicAuth(); found {
			got, ok = p, true
		}
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="horenso metrics"`)
			writeErrors(w, http.StatusUnauthorized, "the admin listener needs its token: Authorization: Bearer TOKEN, or basic auth with it as the password")
			return
		}
		mux.ServeHTTP(w, r)
	})
}
