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

func partnerCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "partner", Short: "Link this node with partner organizations' nodes"}
	add := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Let the node at ADDRESS connect, and dial it; ADDRESS is a multiaddr ending in /p2p/<node ID>, as the partner's `horenso status` prints",
		Args:  exactArgs("ADDRESS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Partner, error) {
				return c.AddPartner(ctx, args[0])
			})
			if err != nil {
				return err
			}
			var self []string
			if !p.Connected {
				if st, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Status, error) {
					return c.Status(ctx)
				}); err == nil {
					self = st.Addrs
				}
			}
			return g.output(cmd.OutOrStdout(), p, func(w *tabwriter.Writer) { printPartnerAdded(w, p, self) })
		},
	}
	list := partnerListCommand(g)
	remove := &cobra.Command{
		Use:   "remove NODE_ID",
		Short: "Stop linking with a partner node and close its connections",
		Args:  exactArgs("NODE_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
				return c.RemovePartner(ctx, protocol.NodeID(args[0]))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"removed": args[0]}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "partner %s removed\n", args[0])
			})
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}

// memberCommand is `horenso room member`: add, re-role or remove members,
// including accounts of partner nodes (handle@nodeid).
func memberCommand(g *globals) *cobra.Command {
	var as string
	var role protocol.Role
	var remove bool
	cmd := &cobra.Command{
		Use:   "member ROOM_ID ACCOUNT",
		Short: "Add ACCOUNT (a handle, or handle@nodeid for a partner's account) to a room with --role, change its role, or --remove it",
		Args:  exactArgs("ROOM_ID", "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			switch {
			case remove:
				role = ""
			case role == "":
				role = protocol.RoleMember
			}
			r, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Room, error) {
				return c.SetMember(ctx, protocol.Handle(as), room, args[1], role)
			})
			if err != nil {
				return err
			}
			if role != "" {
				warnNonPartners(cmd, g, args[1:])
			}
			return g.output(cmd.OutOrStdout(), r, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "room %d %q now has %d members\n", r.Alias, r.Name, len(r.Members))
			})
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "a room admin (required)")
	cmd.Flags().Var((*roleFlag)(&role), "role", "admin, member or readonly (default member)")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the account from the room")
	cmd.MarkFlagRequired("as")
	return cmd
}

type roleFlag protocol.Role

func (r *roleFlag) String() string { return string(*r) }
func (r *roleFlag) Type() string   { return "role" }
func (r *roleFlag) Set(s string) error {
	switch protocol.Role(s) {
	case protocol.RoleAdmin, protocol.RoleMember, protocol.RoleReadonly:
		*r = roleFlag(s)
		return nil
	}
	return fmt.Errorf("role must be admin, member or readonly")
}
