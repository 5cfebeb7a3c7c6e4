package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// partnerListCommand is `horenso partner list`: each partner's
// organization, link, shared rooms and lag.
func partnerListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list",
		Short: "List partner nodes: organization, connected, last seen, rooms shared, what they acknowledged and how far behind they are, " +
			"and their use of the daily quota",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.PartnerHealth, error) {
				return c.PartnerHealth(ctx)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), ps, func(w *tabwriter.Writer) {
				if len(ps) == 0 {
					fmt.Fprintln(w, "no partners yet: add one with `horenso partner add ADDRESS` (the address its `horenso run` printed)")
					return
				}
				fmt.Fprintln(w, "NODE_ID\tORG\tCONNECTED\tLAST_SEEN\tROOMS\tACKED\tUNACKED\tBEHIND_IN\tEVENTS_TODAY\tDROPPED")
				for _, p := range ps {
					org := p.Org
					if org == "" {
						org = "-"
					}
					var behind []string
					for _, l := range p.Behind {
						behind = append(behind, fmt.Sprintf("room %d (%d)", l.Alias, l.Unacked))
					}
					if len(behind) == 0 {
						behind = []string{"-"}
					}
					fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%d\t%s\t%d\t%s\t%d\t%d\n", p.ID, org, p.Connected, ago(p.Health.LastSeen, p.Connected),
						p.Rooms, msTime(p.Acked, "-"), p.Unacked, strings.Join(behind, ", "), p.Usage.Events, p.Usage.Dropped)
				}
			})
		},
	}
}

// ago describes when something was last seen.
func ago(t time.Time, now bool) string {
	switch {
	case now:
		return "now"
	case t.IsZero():
		return "not since start"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

// roomVerifyCommand is `horenso room verify ROOM_ID [--peer NODE_ID]`.
func roomVerifyCommand(g *globals) *cobra.Command {
	var peer string
	cmd := &cobra.Command{
		Use:   "verify ROOM_ID",
		Short: "Compare this node's events of a room with each partner's in it (or --peer's), and name any difference",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			cs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]node.RoomCheck, error) {
				return c.VerifyRoom(ctx, room, protocol.NodeID(peer))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), cs, func(w *tabwriter.Writer) { printChecks(w, room, cs) })
		},
	}
	cmd.Flags().StringVar(&peer, "peer", "", "compare with this node only (default: every other node hosting a member)")
	return cmd
}

// roomRepairCommand is `horenso room repair ROOM_ID`.
func roomRepairCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "repair ROOM_ID",
		Short: "Pull what this node lacks of a room from every partner in it, then verify it again",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			cs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]node.RoomCheck, error) {
				return c.RepairRoom(ctx, room)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), cs, func(w *tabwriter.Writer) { printChecks(w, room, cs) })
		},
	}
}

func printChecks(w io.Writer, room uint64, cs []node.RoomCheck) {
	if len(cs) == 0 {
		fmt.Fprintf(w, "room %d: no other node hosts a member; nothing to compare\n", room)
		return
	}
	for _, c := range cs {
		switch c.Result {
		case node.CheckSame:
			fmt.Fprintf(w, "%s\tsame events (%d heads)\n", c.Node, len(c.Compared.Ours))
		case node.CheckDiffer:
			fmt.Fprintf(w, "%s\tDIFFER: this node lacks %d of its heads, it lacks %d of ours\n", c.Node, len(c.Compared.Missing), len(c.Compared.Lacking))
			for _, id := range c.Compared.Missing {
				fmt.Fprintf(w, "\t  missing here: %s\n", id)
			}
			for _, id := range c.Compared.Lacking {
				fmt.Fprintf(w, "\t  missing there: %s\n", id)
			}
		default:
			fmt.Fprintf(w, "%s\tnot compared: %s\n", c.Node, c.Problem)
		}
		if c.Repair != "" {
			fmt.Fprintf(w, "\t  the pull failed: %s\n", c.Repair)
		}
		if c.Hint != "" {
			fmt.Fprintf(w, "\t  %s\n", c.Hint)
		}
	}
}

// printPartnerAdded says whether the link to a partner just added is up,
// and what to do if it is not; self are this node's addresses.
func printPartnerAdded(w io.Writer, p *node.Partner, self []string) {
	if p.Connected {
		fmt.Fprintf(w, "partner %s added; connected: the link is up\n", p.ID)
		return
	}
	fmt.Fprintf(w, "partner %s added, but not connected yet.\n", p.ID)
	fmt.Fprintln(w, "  Its node accepts this one only once its admin adds it too; give them one of this node's addresses:")
	for _, a := range self {
		fmt.Fprintf(w, "    horenso partner add %s\n", a)
	}
	fmt.Fprintln(w, "  If it has, check that its address is reachable from here (firewall, port).")
	fmt.Fprintln(w, "  This node keeps redialing it; `horenso partner list` shows CONNECTED true once the link is up.")
}

// warnNonPartners warns, on stderr, about accounts (handle@nodeid) of
// nodes that are not partners of this one: the room never reaches them
// until the nodes are linked. The change itself has been made.
func warnNonPartners(cmd *cobra.Command, g *globals, accounts []string) {
	var nodes []protocol.NodeID
	for _, a := range accounts {
		if _, id, ok := strings.Cut(a, "@"); ok && id != "" {
			nodes = append(nodes, protocol.NodeID(id))
		}
	}
	if len(nodes) == 0 {
		return
	}
	var st *node.Status
	ps, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (ps []*node.Partner, err error) {
		if st, err = c.Status(ctx); err != nil {
			return nil, err
		}
		return c.Partners(ctx)
	})
	if err != nil {
		return
	}
	known := map[protocol.NodeID]bool{st.NodeID: true}
	for _, p := range ps {
		known[p.ID] = true
	}
	w := cmd.ErrOrStderr()
	for _, id := range nodes {
		if known[id] {
			continue
		}
		known[id] = true // once per node
		fmt.Fprintf(w, "warning: node %s is not a partner of this node: the room will not reach its accounts until the nodes are linked.\n", id)
		fmt.Fprintln(w, "  Ask its admin for its address and run `horenso partner add ADDRESS`; they add this node too:")
		for _, a := range st.Addrs {
			fmt.Fprintf(w, "    horenso partner add %s\n", a)
		}
	}
}
