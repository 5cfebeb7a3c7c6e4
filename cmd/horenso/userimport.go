package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/node/control"
	"github.com/horenso/horenso/protocol"
	"github.com/spf13/cobra"
)

// importColumns are the columns a user import file may have; handle is
// the one it must have.
var importColumns = []string{"handle", "name", "email", "password", "admin"}

// importRow is an account to add, from line Line of the file.
type importRow struct {
	Line    int
	Account node.NewAccount
}

// importResult is what became of one row.
type importResult struct {
	Line      int             `json:"line"`
	Handle    protocol.Handle `json:"handle"`
	AccountID uint64          `json:"account_id,omitempty"`
	Email     string          `json:"email,omitempty"`
	Password  string          `json:"password,omitempty"` // generated: shown only now
	Skipped   bool            `json:"skipped,omitempty"`  // the handle exists (--skip-existing)
	Error     string          `json:"error,omitempty"`
}

func userImportCommand(g *globals) *cobra.Command {
	var parallel int
	var skipExisting bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Add the accounts a CSV file lists (- for stdin); prints them as CSV with the passwords it generated",
		Long: `Add the accounts a CSV file lists, one per row, after a header row that names the columns:
handle (required: a-z 0-9 . _ -), name (display name), email, password, admin (true or false).
An account without a password gets a generated one. The whole file is checked before any account is
added. It prints, as CSV, each account as it is added: handle, account_id, email, and the generated
password, shown only now (with --json, a JSON object per line for every row). A row the node refuses (an
email already taken, say) is told on stderr and the others go on; the command then exits with status 1. With --skip-existing, rows whose handle exists already
are left out, so an import stopped part-way can be run again.

Most of the time goes into hashing the passwords: about 20 accounts a second on 2 cores.`,
		Example: `  horenso user import people.csv > passwords.csv`,
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := io.Reader(cmd.InOrStdin())
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			rows, err := readImport(in)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			out := newImportOutput(cmd.OutOrStdout(), cmd.ErrOrStderr(), g.json)
			err = importAccounts(cmd, g, rows, max(1, parallel), skipExisting, out.emit)
			fmt.Fprintf(cmd.ErrOrStderr(), "%d added, %d skipped (they exist), %d refused\n", out.added, out.skipped, out.refused)
			if err != nil {
				return err
			}
			if out.refused > 0 {
				return fmt.Errorf("%d of %d rows refused", out.refused, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&parallel, "parallel", 4, "accounts added at once (the node hashes a few passwords at a time in any case)")
	cmd.Flags().BoolVar(&skipExisting, "skip-existing", false, "leave out rows whose handle exists already")
	return cmd
}

// readImport reads the rows of a user import file (UTF-8, with or without
// a byte order mark), and refuses the file
// if a column, a handle or an admin value is bad, or a handle is listed
// twice, naming the line.
func readImport(in io.Reader) ([]importRow, error) {
	b := bufio.NewReader(in)
	if bom, err := b.Peek(3); err == nil && string(bom) == "\ufeff" {
		b.Discard(3) // a spreadsheet's UTF-8 export starts with one
	}
	r := csv.NewReader(b)
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty: want a header row naming the columns, then a row per account")
	}
	if err != nil {
		return nil, err
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(importColumns, h) {
			return nil, fmt.Errorf("line 1: unknown column %q (columns: %s)", h, strings.Join(importColumns, ", "))
		}
		if _, dup := cols[h]; dup {
			return nil, fmt.Errorf("line 1: column %q twice", h)
		}
		cols[h] = i
	}
	if _, ok := cols["handle"]; !ok {
		return nil, errors.New("line 1: no handle column")
	}
	var rows []importRow
	seen := map[protocol.Handle]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		field := func(c string) string {
			if i, ok := cols[c]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		a := node.NewAccount{Handle: protocol.Handle(field("handle")), Name: field("name"), Email: field("email"), Password: field("password")}
		if err := a.Handle.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if first, dup := seen[a.Handle]; dup {
			return nil, fmt.Errorf("line %d: handle %s is on line %d already", line, a.Handle, first)
		}
		seen[a.Handle] = line
		if v := field("admin"); v != "" {
			if a.Admin, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("line %d: admin %q is not true or false", line, v)
			}
		}
		rows = append(rows, importRow{Line: line, Account: a})
	}
}

// importAccounts adds rows' accounts over parallel connections to the
// running node, calling emit with what became of each as it is known, one
// call at a time. A refusal by the node is a row's Error; failing to reach
// the node, or Ctrl-C, ends the import with an error.
func importAccounts(cmd *cobra.Command, g *globals, rows []importRow, parallel int, skipExisting bool, emit func(importResult)) error {
	ctx := cmd.Context()
	var exists map[protocol.Handle]bool
	if skipExisting {
		accs, err := ask(cmd, g, requestTimeout, func(ctx context.Context, c *control.Client) ([]*node.Account, error) {
			return c.Users(ctx)
		})
		if err != nil {
			return err
		}
		exists = make(map[protocol.Handle]bool, len(accs))
		for _, a := range accs {
			exists[a.Handle] = true
		}
	}
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range rows {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(parallel, max(1, len(rows))) {
		wg.Go(func() {
			err := g.withNode(cmd, 0, func(ctx context.Context, c *control.Client) error {
				for i := range next {
					res, err := importOne(ctx, c, rows[i], exists)
					if err != nil {
						return err
					}
					mu.Lock()
					emit(res)
					mu.Unlock()
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				for range next { // let the feeder finish
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// importOne adds the account of row, unless exists has its handle. A
// refusal by the node is the result's Error; err is a failure to get an
// answer.
func importOne(ctx context.Context, c *control.Client, row importRow, exists map[protocol.Handle]bool) (importResult, error) {
	a := row.Account
	res := importResult{Line: row.Line, Handle: a.Handle, Email: a.Email}
	if exists[a.Handle] {
		res.Skipped = true
		return res, nil
	}
	if a.Password == "" {
		a.Password = node.GeneratePassword()
		res.Password = a.Password
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	acc, err := c.AddUser(ctx, a)
	var refused *control.Error
	switch {
	case errors.As(err, &refused) && refused.Kind != "":
		return importResult{Line: row.Line, Handle: a.Handle, Error: refused.Message}, nil
	case err != nil:
		return res, fmt.Errorf("add %s (line %d): %w", a.Handle, row.Line, err)
	}
	res.AccountID = acc.Alias
	return res, nil
}

// importOutput prints each account added as it is added, so that an
// import stopped part-way has shown the passwords it generated: a CSV row
// (handle, account_id, email, password) after a header, or with --json a
// JSON object per line for every row, refused and skipped ones too. A
// refusal also goes to stderr.
type importOutput struct {
	csv                     *csv.Writer
	json                    *json.Encoder
	errs                    io.Writer
	added, skipped, refused int
}

func newImportOutput(out, errs io.Writer, asJSON bool) *importOutput {
	o := &importOutput{errs: errs}
	if asJSON {
		o.json = json.NewEncoder(out)
		return o
	}
	o.csv = csv.NewWriter(out)
	o.csv.Write([]string{"handle", "account_id", "email", "password"})
	o.csv.Flush()
	return o
}

func (o *importOutput) emit(r importResult) {
	switch {
	case r.Error != "":
		o.refused++
		fmt.Fprintf(o.errs, "line %d (%s): %s\n", r.Line, r.Handle, r.Error)
	case r.Skipped:
		o.skipped++
	default:
		o.added++
	}
	if o.json != nil {
		o.json.Encode(r)
		return
	}
	if r.Error == "" && !r.Skipped {
		o.csv.Write([]string{string(r.Handle), strconv.FormatUint(r.AccountID, 10), r.Email, r.Password})
		o.csv.Flush()
	}
}
