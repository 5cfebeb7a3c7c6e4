package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/horenso/horenso/node"
)

// try runs an admin subcommand against data and returns its error and
// stderr, for a command the test expects may fail.
func try(data string, args ...string) (string, error) {
	cmd := exec.Command(horensoBin, append([]string{"--data", data, "--json"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_, err := cmd.Output()
	return stderr.String(), err
}

// TestRemovedWhileDown runs A, B and C as processes sharing a room with
// alice (A), bob (B) and carol (C). B is down while alice removes bob and
// posts. When B starts again it learns of bob's removal (before issue 13
// A and C refused it the room, and bob stayed a member on B forever): the
// room leaves bob's room list, and a post bob's node makes is shown on
// neither A nor C: either B knew already and refused it, or it was made
// in the moment before B learned and A and C store it hidden.
func TestRemovedWhileDown(t *testing.T) {
	dirs := map[string]string{}
	procs := map[string]*process{}
	ids := map[string]string{}
	addrs := map[string]string{}
	for _, org := range []string{"A", "B", "C"} {
		dirs[org] = filepath.Join(t.TempDir(), org)
		procs[org] = start(t, dirs[org], "--org", "Org "+org)
		var st node.Status
		horenso(t, dirs[org], &st, "status")
		ids[org], addrs[org] = string(st.NodeID), st.Addrs[0]
	}
	for _, pair := range [][2]string{{"A", "B"}, {"B", "A"}, {"A", "C"}, {"C", "A"}, {"B", "C"}, {"C", "B"}} {
		horenso(t, dirs[pair[0]], nil, "partner", "add", addrs[pair[1]])
	}
	horenso(t, dirs["A"], nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, dirs["B"], nil, "user", "add", "bob", "--password", "bob-password")
	horenso(t, dirs["C"], nil, "user", "add", "carol", "--password", "carol-password")
	bob, carol := "bob@"+ids["B"], "carol@"+ids["C"]
	var room node.Room
	horenso(t, dirs["A"], &room, "room", "create", "A, B and C", "--as", "alice", "--members", bob+","+carol)
	onA := fmt.Sprint(room.Alias)
	horenso(t, dirs["A"], nil, "message", "post", onA, "hello", "--as", "alice")

	// alias returns the room's local room_id on org for as, once as sees
	// it and its first message.
	alias := func(org, as string) string {
		rooms := awaitCLI(t, dirs[org], as+"'s room list", func(rs []node.Room) bool {
			return slices.ContainsFunc(rs, func(r node.Room) bool { return r.ID == room.ID })
		}, "room", "list", "--as", as)
		i := slices.IndexFunc(rooms, func(r node.Room) bool { return r.ID == room.ID })
		id := fmt.Sprint(rooms[i].Alias)
		awaitCLI(t, dirs[org], "the room's first message on "+org, func(ms []node.Message) bool {
			ms = posts(ms)
			return len(ms) == 1 && ms[0].Body == "hello"
		}, "message", "list", id, "--as", as)
		return id
	}
	onB, onC := alias("B", "bob"), alias("C", "carol")

	if err := procs["B"].stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("B exited with %v", err)
	}
	horenso(t, dirs["A"], nil, "room", "member", onA, bob, "--remove", "--as", "alice")
	horenso(t, dirs["A"], nil, "message", "post", onA, "after bob's removal", "--as", "alice")
	awaitCLI(t, dirs["C"], "C sees the post after the removal", func(ms []node.Message) bool {
		ms = posts(ms)
		return len(ms) == 2 && ms[1].Body == "after bob's removal"
	}, "message", "list", onC, "--as", "carol")
	events := func(org string) uint64 {
		var st node.Status
		horenso(t, dirs[org], &st, "status")
		return st.Events
	}
	beforeA, beforeC := events("A"), events("C")

	procs["B"] = start(t, dirs["B"], "--org", "Org B", "--listen", strings.TrimSuffix(addrs["B"], "/p2p/"+ids["B"]))
	// At once, before or after B hears of the removal.
	_, postErr := try(dirs["B"], "message", "post", onB, "bob after his removal", "--as", "bob")
	t.Logf("bob's post on restart: %v", postErr)

	awaitCLI(t, dirs["B"], "the room leaves bob's room list", func(rs []node.Room) bool {
		return !slices.ContainsFunc(rs, func(r node.Room) bool { return r.ID == room.ID })
	}, "room", "list", "--as", "bob")
	if stderr, err := try(dirs["B"], "message", "post", onB, "bob, once B knows", "--as", "bob"); err == nil {
		t.Error("bob posted in the room after B learned of his removal")
	} else {
		t.Logf("bob's post once B knows: %s", strings.TrimSpace(stderr))
	}
	if postErr == nil {
		// bob's post is valid at its parents: A and C pull it from B and
		// store it, hidden.
		for org, before := range map[string]uint64{"A": beforeA, "C": beforeC} {
			awaitCLI(t, dirs[org], org+" stores bob's post", func(st node.Status) bool { return st.Events == before+1 }, "status")
		}
	}
	for org, as := range map[string]string{"A": "alice", "C": "carol"} {
		id := map[string]string{"A": onA, "C": onC}[org]
		var ms []node.Message
		horenso(t, dirs[org], &ms, "message", "list", id, "--as", as)
		ms = posts(ms)
		for _, m := range ms {
			if strings.HasPrefix(m.Body, "bob") {
				t.Errorf("%s shows %s bob's post %q", org, as, m.Body)
			}
		}
		if len(ms) != 2 {
			t.Errorf("%s shows %s %d messages, want 2", org, as, len(ms))
		}
	}
}
