package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// contactCommand is `horenso contact`: an account's contacts (direct
// chats) and the contact requests it has not answered.
func contactCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "contact", Short: "An account's contacts and contact requests (--as the account)"}
	var as, message string
	printContacts := func(w *tabwriter.Writer, cs []*node.Contact) {
		if len(cs) == 0 {
			fmt.Fprintf(w, "%s has no contacts yet: `horenso contact add ACCOUNT --as %s` asks one\n", as, as)
			return
		}
		fmt.Fprintln(w, "ACCOUNT_ID\tACCOUNT\tNAME\tORG\tROOM_ID")
		for _, c := range cs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\n", c.Alias, c.Account, c.Name, c.Org, c.RoomAlias)
		}
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the account's contacts and their direct chats",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Contact, error) {
				return c.Contacts(ctx, protocol.Handle(as))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), cs, func(w *tabwriter.Writer) { printContacts(w, cs) })
		},
	}
	add := &cobra.Command{
		Use:   "add ACCOUNT",
		Short: "Ask ACCOUNT (a handle, or handle@nodeid of a partner's account) to become a contact: opens your direct chat and posts --message",
		Args:  exactArgs("ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Contact, error) {
				return c.AddContact(ctx, protocol.Handle(as), args[0], message)
			})
			if err != nil {
				return err
			}
			warnNonPartners(cmd, g, args)
			return g.output(cmd.OutOrStdout(), cs, func(w *tabwriter.Writer) { printContacts(w, cs) })
		},
	}
	add.Flags().StringVar(&message, "message", "", "the request's message, posted in the direct chat")
	requests := &cobra.Command{
		Use:   "requests",
		Short: "List the contact requests the account has not answered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.ContactRequest, error) {
				return c.ContactRequests(ctx, protocol.Handle(as))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), rs, func(w *tabwriter.Writer) {
				if len(rs) == 0 {
					fmt.Fprintf(w, "no contact requests for %s\n", as)
					return
				}
				fmt.Fprintln(w, "REQUEST_ID\tFROM\tNAME\tORG\tMESSAGE")
				for _, r := range rs {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.ID, r.From, r.Name, r.Org, r.Message)
				}
			})
		},
	}
	approve := &cobra.Command{
		Use:   "approve REQUEST_ID",
		Short: "Accept a contact request (REQUEST_ID from `horenso contact requests`)",
		Args:  exactArgs("REQUEST_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("REQUEST_ID", args[0])
			if err != nil {
				return err
			}
			ct, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Contact, error) {
				return c.ApproveContact(ctx, protocol.Handle(as), id)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), ct, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%s (%s) is now a contact of %s; your direct chat is room %d\n", ct.Name, ct.Account, as, ct.RoomAlias)
			})
		},
	}
	reject := &cobra.Command{
		Use:   "reject REQUEST_ID",
		Short: "Reject a contact request; the direct chat stays, hidden from the account's contacts",
		Args:  exactArgs("REQUEST_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("REQUEST_ID", args[0])
			if err != nil {
				return err
			}
			err = g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
				return c.RejectContact(ctx, protocol.Handle(as), id)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]uint64{"rejected": id}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "contact request %d rejected\n", id)
			})
		},
	}
	for _, c := range []*cobra.Command{list, add, requests, approve, reject} {
		c.Flags().StringVar(&as, "as", "", "the account (required)")
		c.MarkFlagRequired("as")
	}
	cmd.AddCommand(list, add, requests, approve, reject)
	return cmd
}
