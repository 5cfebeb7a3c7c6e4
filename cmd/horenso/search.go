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

func searchCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "search", Short: "Search as an account, and rebuild the search index"}
	reindex := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the running node's search index from its store (searches use the old index until it is done)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			st, err := ask(cmd, g, 0, func(ctx context.Context, c *control.Client) (node.SearchStatus, error) {
				return c.Reindex(ctx)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), st, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "search index rebuilt in %s: %d documents, %d MiB, %d changes behind\n",
					time.Since(start).Round(time.Millisecond), st.Documents, st.Bytes>>20, st.Lag)
			})
		},
	}
	var as string
	var offset, limit int
	query := &cobra.Command{
		Use:   "query --as HANDLE WORDS...",
		Short: "Search what a local account may read (the web app's search box syntax: from:, to:, in:, before:, after:, has:file, is:task, is:file)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (*node.SearchResult, error) {
				return c.Search(ctx, protocol.Handle(as), strings.Join(args, " "), offset, limit)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), res, func(w *tabwriter.Writer) {
				for _, h := range res.Hits {
					id := ""
					switch {
					case h.File != nil:
						id = fmt.Sprintf("file %d", h.File.ID)
					case h.Message != nil:
						id = fmt.Sprint(h.Message.Alias)
					case h.Task != nil:
						id = fmt.Sprint(h.Task.Alias)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", time.UnixMilli(h.Time).Format(time.DateTime), h.Kind, h.RoomName, id, h.Snippet)
				}
				more := ""
				if !res.TotalExact {
					more = "+" // counted among recent messages only
				}
				fmt.Fprintf(w, "%d%s found", res.Total, more)
				if res.Next != 0 {
					fmt.Fprintf(w, "; next page: --offset %d", res.Next)
				}
				if res.Lag != 0 {
					fmt.Fprintf(w, "; the index is %d changes behind", res.Lag)
				}
				fmt.Fprintln(w)
			})
		},
	}
	query.Flags().StringVar(&as, "as", "", "the local account to search as (required)")
	query.Flags().IntVar(&offset, "offset", 0, "where the page starts (the previous page's next)")
	query.Flags().IntVar(&limit, "limit", 20, "results per page (at most 100)")
	query.MarkFlagRequired("as")
	cmd.AddCommand(reindex, query)
	return cmd
}

// searchStatus prints the search index's line of horenso status.
func searchStatus(w *tabwriter.Writer, s node.SearchStatus) {
	line := fmt.Sprintf("%d documents, %d MiB, %d changes behind the feed", s.Documents, s.Bytes>>20, s.Lag)
	if s.Building {
		line += fmt.Sprintf(", building (%d documents so far)", s.Built)
	}
	if s.Error != "" {
		line += ", last error: " + s.Error
	}
	fmt.Fprintf(w, "search index\t%s\n", line)
}
