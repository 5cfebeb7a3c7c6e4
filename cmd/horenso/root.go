package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// globals are the flags every subcommand shares.
type globals struct {
	data string
	json bool
}

func defaultDataDir() string {
	if d := os.Getenv("HORENSO_DATA"); d != "" {
		return d
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "share", "horenso")
	}
	return "horenso-data"
}

func rootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "horenso",
		Short:         "Horenso: self-hosted business chat, federated between organizations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.data, "data", defaultDataDir(), "data directory (default from $HORENSO_DATA)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print results as JSON")
	root.AddCommand(initCommand(g), runCommand(g), statusCommand(g), userCommand(g), tokenCommand(g), partnerCommand(g),
		roomCommand(g), messageCommand(g), taskCommand(g), backupCommand(g), restoreCommand(g), webhookCommand(g),
		searchCommand(g), promoteCommand(g))
	root.AddCommand(orgCommand(g), contactCommand(g))
	return root
}

// output prints v as JSON with --json, or calls human otherwise.
func (g *globals) output(w io.Writer, v any, human func(w *tabwriter.Writer)) error {
	if g.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	human(tw)
	return tw.Flush()
}

// exactArgs is cobra.ExactArgs with the names of the arguments in the error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s needs %d argument(s): %v (see --help)", cmd.CommandPath(), len(names), names)
		}
		return nil
	}
}
