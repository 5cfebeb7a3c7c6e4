package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
)

// standbyFlags are run's flags for a standby pair.
type standbyFlags struct {
	secretFile string
	cfg        node.StandbyConfig
}

func (f *standbyFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.cfg.Of, "standby-of", "", "run as a standby of the primary at this HTTP base URL (e.g. http://10.0.0.1:8080): follow it, serve reads, refuse changes")
	fs.StringVar(&f.secretFile, "replication-secret-file", "", "file holding the secret a primary and its standby share (both set it); on a primary it turns on the replication endpoints")
	fs.StringVar(&f.cfg.Self, "advertise-http", "", "this node's HTTP base URL as its primary or standby reaches it (default: http:// and the address --http listens on)")
	fs.BoolVar(&f.cfg.Gone, "standby-gone", false, "start a primary without asking the standby it knows whether it was promoted (the standby is destroyed)")
	fs.DurationVar(&f.cfg.PollEvery, "standby-poll", node.DefaultStandbyPollEvery, "how often a caught-up standby asks its primary for more")
}

// config returns the node.StandbyConfig of the flags, reading the secret.
func (f *standbyFlags) config() (node.StandbyConfig, error) {
	cfg := f.cfg
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return cfg, fmt.Errorf("--replication-secret-file: %w", err)
		}
		if cfg.Secret = strings.TrimSpace(string(b)); len(cfg.Secret) < 16 {
			return cfg, fmt.Errorf("--replication-secret-file: the secret must be at least 16 characters (e.g. openssl rand -hex 32)")
		}
	}
	if cfg.Of != "" && cfg.Secret == "" {
		return cfg, errors.New("--standby-of needs --replication-secret-file, the secret the primary was started with")
	}
	return cfg, nil
}

// runPair is run for a node that may be in a standby pair: it sets a new
// standby's data directory up from its primary, and starts a promoted
// standby again as the primary.
func runPair(ctx context.Context, start func(context.Context) error, cfg *node.StandbyConfig, dir string) error {
	if cfg.Of != "" && !node.Initialized(dir) {
		if err := node.InitStandby(ctx, dir, *cfg); err != nil {
			return err
		}
	}
	for {
		err := start(ctx)
		if !errors.Is(err, node.ErrPromoted) {
			return err
		}
		cfg.Of = "" // promoted: again, as the primary
	}
}

func promoteCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "promote",
		Short: "Make this standby the primary, once the primary is gone (it refuses while the primary answers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			epoch, err := ask(cmd, g, 30*time.Second, func(ctx context.Context, c *control.Client) (uint64, error) {
				return c.Promote(ctx, force)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]any{"epoch": epoch}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "promoted: this node is the primary now (epoch %d); it restarts as one and catches up shared rooms from partners\n", epoch)
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "promote even though the primary answers (make sure it cannot sign: power it off)")
	return cmd
}
