package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// requestTimeout bounds an admin command's requests, but for backups,
// which take as long as the store is large.
const requestTimeout = time.Minute

// withNode connects to the running node's control socket, calls f, and
// closes the connection. timeout bounds the whole call (0: none but
// cmd's context, which ends on Ctrl-C).
func (g *globals) withNode(cmd *cobra.Command, timeout time.Duration, f func(ctx context.Context, c *control.Client) error) error {
	ctx := cmd.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := control.Dial(ctx, g.data)
	if err != nil {
		return err
	}
	defer c.Close()
	return f(ctx, c)
}

// ask calls f with a connection to the running node and returns what it
// returns; see withNode.
func ask[R any](cmd *cobra.Command, g *globals, timeout time.Duration, f func(ctx context.Context, c *control.Client) (R, error)) (R, error) {
	var r R
	err := g.withNode(cmd, timeout, func(ctx context.Context, c *control.Client) (err error) {
		r, err = f(ctx, c)
		return err
	})
	return r, err
}

func statusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running node's ID, organization and counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Status, error) {
				return c.Status(ctx)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), st, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "node ID\t%s\norganization\t%s\ndata\t%s\nprotocol\tv%d\nrunning since\t%s\naccounts\t%d\nrooms\t%d\nevents\t%d\n",
					st.NodeID, st.Org, st.DataDir, st.Version, st.Started.Format(time.RFC3339), st.Accounts, st.Rooms, st.Events)
				for _, a := range st.Addrs {
					fmt.Fprintf(w, "address\t%s\n", a)
				}
				nw := st.Network
				fmt.Fprintf(w, "partners\t%d (%d connected)\n", st.Partners, st.Connected)
				fmt.Fprintf(w, "gossip\t%d received, %d accepted, %d rejected, %d orphaned (%d adopted, %d left to sync), %d dropped\n",
					nw.GossipReceived, nw.GossipAccepted, nw.GossipRejected, nw.GossipOrphaned, nw.GossipAdopted, nw.GossipIgnored,
					nw.GossipDropped+nw.GossipSendDropped+st.OutboxDropped)
				fmt.Fprintf(w, "gossip not shown\t%d soft-failed (author not a member: stored, hidden, not forwarded), %d from nodes not in the room (rejected)\n",
					nw.GossipSoftFailed, nw.GossipNotMember)
				fmt.Fprintf(w, "sync\t%d rounds, %d events repaired, %d misbehaving streams, %d stalled streams, %d rooms refused to this node, %d served to removed nodes up to their removal\n",
					nw.SyncRounds, nw.SyncEvents, nw.SyncMisbehaved, nw.SyncStalled, nw.SyncRefused, nw.SyncServedRemoval)
				q := st.PartnerQuota
				fmt.Fprintf(w, "partner quota\t%s rooms, %s events, %s bytes a day each; dropped over quota: %d events, %d rooms (see horenso partner list)\n",
					limit(q.Rooms), limit(q.Events), limit(q.Bytes), nw.QuotaDroppedEvents, nw.QuotaDroppedRooms)
				fmt.Fprintf(w, "refused\t%d connections, %d subscriptions\n", nw.RefusedConns, nw.RefusedSubscriptions)
				disk := fmt.Sprintf("%d MiB free", st.DiskFree>>20)
				if st.DiskFull {
					disk += ": below the floor, changes are refused until space is freed"
				}
				fmt.Fprintf(w, "disk\t%s\n", disk)
				fmt.Fprintf(w, "equivocations\t%d (events signed at a chain position another event of their node holds: proof kept, see the log)\n", st.Equivocations)
				searchStatus(w, st.Search)
				if r := st.Replication; r != nil && r.Role == "standby" {
					fmt.Fprintf(w, "standby of\t%s: applied primary version %d of %d, as of %s (lag %s, epoch %d)\n",
						r.Of, r.Applied, r.PrimaryVersion, r.AppliedTime.Format(time.RFC3339Nano), r.Lag, r.Epoch)
				} else if r != nil {
					fmt.Fprintf(w, "standby\t%s: last asked %s, has version %d of %d (lag %s, epoch %d)\n",
						r.Standby, r.StandbySeen.Format(time.RFC3339), r.Acked, r.Version, r.Lag, r.Epoch)
				}
				if r := st.Replication; r != nil && r.Error != "" {
					fmt.Fprintf(w, "replication error\t%s\n", r.Error)
				}
				if b := st.Backup; b != nil {
					fmt.Fprintf(w, "backups\t%s: up to %s (version %d, %d files in chain %s), from %s\n", b.Dir,
						b.Last.Format(time.RFC3339), b.Version, b.Increments, b.Chain, b.Oldest.Format(time.RFC3339))
					if b.Error != "" {
						fmt.Fprintf(w, "backup error\t%s\n", b.Error)
					}
				}
				fmt.Fprintf(w, "hosting refused\t%d rooms partners offered naming none of this node's accounts, %d ghost accounts (of this node, named by partners, not existing)\n",
					st.Hosting.RoomsRefused, st.Hosting.GhostAccounts)
				f := st.Files
				fmt.Fprintf(w, "files\t%d served to partners (%d MiB), %d refused; %d fetched, %d failed, %d refused as corrupt; kept in %s\n",
					f.Served, f.Sent>>20, f.Refused, f.Fetched, f.Failed, f.Corrupt, f.Store)
			})
		},
	}
}

// limit prints a quota, negative meaning none.
func limit(n int64) string {
	if n < 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func userCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage the node's accounts"}
	var a node.NewAccount
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an account; NAME is its handle (a-z 0-9 . _ -). Prints a generated password unless --password is given",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.Handle = protocol.Handle(args[0])
			generated := a.Password == ""
			if generated {
				a.Password = node.GeneratePassword()
			}
			acc, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Account, error) {
				return c.AddUser(ctx, a)
			})
			if err != nil {
				return err
			}
			result := map[string]any{"account": acc}
			if generated {
				result["password"] = a.Password
			}
			return g.output(cmd.OutOrStdout(), result, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "added %s (account_id %d, %s)\n", acc.Handle, acc.Alias, acc.ID)
				if generated {
					fmt.Fprintf(w, "password: %s  (shown only now)\n", a.Password)
				}
			})
		},
	}
	add.Flags().StringVar(&a.Email, "email", "", "email address, also usable to log in")
	add.Flags().StringVar(&a.Name, "display-name", "", "display name (default: NAME)")
	add.Flags().StringVar(&a.Password, "password", "", "password (default: generate one)")
	add.Flags().BoolVar(&a.Admin, "admin", false, "may administer the node")
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			accs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Account, error) {
				return c.Users(ctx)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), accs, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ACCOUNT_ID\tHANDLE\tNAME\tEMAIL\tADMIN\tDISABLED")
				for _, a := range accs {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%v\t%v\n", a.Alias, a.Handle, a.Name, a.Email, a.Admin, a.Disabled)
				}
			})
		},
	}
	toggle := func(use string, disable bool, short, done string) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: exactArgs("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				err := g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
					return c.SetUserDisabled(ctx, protocol.Handle(args[0]), disable)
				})
				if err != nil {
					return err
				}
				return g.output(cmd.OutOrStdout(), map[string]string{"handle": args[0], "result": done},
					func(w *tabwriter.Writer) { fmt.Fprintf(w, "%s %s\n", done, args[0]) })
			},
		}
	}
	cmd.AddCommand(add, userImportCommand(g), list, passwdCommand(g), resetPasswordCommand(g),
		toggle("disable", true, "Disable an account: its logins and API tokens stop working at once", "disabled"),
		toggle("enable", false, "Re-enable a disabled account (its old tokens stay revoked)", "enabled"))
	return cmd
}

func roomCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "room", Short: "List and create rooms"}
	var as string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every room on the node, or with --as the rooms of one account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rooms, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Room, error) {
				return c.Rooms(ctx, protocol.Handle(as))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), rooms, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ROOM_ID\tTYPE\tNAME\tMEMBERS\tMESSAGES\tTASKS\tUNREAD\tMENTIONS")
				for _, r := range rooms {
					fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.Alias, r.Kind, r.Name, r.MemberCount, r.Messages, r.Tasks, r.Unread, r.Mentions)
				}
			})
		},
	}
	list.Flags().StringVar(&as, "as", "", "list this account's rooms, with its unread and mention counts")
	var creator, description, members string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a group chat with --as as its admin",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Room, error) {
				return c.CreateRoom(ctx, protocol.Handle(creator), args[0], description, splitList(members))
			})
			if err != nil {
				return err
			}
			warnNonPartners(cmd, g, splitList(members))
			return g.output(cmd.OutOrStdout(), r, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "created room %d %q (%s)\n", r.Alias, r.Name, r.ID)
			})
		},
	}
	create.Flags().StringVar(&creator, "as", "", "the creating account (required)")
	create.Flags().StringVar(&members, "members", "", "comma-separated handles or account IDs to add as members")
	create.Flags().StringVar(&description, "description", "", "room description")
	create.MarkFlagRequired("as")
	cmd.AddCommand(list, create, memberCommand(g), roomStatusCommand(g), roomHistoryCommand(g),
		roomVerifyCommand(g), roomRepairCommand(g))
	return cmd
}

// roomStatusCommand prints a room's delivery receipts: per other member
// node, what it has acknowledged of this node's events.
func roomStatusCommand(g *globals) *cobra.Command {
	var as string
	status := &cobra.Command{
		Use:   "status ROOM_ID",
		Short: "Show, per member node of a room, what it has acknowledged of this node's events and what it has not",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			rs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Receipts, error) {
				return c.RoomStatus(ctx, protocol.Handle(as), room)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), rs, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "this node's events\t%d\n", rs.Seq)
				fmt.Fprintln(w, "NODE\tACKNOWLEDGED UP TO\tAT\tNOT ACKNOWLEDGED\tNEWEST PENDING")
				for _, n := range rs.Nodes {
					at := "-"
					if n.AckedTime != 0 {
						at = time.UnixMilli(n.AckedTime).Format(time.RFC3339)
					}
					var pending []string
					for _, p := range n.Pending {
						if p.Message != 0 {
							pending = append(pending, fmt.Sprintf("message %d", p.Message))
						} else {
							pending = append(pending, fmt.Sprintf("%s %s", p.Type, p.ID.String()[:8]))
						}
					}
					fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\n", n.Node, n.AckedSeq, at, n.Unacked, strings.Join(pending, ", "))
				}
			})
		},
	}
	status.Flags().StringVar(&as, "as", "", "see it as this local member of the room (default: as the node's operator)")
	return status
}

// roomHistoryCommand shows a room's history settings and, given
// --visibility or --retention-days, changes them first.
func roomHistoryCommand(g *globals) *cobra.Command {
	var as, visibility string
	var days uint32
	history := &cobra.Command{
		Use:   "history ROOM_ID",
		Short: "Show or set who sees a room's history and how long its messages are kept (--as an admin to set)",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			var vis *protocol.HistoryVisibility
			if visibility != "" {
				v := protocol.HistoryVisibility(visibility)
				vis = &v
			}
			var retention *uint32
			if cmd.Flags().Changed("retention-days") {
				retention = &days
			}
			r, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Room, error) {
				return c.RoomHistory(ctx, protocol.Handle(as), room, vis, retention)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), r.History, func(w *tabwriter.Writer) {
				if r.History == nil {
					fmt.Fprintln(w, "this room was made by an older Horenso and has no history settings")
					return
				}
				kept := "forever"
				if r.History.RetentionDays > 0 {
					kept = fmt.Sprintf("%d days", r.History.RetentionDays)
				}
				fmt.Fprintf(w, "visibility\t%s\nmessages kept\t%s\n", r.History.Visibility, kept)
			})
		},
	}
	history.Flags().StringVar(&as, "as", "", "a local member of the room, an admin to change the settings (required)")
	history.Flags().StringVar(&visibility, "visibility", "", `who sees messages: "everything", or "joined": members see only those posted while they were members`)
	history.Flags().Uint32Var(&days, "retention-days", 0, "drop messages' text this many days after they were posted, on every member node (0: keep forever)")
	history.MarkFlagRequired("as")
	return history
}

func messageCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "message", Short: "Post and read messages as an account"}
	var as string
	var limit int
	post := &cobra.Command{
		Use:   "post ROOM_ID TEXT",
		Short: "Post TEXT (ChatWork notation) to a room",
		Args:  exactArgs("ROOM_ID", "TEXT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			m, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Message, error) {
				return c.Post(ctx, protocol.Handle(as), room, args[1])
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), m, func(w *tabwriter.Writer) { fmt.Fprintf(w, "posted message %d\n", m.Alias) })
		},
	}
	list := &cobra.Command{
		Use:   "list ROOM_ID",
		Short: "Show a room's latest messages",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			ms, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Message, error) {
				return c.Messages(ctx, protocol.Handle(as), room, limit)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), ms, func(w *tabwriter.Writer) {
				for _, m := range ms {
					body := m.Body
					if m.Deleted {
						body = "(deleted)"
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", m.Alias, time.UnixMilli(m.Time).Format("2006-01-02 15:04"), m.Author.Handle(), body)
				}
				cutNote(w, len(ms), limit)
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 20, "how many messages")
	for _, c := range []*cobra.Command{post, list} {
		c.Flags().StringVar(&as, "as", "", "the account to act as (required)")
		c.MarkFlagRequired("as")
	}
	cmd.AddCommand(post, list)
	return cmd
}

func taskCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "Create, complete and list tasks as an account"}
	var as, to, due, status string
	create := &cobra.Command{
		Use:   "create ROOM_ID TEXT",
		Short: "Create a task in a room, assigned with --to",
		Args:  exactArgs("ROOM_ID", "TEXT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			var dueUnix int64
			if due != "" {
				t, err := time.Parse(time.RFC3339, due)
				if err != nil {
					return fmt.Errorf("--due: want a time like 2026-12-01T17:00:00+09:00: %w", err)
				}
				dueUnix = t.Unix()
			}
			t, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Task, error) {
				return c.CreateTask(ctx, protocol.Handle(as), room, args[1], splitList(to), dueUnix)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), t, func(w *tabwriter.Writer) { fmt.Fprintf(w, "created task %d\n", t.Alias) })
		},
	}
	create.Flags().StringVar(&to, "to", "", "comma-separated assignees: handles or account IDs (required)")
	create.Flags().StringVar(&due, "due", "", "due time, RFC 3339")
	create.MarkFlagRequired("to")
	setStatus := func(use string, st protocol.TaskStatus) *cobra.Command {
		return &cobra.Command{
			Use: use + " TASK_ID", Short: "Mark a task " + string(st), Args: exactArgs("TASK_ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := parseID("TASK_ID", args[0])
				if err != nil {
					return err
				}
				t, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.Task, error) {
					return c.SetTaskStatus(ctx, protocol.Handle(as), id, st)
				})
				if err != nil {
					return err
				}
				return g.output(cmd.OutOrStdout(), t, func(w *tabwriter.Writer) { fmt.Fprintf(w, "task %d is %s\n", t.Alias, t.Status) })
			},
		}
	}
	list := &cobra.Command{
		Use:   "list ROOM_ID",
		Short: "List a room's tasks",
		Args:  exactArgs("ROOM_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			room, err := parseID("ROOM_ID", args[0])
			if err != nil {
				return err
			}
			ts, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Task, error) {
				return c.Tasks(ctx, protocol.Handle(as), room, protocol.TaskStatus(status))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), ts, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TASK_ID\tSTATUS\tASSIGNEES\tBODY")
				for _, t := range ts {
					var names []string
					for _, a := range t.Assignees {
						names = append(names, string(a.Handle()))
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", t.Alias, t.Status, strings.Join(names, ","), t.Body)
				}
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only open or done tasks")
	cmds := []*cobra.Command{create, setStatus("done", protocol.TaskDone), setStatus("open", protocol.TaskOpen), list}
	for _, c := range cmds {
		c.Flags().StringVar(&as, "as", "", "the account to act as (required)")
		c.MarkFlagRequired("as")
	}
	cmd.AddCommand(cmds...)
	return cmd
}

func parseID(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s must be a positive number, not %q", what, s)
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func backupCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a backup of the running node (identity, settings, store) to FILE",
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			size, err := ask(cmd, g, 0, func(ctx context.Context, c *control.Client) (int64, error) {
				return c.Backup(ctx, path)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]any{"path": path, "bytes": size}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "wrote %s (%d bytes)\n", path, size)
			})
		},
	}
}

func restoreCommand(g *globals) *cobra.Command {
	var from, at string
	cmd := &cobra.Command{
		Use:   "restore {FILE | --from DIR --at TIME}",
		Short: "Create the data directory (--data, must be new) from a backup, or from continuous backups as it was at a moment; then `horenso run` it",
		Args: func(cmd *cobra.Command, args []string) error {
			if from != "" || at != "" {
				if from == "" || at == "" || len(args) > 0 {
					return fmt.Errorf("%s: a point-in-time restore takes --from DIR and --at TIME, and no FILE", cmd.CommandPath())
				}
				return nil
			}
			return exactArgs("FILE")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if from != "" {
				return restoreAt(cmd, g, from, at)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			if err := node.Restore(g.data, args[0], log); err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"data_dir": g.data, "restored_from": args[0]},
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "restored %s into %s\n", args[0], g.data) })
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "a continuous backup directory (horenso run --backup-dir)")
	cmd.Flags().StringVar(&at, "at", "", "the moment to restore, e.g. 2026-12-03T10:15:00Z")
	return cmd
}
