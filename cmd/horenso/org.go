package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
)

// defaultOrg is the organization name of a node whose operator gave none.
const defaultOrg = "My Organization"

// orgCommand is `horenso org`: show or rename the organization.
func orgCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "org",
		Short: "Show the organization's name, which partners see on its accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Status, error) {
				return c.Status(ctx)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"org": st.Org}, func(w *tabwriter.Writer) { fmt.Fprintln(w, st.Org) })
		},
	}
	rename := &cobra.Command{
		Use:   "rename NAME",
		Short: "Rename the organization: its accounts, and what partners see of them once the change reaches them",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Status, error) {
				return c.RenameOrg(ctx, args[0])
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"org": st.Org}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "organization renamed to %q; partners see it as the change reaches them\n", st.Org)
			})
		},
	}
	cmd.AddCommand(rename)
	return cmd
}

// firstOrg returns the organization name of a data directory being set
// up: flag if given, else asked on the terminal if stdin is one, else
// defaultOrg, with a note on out that says how to rename it.
func firstOrg(in io.Reader, out io.Writer, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(out, "Organization name, as partners will see it [%s]: ", defaultOrg)
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read the organization name: %w", err)
		}
		if name := strings.TrimSpace(line); name != "" {
			return name, nil
		}
		return defaultOrg, nil
	}
	fmt.Fprintf(out, "Organization name: %q (set it with --org on first run, or later with `horenso org rename NAME`)\n", defaultOrg)
	return defaultOrg, nil
}
