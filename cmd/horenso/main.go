// Command horenso runs a Horenso node and administers a running one.
//
//	horenso init   [--data DIR] [--org NAME]
//	horenso run    [--data DIR] [--http ADDR] [--listen MULTIADDR]
//	horenso status | user ... | token ... | room ... | message ... | task ...
//
// `run` owns the data directory; every other subcommand talks to the
// running node over its control socket (DATA/control.sock).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "horenso:", err)
		if h := hint(err); h != "" {
			fmt.Fprintln(os.Stderr, "  "+h)
		}
		os.Exit(1)
	}
}
