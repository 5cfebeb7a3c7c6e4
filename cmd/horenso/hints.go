package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/horenso/horenso/node"
)

// hints say what to do about an error of a kind, after the error itself.
var hints = []struct {
	err  error
	hint string
}{
	{node.ErrNotFound, "`horenso room list` shows the room IDs, `horenso room list --as USER` the rooms USER is in, `horenso user list` the accounts"},
	{node.ErrDisabled, "`horenso user enable NAME` enables the account again"},
	{node.ErrDiskFull, "free space on the data directory's disk; the node takes changes again by itself"},
	{node.ErrCatchingUp, "the room is catching up with partners after a restore; try again in a moment"},
}

// hint returns what to do about err, or "".
func hint(err error) string {
	for _, h := range hints {
		if errors.Is(err, h.err) {
			return h.hint
		}
	}
	return ""
}

// cutNote tells, after a list of n messages asked for with --limit limit,
// that older ones were left out, and how to see more.
func cutNote(w io.Writer, n, limit int) {
	shown := min(limit, node.MaxPage)
	switch {
	case n < shown:
		return
	case limit >= node.MaxPage:
		fmt.Fprintf(w, "(the newest %d messages, the most one list shows; older ones were left out)\n", n)
	default:
		fmt.Fprintf(w, "(the newest %d messages; older ones were left out: --limit %d shows more)\n", n, min(2*limit, node.MaxPage))
	}
}
