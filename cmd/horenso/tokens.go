package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

func tokenCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens"}
	var name, expires string
	var scopes []string
	var rooms []uint
	create := &cobra.Command{
		Use:   "create USER",
		Short: "Create an API token for USER (the X-ChatWorkToken header value); it is shown once",
		Long: "Create an API token for USER (the X-ChatWorkToken header value); it is shown once.\n\n" +
			"Without --scope the token has the full access of USER. With --scope it may make only the\n" +
			"/v2 requests its scopes allow (ChatWork's OAuth scope names), others get 403:\n  " +
			strings.Join(node.Scopes(), "\n  "),
		Args: exactArgs("USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl, err := parseLifetime(expires)
			if err != nil {
				return err
			}
			spec := node.TokenSpec{Name: name, Scopes: scopes, TTL: ttl}
			for _, r := range rooms {
				spec.Rooms = append(spec.Rooms, uint64(r))
			}
			t, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.TokenInfo, error) {
				return c.CreateScopedToken(ctx, protocol.Handle(args[0]), spec)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), t, func(w *tabwriter.Writer) { fmt.Fprintln(w, t.Token) })
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for")
	create.Flags().StringSliceVar(&scopes, "scope", nil, "a scope the token may use (repeat, or separate with commas); none: full access")
	create.Flags().UintSliceVar(&rooms, "rooms", nil, "room_ids its room requests are limited to, e.g. 4,5; none: every room")
	create.Flags().StringVar(&expires, "expires", "", "lifetime, e.g. 30d, 12h or 2w; none: until revoked")

	list := &cobra.Command{
		Use:   "list USER",
		Short: "List USER's API tokens (not web sessions): ID, name, scopes, rooms, expiry, creation and last use",
		Args:  exactArgs("USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.TokenInfo, error) {
				return c.Tokens(ctx, protocol.Handle(args[0]))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), ts, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tNAME\tSCOPES\tROOMS\tEXPIRES\tCREATED\tLAST USED")
				for _, t := range ts {
					sc := "(full access)"
					if len(t.Scopes) > 0 {
						sc = strings.Join(t.Scopes, ",")
					}
					rs := "(all)"
					if len(t.Rooms) > 0 {
						parts := make([]string, len(t.Rooms))
						for i, r := range t.Rooms {
							parts[i] = strconv.FormatUint(r, 10)
						}
						rs = strings.Join(parts, ",")
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, orDash(t.Name), sc, rs,
						msTime(t.Expires, "never"), msTime(t.Created, "-"), msTime(t.LastUsed, "never"))
				}
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke USER ID",
		Short: "Revoke USER's API token with ID (from token list): it stops working at once",
		Args:  exactArgs("USER", "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
				return c.RevokeToken(ctx, protocol.Handle(args[0]), args[1])
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"revoked": args[1]},
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "revoked %s\n", args[1]) })
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// parseLifetime reads a token lifetime: a Go duration (12h, 90m) or a
// whole number of days (30d) or weeks (2w); "" is none.
func parseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit != 0 {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 16)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("--expires %q: want a positive number of days or weeks, e.g. 30d", s)
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want a lifetime such as 30d, 2w or 12h", s)
	}
	return d, nil
}

// msTime formats unix ms in UTC; none for 0.
func msTime(ms int64, none string) string {
	if ms == 0 {
		return none
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
