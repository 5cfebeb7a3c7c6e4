package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestUserImport adds an organization's people from a CSV file as an
// admin would: each account added can log in with the password printed
// for it (or the one the file gave), a refused row is told and the others
// go on, a run again with --skip-existing adds only what is missing, and
// a file with a bad row adds nothing.
func TestUserImport(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, data)
	base := httpBase(t, p)
	horenso(t, data, nil, "user", "add", "taken", "--email", "taken@acme.example", "--password", "taken-password")
	var b strings.Builder
	b.WriteString("Handle, Name, Email, Password, Admin\n")
	for i := range 40 {
		fmt.Fprintf(&b, "p%02d,Person %d,p%02d@acme.example,,\n", i, i, i)
	}
	b.WriteString("boss,The Boss,boss@acme.example,boss-password-1,true\n")
	b.WriteString("clash,Clash,taken@acme.example,,\n") // its email is taken
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errs, err := runCLI(data, "", "user", "import", file)
	if err == nil || !strings.Contains(errs, "line 43 (clash): email taken@acme.example is taken") ||
		!strings.Contains(errs, "41 added, 0 skipped (they exist), 1 refused") {
		t.Fatalf("import with a clash: %v\n%s", err, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 42 || strings.Join(rows[0], ",") != "handle,account_id,email,password" {
		t.Fatalf("import printed %d rows (%v):\n%s", len(rows), err, out)
	}
	passwords := map[string]string{}
	for _, r := range rows[1:] {
		passwords[r[0]] = r[3]
	}
	if passwords["boss"] != "" || len(passwords["p07"]) < 12 {
		t.Fatalf("passwords printed: boss %q (given, so not printed), p07 %q (generated)", passwords["boss"], passwords["p07"])
	}
	login(t, base, "p07", passwords["p07"])
	login(t, base, "boss@acme.example", "boss-password-1")
	var users []node.Account
	horenso(t, data, &users, "user", "list")
	if len(users) != 43 {
		t.Fatalf("%d accounts after the import, want 43", len(users))
	}
	for _, u := range users {
		if want := u.Handle == "boss" || u.Handle == "admin"; u.Admin != want || (u.Handle == "p07" && u.Name != "Person 7") {
			t.Errorf("account %+v", u)
		}
	}

	// The clash fixed, run again: only it is added. Saved from a
	// spreadsheet this time, with a byte order mark.
	fixed := "\ufeff" + strings.Replace(b.String(), "clash,Clash,taken@acme.example", "clash,Clash,clash@acme.example", 1)
	out, errs, err = runCLI(data, fixed, "user", "import", "-", "--skip-existing")
	if err != nil || !strings.Contains(errs, "1 added, 41 skipped (they exist), 0 refused") || !strings.Contains(out, "clash,") {
		t.Fatalf("import again with --skip-existing: %v\n%s\n%s", err, out, errs)
	}

	// A bad row refuses the file before anything is added.
	_, errs, err = runCLI(data, "handle,email\nnew1,new1@acme.example\nBad Handle,x@acme.example\n", "user", "import", "-")
	if err == nil || !strings.Contains(errs, "line 3") {
		t.Fatalf("import of a file with a bad handle: %v\n%s", err, errs)
	}
	horenso(t, data, &users, "user", "list")
	if len(users) != 44 {
		t.Fatalf("%d accounts after a refused file, want 44", len(users))
	}
}

// runCLI runs the horenso CLI on data with stdin, without --json, and
// returns its stdout, stderr and exit error.
func runCLI(data, stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(horensoBin, append([]string{"--data", data}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
