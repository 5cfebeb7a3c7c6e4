package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/api"
	"github.com/horenso/horenso/node/control"
)

func initCommand(g *globals) *cobra.Command {
	var org string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node's identity key, settings and store in the data directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := node.Init(g.data, org)
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]any{"node_id": id, "data_dir": g.data, "org": org},
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "initialized %s\nnode ID (peer ID): %s\n", g.data, id) })
		},
	}
	cmd.Flags().StringVar(&org, "org", "My Organization", "the organization's display name")
	return cmd
}

func runCommand(g *globals) *cobra.Command {
	var httpAddr, org string
	var debug bool
	var logs logFlags
	var admin adminFlags
	var minFreeMiB, partnerMiB, fileMiB, quotaMiB, eagerKiB, partnerFileMiB int64
	var partnerFileTypes []string
	var noPartnerFiles bool
	var nodeCfg node.Config
	var apiCfg api.Config
	var pair standbyFlags
	var s3 s3Flags
	var mem memoryFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the node (initializing the data directory on first run) until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if debug {
				logs.level = "debug"
			}
			log, err := logs.logger(os.Stderr)
			if err != nil {
				return err
			}
			if err := admin.check(); err != nil {
				return err
			}
			if err := mem.apply(&nodeCfg.Memory, log); err != nil {
				return err
			}
			nodeCfg.DataDir, nodeCfg.Logger, apiCfg.Logger = g.data, log, log
			if nodeCfg.MinFreeDisk = minFreeMiB << 20; minFreeMiB == 0 {
				nodeCfg.MinFreeDisk = -1 // 0 MiB: not watched
			}
			if nodeCfg.PartnerBytesPerDay = partnerMiB << 20; partnerMiB < 0 {
				nodeCfg.PartnerBytesPerDay = -1
			}
			nodeCfg.MaxFileSize = fileMiB << 20
			apiCfg.MaxUploadBytes = nodeCfg.MaxFileSize + 64<<10 // the form around the file
			if nodeCfg.AccountQuota = quotaMiB << 20; quotaMiB < 0 {
				nodeCfg.AccountQuota = -1
			}
			if nodeCfg.EagerFetchMax = eagerKiB << 10; eagerKiB < 0 {
				nodeCfg.EagerFetchMax = -1
			}
			nodeCfg.PartnerFiles = node.FilePolicy{Deny: noPartnerFiles, MaxSize: partnerFileMiB << 20, Types: partnerFileTypes}
			if nodeCfg.Blobs, err = s3.config(); err != nil {
				return err
			}
			if err := absBackupDir(&nodeCfg.Backup); err != nil {
				return err
			}
			if !node.Initialized(g.data) {
				if org, err = firstOrg(cmd.InOrStdin(), cmd.OutOrStdout(), org); err != nil {
					return err
				}
			}
			if nodeCfg.Standby, err = pair.config(); err != nil {
				return err
			}
			return runPair(cmd.Context(), func(ctx context.Context) error {
				ln, err := net.Listen("tcp", httpAddr)
				if err != nil {
					return fmt.Errorf("listen for HTTP: %w", err)
				}
				httpAddr = ln.Addr().String() // a promoted standby starts again on the same port
				if nodeCfg.Standby.Self == "" {
					nodeCfg.Standby.Self = "http://" + httpAddr
				}
				return run(ctx, nodeCfg, org, ln, apiCfg, admin, cmd.OutOrStdout())
			}, &nodeCfg.Standby, g.data)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8080", "address of the HTTP API and web app")
	cmd.Flags().StringSliceVar(&nodeCfg.Listen, "listen", []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"},
		"libp2p addresses (comma-separated multiaddrs) partner nodes connect to")
	cmd.Flags().StringVar(&org, "org", "", "the organization's display name, used on first run (default: asked on a terminal, else \""+defaultOrg+"\"; rename it later with horenso org rename)")
	cmd.Flags().BoolVar(&debug, "debug", false, "log at debug level (same as --log-level debug)")
	logs.register(cmd)
	admin.register(cmd)
	cmd.Flags().Int64Var(&minFreeMiB, "min-free-disk", node.DefaultMinFreeDisk>>20,
		"MiB the data directory's disk must keep free; below it the node refuses changes and keeps serving reads (negative: not watched)")
	cmd.Flags().IntVar(&apiCfg.RateLimit, "rate-limit", api.DefaultRateLimit, "API requests per token per --rate-window (negative: no limit)")
	cmd.Flags().DurationVar(&apiCfg.RateWindow, "rate-window", api.DefaultRateWindow, "the API rate limit's window")
	cmd.Flags().IntVar(&apiCfg.MaxConns, "max-conns", api.DefaultMaxConns, "open HTTP connections at most; more wait to be accepted")
	cmd.Flags().IntVar(&apiCfg.MaxConnsPerAddr, "max-conns-per-addr", api.DefaultMaxConnsPerAddr,
		"open HTTP connections from one client address at most; raise it behind a reverse proxy")
	cmd.Flags().StringVar(&apiCfg.PublicURL, "public-url", "", "base URL of invitation links (default: the URL each request was made to)")
	cmd.Flags().DurationVar(&nodeCfg.SessionIdle, "session-idle", node.DefaultSessionIdle, "end a web session unused for this long")
	cmd.Flags().Int64Var(&nodeCfg.PartnerRoomsPerDay, "partner-rooms-per-day", 1_000,
		"rooms this node holds nothing of that one partner may have it pull per day (negative: no limit)")
	cmd.Flags().Int64Var(&nodeCfg.PartnerEventsPerDay, "partner-events-per-day", 1_000_000,
		"events new to this node that one partner may send per day; over it, they are dropped and counted (negative: no limit)")
	cmd.Flags().Int64Var(&partnerMiB, "partner-mib-per-day", 4<<10,
		"MiB of events new to this node that one partner may send per day (negative: no limit)")
	cmd.Flags().DurationVar(&nodeCfg.SyncTimeout, "sync-timeout", 30*time.Second,
		"how long a partner may take to send, or to read, one frame of a sync stream before the stream is reset")
	cmd.Flags().DurationVar(&nodeCfg.GossipSeenTTL, "gossip-seen-ttl", node.DefaultGossipSeenTTL,
		"how long gossip remembers the events it has seen, to drop copies unchecked; its memory grows with the event rate times this")
	cmd.Flags().Int64Var(&fileMiB, "max-file-mib", node.DefaultMaxFileSize>>20, "MiB one uploaded file may have (ChatWork's API: 5)")
	cmd.Flags().Int64Var(&quotaMiB, "account-quota-mib", node.DefaultAccountQuota>>20,
		"MiB of files one account may have posted that still show (negative: no quota)")
	cmd.Flags().Int64Var(&eagerKiB, "eager-fetch-kib", node.DefaultEagerFetchMax>>10,
		"partners' files up to this many KiB are fetched as soon as they are posted, larger ones on first download (negative: all on download)")
	cmd.Flags().BoolVar(&noPartnerFiles, "no-partner-files", false, "refuse files in rooms shared with other organizations")
	cmd.Flags().Int64Var(&partnerFileMiB, "partner-file-max-mib", 0, "MiB one file may have in rooms shared with other organizations (0: --max-file-mib)")
	cmd.Flags().StringSliceVar(&partnerFileTypes, "partner-file-types", nil,
		`media types allowed in rooms shared with other organizations, e.g. "image/*,application/pdf" (default: all)`)
	backupFlags(cmd.Flags(), &nodeCfg.Backup)
	s3.register(cmd.Flags())
	pair.add(cmd.Flags())
	mem.add(cmd.Flags())
	cmd.Flags().DurationVar(&nodeCfg.SessionMax, "session-max", node.DefaultSessionMax, "end a web session this long after login, however much it is used")
	cmd.Flags().BoolVar(&nodeCfg.Webhooks.AllowPrivate, "webhook-allow-private", false,
		"let webhook URLs reach loopback, private and link-local addresses (refused by default, against SSRF)")
	cmd.Flags().DurationVar(&nodeCfg.Webhooks.Timeout, "webhook-timeout", node.DefaultWebhookTimeout, "bound on each webhook request")
	cmd.Flags().DurationVar(&nodeCfg.Webhooks.Deadline, "webhook-deadline", node.DefaultWebhookDeadline,
		"how long a webhook delivery is retried; one still failing then is dropped and its webhook disabled")
	return cmd
}

func run(ctx context.Context, nodeCfg node.Config, org string, ln net.Listener, apiCfg api.Config, admin adminFlags, out interface{ Write([]byte) (int, error) }) error {
	defer ln.Close()
	dir, log := nodeCfg.DataDir, nodeCfg.Logger
	if !node.Initialized(dir) {
		id, err := node.Init(dir, org)
		if err != nil {
			return err
		}
		log.Info("initialized data directory", "dir", dir, "node_id", id)
	}
	n, err := node.New(nodeCfg)
	if err != nil {
		return err
	}
	defer n.Close()
	if nodeCfg.Standby.Of == "" { // a standby's accounts are its primary's
		if err := firstAdmin(ctx, n, out); err != nil {
			return err
		}
	}
	adminLn, err := admin.listen()
	if err != nil {
		ln.Close()
		return err
	}
	handler := api.New(n, apiCfg)
	srv := handler.HTTPServer()
	fmt.Fprintf(out, "Horenso node %s (%s)\n  data:  %s\n  HTTP:  http://%s/\n", n.ID(), n.Org(), dir, ln.Addr())
	if adminLn != nil {
		fmt.Fprintf(out, "  metrics: http://%s/metrics\n", adminLn.Addr())
	}
	log.Info("node running", "node_id", n.ID(), "http", ln.Addr().String())
	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error { return n.Run(gctx) })
	group.Go(func() error { return control.Serve(gctx, n, control.SocketPath(dir), log) })
	group.Go(func() error {
		select {
		case <-n.Ready():
			fmt.Fprintf(out, "  partners add this node with: horenso partner add %s\n", strings.Join(n.Addrs(), " | "))
		case <-gctx.Done():
		}
		return nil
	})
	admin.serve(gctx, group, adminLn, n, handler, log)
	group.Go(func() error {
		if err := srv.Serve(handler.Listener(ln)); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve HTTP: %w", err)
		}
		return nil
	})
	group.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	err = group.Wait()
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		log.Info("node stopped cleanly")
	}
	return err
}

// firstAdmin creates the node's first account, an admin, when it has
// none, and prints its password: the only time it is shown.
func firstAdmin(ctx context.Context, n *node.Node, out interface{ Write([]byte) (int, error) }) error {
	accounts, err := n.Accounts(ctx)
	if err != nil || len(accounts) > 0 {
		return err
	}
	password := node.GeneratePassword()
	if _, err := n.CreateAccount(ctx, node.NewAccount{Handle: "admin", Name: "Administrator", Password: password, Admin: true}); err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	fmt.Fprintf(out, "First run: created the admin account.\n  login:    admin\n  password: %s\n  (shown only now; add people with `horenso user add`)\n", password)
	return nil
}
