package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// human runs an admin subcommand without --json and returns its stdout
// and stderr.
func human(t *testing.T, data string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(horensoBin, append([]string{"--data", data}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("horenso %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return string(out), errb.String()
}

// TestPartnerHealthEndToEnd links two nodes through the CLI and checks
// what an operator sees: `partner add` says whether the link is up and
// what to do when it is not, `partner list` shows the partner's
// organization, link and shared rooms, adding an account of a node that
// is not a partner warns, and `room verify` and `room repair` compare
// the room with the partner.
func TestPartnerHealthEndToEnd(t *testing.T) {
	dirA, dirB := filepath.Join(t.TempDir(), "A"), filepath.Join(t.TempDir(), "B")
	start(t, dirA, "--org", "Org A")
	start(t, dirB, "--org", "Org B")
	var stA, stB node.Status
	horenso(t, dirA, &stA, "status")
	horenso(t, dirB, &stB, "status")

	// A adds B first: B refuses A until its admin adds A.
	out, _ := human(t, dirA, "partner", "add", stB.Addrs[0])
	if !strings.Contains(out, "not connected yet") || !strings.Contains(out, "horenso partner add "+stA.Addrs[0]) {
		t.Fatalf("partner add before the partner added us:\n%s", out)
	}
	out, _ = human(t, dirB, "partner", "add", stA.Addrs[0])
	if !strings.Contains(out, "connected: the link is up") {
		t.Fatalf("partner add once both added each other:\n%s", out)
	}

	horenso(t, dirA, nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, dirB, nil, "user", "add", "bob", "--password", "bob-password")
	var room node.Room
	horenso(t, dirA, &room, "room", "create", "A and B", "--as", "alice", "--members", "bob@"+string(stB.NodeID))
	horenso(t, dirA, nil, "message", "post", fmt.Sprint(room.Alias), "hello", "--as", "alice")

	// A's partner list shows B's organization (from bob's profile in the
	// room), the link, the shared room, and what B has acknowledged.
	awaitCLI(t, dirA, "A's partner list shows B in the room", func(ps []node.PartnerHealth) bool {
		return len(ps) == 1 && ps[0].Org == "Org B" && ps[0].Connected && ps[0].Rooms == 1 && ps[0].Acked > 0 && ps[0].Unacked == 0
	}, "partner", "list")
	var rs node.Receipts
	horenso(t, dirA, &rs, "room", "status", fmt.Sprint(room.Alias)) // the operator's view: no --as
	if len(rs.Nodes) != 1 || rs.Nodes[0].Node != stB.NodeID || rs.Nodes[0].AckedSeq == 0 {
		t.Fatalf("room status without --as: %+v", rs)
	}
	out, _ = human(t, dirA, "partner", "list")
	for _, want := range []string{"ORG", "Org B", "LAST_SEEN", "now", "UNACKED"} {
		if !strings.Contains(out, want) {
			t.Errorf("partner list lacks %q:\n%s", want, out)
		}
	}

	// An account of a node that is not a partner (no node runs it): the
	// change is made, with a warning that says how to link.
	carol := "carol@12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	_, warn := human(t, dirA, "room", "member", fmt.Sprint(room.Alias), carol, "--as", "alice")
	if !strings.Contains(warn, "is not a partner") || !strings.Contains(warn, "horenso partner add "+stA.Addrs[0]) {
		t.Fatalf("adding a non-partner's account: stderr %q", warn)
	}
	_, warn = human(t, dirA, "room", "member", fmt.Sprint(room.Alias), "bob@"+string(stB.NodeID), "--as", "alice", "--role", "admin")
	if warn != "" {
		t.Fatalf("changing a partner's account's role warned: %q", warn)
	}

	// Verify: the same events on both; C is named as not a partner.
	checks := awaitCLI(t, dirA, "A and B hold the same events", func(cs []node.RoomCheck) bool {
		for _, c := range cs {
			if c.Node == stB.NodeID {
				return c.Result == node.CheckSame
			}
		}
		return false
	}, "room", "verify", fmt.Sprint(room.Alias))
	if len(checks) != 2 {
		t.Fatalf("verify checked %d nodes, want B and carol's: %+v", len(checks), checks)
	}
	out, _ = human(t, dirA, "room", "verify", fmt.Sprint(room.Alias), "--peer", string(stB.NodeID))
	if !strings.Contains(out, "same events") {
		t.Fatalf("room verify --peer B:\n%s", out)
	}
	out, _ = human(t, dirA, "room", "repair", fmt.Sprint(room.Alias))
	if !strings.Contains(out, "same events") || !strings.Contains(out, "not a partner") || !strings.Contains(out, "horenso partner add") {
		t.Fatalf("room repair:\n%s", out)
	}
}
