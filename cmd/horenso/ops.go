package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
)

// logFlags are `run`'s logging flags.
type logFlags struct {
	format, level string
}

func (f *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "log-format", "text", "log format: text (logfmt-like key=value) or json (one object a line)")
	cmd.Flags().StringVar(&f.level, "log-level", "info", "least level logged: debug, info, warn or error")
}

// logger returns the logger the flags describe, writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", f.format)
}

// adminFlags are `run`'s flags of the admin listener (Prometheus
// metrics), which is off unless --metrics is given.
type adminFlags struct {
	addr, tokenFile string
	pprof           bool
	token           string // read from tokenFile by check
}

func (f *adminFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "metrics", "",
		"address of the admin listener serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9090 (default: off)")
	cmd.Flags().StringVar(&f.tokenFile, "metrics-token-file", "",
		"file holding the token scrapers must send (Authorization: Bearer, or basic auth password); required unless --metrics is a loopback address")
	cmd.Flags().BoolVar(&f.pprof, "pprof", false,
		"also serve the Go runtime's profiles at /debug/pprof/ on the --metrics listener (e.g. go tool pprof http://ADDR/debug/pprof/heap)")
}

// check reads the token file and refuses a listener off loopback
// without a token.
func (f *adminFlags) check() error {
	if f.addr == "" {
		if f.tokenFile != "" {
			return errors.New("--metrics-token-file needs --metrics ADDRESS")
		}
		if f.pprof {
			return errors.New("--pprof needs --metrics ADDRESS")
		}
		return nil
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return fmt.Errorf("--metrics-token-file: %w", err)
		}
		if f.token = strings.TrimSpace(string(b)); f.token == "" {
			return fmt.Errorf("--metrics-token-file %s is empty: put a long random token in it", f.tokenFile)
		}
	}
	host, _, err := net.SplitHostPort(f.addr)
	if err != nil {
		return fmt.Errorf("--metrics %q: want HOST:PORT, e.g. 127.0.0.1:9090: %w", f.addr, err)
	}
	if f.token == "" && !loopback(host) {
		return fmt.Errorf("--metrics %s is not a loopback address: anyone who reaches it could read the node's metrics; "+
			"give a token with --metrics-token-file FILE (e.g. `head -c 32 /dev/urandom | base64 > FILE`), or listen on 127.0.0.1", f.addr)
	}
	return nil
}

// loopback reports whether host (a listen address's host part) is only
// reachable from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listen opens the admin listener; nil if it is off.
func (f *adminFlags) listen() (net.Listener, error) {
	if f.addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	return ln, nil
}

// serve serves the admin handler on ln (if not nil) in group until ctx
// ends.
func (f *adminFlags) serve(ctx context.Context, group *errgroup.Group, ln net.Listener, n *node.Node, h *api.Server, log *slog.Logger) {
	if ln == nil {
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.Collector(), h.Collector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{Handler: api.Admin(api.AdminConfig{Gatherer: reg, Token: f.token, Logger: log, Pprof: f.pprof}),
		ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	log.Info("admin listener serving metrics", "addr", ln.Addr().String(), "token", f.token != "")
	group.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve metrics: %w", err)
		}
		return nil
	})
	group.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
}
