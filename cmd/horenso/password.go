package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
)

// passwdCommand sets an account's password, read from the terminal or
// stdin: never from a flag, which anyone on the machine could read in ps.
func passwdCommand(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set an account's password (asked on the terminal, or the first line of stdin with --password-stdin); ends its web sessions",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, fromStdin)
			if err != nil {
				return err
			}
			err = g.withNode(cmd, requestTimeout, func(ctx context.Context, c *control.Client) error {
				return c.SetPassword(ctx, protocol.Handle(args[0]), pw)
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"handle": args[0], "result": "password set"}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "password of %s set; its web sessions were ended\n", args[0])
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin (for scripts)")
	return cmd
}

// resetPasswordCommand gives an account a new random password and prints
// it once.
func resetPasswordCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password NAME",
		Short: "Give an account a new random password, shown once, and end all its web sessions",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) (string, error) {
				return c.ResetPassword(ctx, protocol.Handle(args[0]))
			})
			if err != nil {
				return err
			}
			return g.output(cmd.OutOrStdout(), map[string]string{"handle": args[0], "password": pw}, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "new password of %s: %s  (shown only now; its web sessions were ended)\n", args[0], pw)
			})
		},
	}
}

// readPassword reads a new password: the first line of stdin with
// fromStdin, else twice from the terminal without echo.
func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	in := cmd.InOrStdin()
	if fromStdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("stdin is not a terminal: pass --password-stdin to read the password from it")
	}
	pw, err := promptPassword(cmd.Context(), f, cmd.ErrOrStderr(), "New password: ")
	if err != nil {
		return "", err
	}
	again, err := promptPassword(cmd.Context(), f, cmd.ErrOrStderr(), "Repeat it: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

// promptPassword reads a line from terminal f without echo. If ctx ends
// first (Ctrl-C), it restores the terminal's echo and returns ctx's error.
func promptPassword(ctx context.Context, f *os.File, prompt io.Writer, text string) (string, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	fmt.Fprint(prompt, text)
	type result struct {
		pw  []byte
		err error
	}
	// The read cannot be interrupted: on Ctrl-C the goroutine is left
	// blocked on the terminal, and the command returns and the process
	// exits.
	done := make(chan result, 1) // the reader never blocks on it, even if no one waits
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", fmt.Errorf("read the password: %w", r.err)
		}
		return string(r.pw), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", ctx.Err()
	}
}
