package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/horenso/horenso/node"
)

// backupFlags adds run's continuous backup flags, filling cfg.
func backupFlags(fs *pflag.FlagSet, cfg *node.BackupConfig) {
	fs.StringVar(&cfg.Dir, "backup-dir", "", "write continuous backups (for restore --at) into this directory; off when empty")
	fs.DurationVar(&cfg.Every, "backup-every", node.DefaultBackupEvery, "time between two backup increments: at most this much is lost with the data disk")
	cfg.Keep, cfg.BaseEvery = node.DefaultBackupKeep, node.DefaultBackupBaseEvery
	fs.Var((*days)(&cfg.Keep), "backup-keep", "how far back a restore can go (e.g. 7d, 36h, 1d12h); older backups are deleted")
	fs.Var((*days)(&cfg.BaseEvery), "backup-base-every", "time between two full copies in the backups")
}

// days is a duration flag that also takes whole days: 7d, 1d12h.
type days time.Duration

func (d *days) String() string {
	if v := time.Duration(*d); v > 0 && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return time.Duration(*d).String()
}
func (d *days) Type() string { return "duration" }
func (d *days) Set(s string) error {
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return fmt.Errorf("%q: want a duration such as 7d, 36h or 1d12h", s)
		}
		total, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	if s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 7d, 36h or 1d12h", s)
		}
		total += v
	}
	*d = days(total)
	return nil
}

// absBackupDir makes cfg.Dir absolute, as node.Config wants it.
func absBackupDir(cfg *node.BackupConfig) error {
	if cfg.Dir == "" {
		return nil
	}
	dir, err := filepath.Abs(cfg.Dir)
	cfg.Dir = dir
	return err
}

// restoreAt is `horenso restore --from DIR --at TIME`.
func restoreAt(cmd *cobra.Command, g *globals, from, at string) error {
	when, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return fmt.Errorf("--at %q: want a moment such as 2026-12-03T10:15:00Z (RFC 3339, with its time zone)", at)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := node.RestoreAt(g.data, from, when, log)
	if err != nil {
		return err
	}
	return g.output(cmd.OutOrStdout(), map[string]any{"data_dir": g.data, "restored_from": from, "asked": when, "point": p},
		func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "restored %s into %s\nas it was at\t%s (store version %d; asked for %s)\nfrom\t%s (%d files)\n",
				from, g.data, p.Time.Format(time.RFC3339Nano), p.Version, when.Format(time.RFC3339Nano), p.Chain, p.Increments)
			fmt.Fprintf(w, "next\thorenso run --data %s  (shared rooms catch up from partners before they change)\n", g.data)
		})
}
