package api

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
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
}

// Admin returns the handler of the admin listener, separate from the API
// so that it can stay on a private address: GET /metrics, the node's
// metrics in the Prometheus text format. Everything else is 404. It is
// safe for concurrent use.
func Admin(cfg AdminConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError), ErrorHandling: promhttp.ContinueOnError}))
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
