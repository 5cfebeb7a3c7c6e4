package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// webhookCommand is `horenso webhook`: an admin sets up ChatWork-style
// webhooks for an account (a bot), as the account could in the web app.
func webhookCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Set up an account's webhooks (ChatWork's: the node POSTs events, signed, to a URL)"}
	var as, url, events, rooms string
	add := &cobra.Command{
		Use:   "add",
		Short: "Create a webhook of --as for --events (" + strings.Join(node.WebhookEvents, ", ") + ") sent to --url; prints its token once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var roomIDs []uint64
			for _, r := range splitList(rooms) {
				id, err := parseID("a room ID", r)
				if err != nil {
					return err
				}
				roomIDs = append(roomIDs, id)
			}
			w, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*control.NewWebhook, error) {
				return c.AddWebhook(ctx, protocol.Handle(as), url, splitList(events), roomIDs)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), w, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "webhook %d of %s: %s to %s\n", w.ID, w.Account, strings.Join(w.Events, ","), w.URL)
				fmt.Fprintf(tw, "token (shown only now; receivers check X-ChatWorkWebhookSignature with it):\n%s\n", w.Token)
			})
		},
	}
	add.Flags().StringVar(&url, "url", "", "the receiver's http or https URL (required)")
	add.Flags().StringVar(&events, "events", node.WebhookMessageCreated, "comma-separated event types: "+strings.Join(node.WebhookEvents, ", "))
	add.Flags().StringVar(&rooms, "rooms", "", "comma-separated room IDs to limit it to (default: every room of the account)")
	add.MarkFlagRequired("url")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the webhooks of --as, whether enabled (and why not), their failures and queued deliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Webhook, error) {
				return c.Webhooks(ctx, protocol.Handle(as))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), hs, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tEVENTS\tURL\tENABLED\tFAILURES\tQUEUED\tLAST_SUCCESS\tNOTE")
				for _, h := range hs {
					last := "-"
					if h.LastSuccess > 0 {
						last = time.UnixMilli(h.LastSuccess).Format(time.DateTime)
					}
					note := h.DisabledReason
					if note == "" {
						note = h.LastError
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%v\t%d\t%d\t%s\t%s\n", h.ID, strings.Join(h.Events, ","), h.URL, h.Enabled,
						h.Failures, h.Queued, last, note)
				}
			})
		},
	}
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Delete a webhook of --as; what it has queued is dropped",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			if err := g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
				return c.RemoveWebhook(ctx, protocol.Handle(as), id)
			}); err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]uint64{"removed": id}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "webhook %d removed\n", id)
			})
		},
	}
	enable := func(use string, on bool, short string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  exactArgs("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := parseID("ID", args[0])
				if err != nil {
					return err
				}
				h, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Webhook, error) {
					return c.SetWebhookEnabled(ctx, protocol.Handle(as), id, on)
				})
				if err != nil {
					return err
				}
				return g.output(cmd.OutOrStdout(), h, func(w *tabwriter.Writer) {
					fmt.Fprintf(w, "webhook %d enabled: %v\n", h.ID, h.Enabled)
				})
			},
		}
	}
	logCmd := &cobra.Command{
		Use:   "log ID",
		Short: "Show the newest delivery attempts of a webhook of --as",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			log, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]node.WebhookAttempt, error) {
				return c.WebhookLog(ctx, protocol.Handle(as), id)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), log, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TIME\tDELIVERY\tEVENT\tATTEMPT\tOUTCOME\tSTATUS\tMS\tERROR")
				for _, a := range log {
					fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%d\t%d\t%s\n", time.UnixMilli(a.Time).Format(time.DateTime), a.Delivery,
						a.Event, a.Attempt, a.Outcome, a.Status, a.Duration, a.Error)
				}
			})
		},
	}
	cmd.PersistentFlags().StringVar(&as, "as", "", "the account the webhooks belong to (required)")
	cmd.MarkPersistentFlagRequired("as")
	cmd.AddCommand(add, list, remove,
		enable("enable", true, "Enable a webhook of --as again after the node disabled it (events meanwhile are not sent)"),
		enable("disable", false, "Disable a webhook of --as; what it has queued is dropped"), logCmd)
	return cmd
}
