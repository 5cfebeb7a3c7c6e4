package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the API's Prometheus instruments.
type httpMetrics struct {
	// latency is by route pattern (the mux's, e.g. "GET
	// /v2/rooms/{room_id}/messages": never a raw path, which would make
	// a series per room), and status code. The live event stream is not
	// in it: streams counts it instead.
	latency *prometheus.HistogramVec
	streams prometheus.Gauge // open /api/events streams
	// streamsCut counts streams cut off for not keeping up (fanout.go).
	streamsCut prometheus.Counter
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "horenso_http_request_duration_seconds",
			Help:    "Time to answer an HTTP API request, by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"route", "code"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "horenso_event_stream_clients",
			Help: "Clients connected to the live event stream (/api/events) now."}),
		streamsCut: prometheus.NewCounter(prometheus.CounterOpts{Name: "horenso_event_stream_cut_total",
			Help: "Live event streams (/api/events) cut off because their client did not keep up."}),
	}
}

// Collector returns the API's Prometheus collector: request latency by
// route, the live stream's clients and the streams cut off. Register it once.
func (s *Server) Collector() prometheus.Collector {
	return collectors{s.metrics.latency, s.metrics.streams, s.metrics.streamsCut}
}

// collectors is several collectors as one.
type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

// streamRoute is the route streams counts rather than latency.
const streamRoute = "GET /api/events"

// observe records a request that was answered: r has been routed, so
// r.Pattern names its route ("" if none matched).
func (m *httpMetrics) observe(r *http.Request, w *statusWriter, start time.Time) {
	route := r.Pattern
	switch route {
	case streamRoute:
		return
	case "":
		route = "unmatched"
	}
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	m.latency.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
}

// statusWriter remembers the status code of an answer. Unwrap lets
// http.ResponseController reach the connection's writer (Flush, write
// deadlines).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
