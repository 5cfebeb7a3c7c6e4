package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
)

// awaitCLI polls an admin command until check accepts its JSON output.
func awaitCLI[T any](t *testing.T, data string, what string, check func(T) bool, args ...string) T {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v T
		horenso(t, data, &v, args...)
		if check(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s; last %+v", what, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFederationEndToEnd runs three organizations' nodes as separate
// processes, links them with `horenso partner add`, and works in a room
// shared by two of them, through the CLI only.
func TestFederationEndToEnd(t *testing.T) {
	dirs := map[string]string{}
	procs := map[string]*process{}
	ids := map[string]string{}
	addrs := map[string]string{}
	for _, org := range []string{"A", "B", "C"} {
		dirs[org] = filepath.Join(t.TempDir(), org)
		procs[org] = start(t, dirs[org], "--org", "Org "+org)
		// The control socket answers before libp2p listens.
		st := awaitCLI(t, dirs[org], "status of "+org+" shows a libp2p address",
			func(st node.Status) bool { return len(st.Addrs) > 0 }, "status")
		ids[org], addrs[org] = string(st.NodeID), st.Addrs[0]
	}
	for _, pair := range [][2]string{{"A", "B"}, {"B", "A"}, {"A", "C"}, {"C", "A"}, {"B", "C"}, {"C", "B"}} {
		horenso(t, dirs[pair[0]], nil, "partner", "add", addrs[pair[1]])
	}
	awaitCLI(t, dirs["A"], "A connected to B and C", func(ps []node.Partner) bool {
		return len(ps) == 2 && ps[0].Connected && ps[1].Connected
	}, "partner", "list")

	horenso(t, dirs["A"], nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, dirs["B"], nil, "user", "add", "bob", "--password", "bob-password")
	horenso(t, dirs["C"], nil, "user", "add", "carol", "--password", "carol-password")
	bob := "bob@" + ids["B"]
	var room node.Room
	horenso(t, dirs["A"], &room, "room", "create", "A and B", "--as", "alice", "--members", bob)
	horenso(t, dirs["A"], nil, "message", "post", fmt.Sprint(room.Alias), "hello from A", "--as", "alice")

	// B learns of the room and its message; its local room_id may differ.
	rooms := awaitCLI(t, dirs["B"], "bob's room list", func(rs []node.Room) bool { return len(rs) == 2 },
		"room", "list", "--as", "bob")
	i := slices.IndexFunc(rooms, func(r node.Room) bool { return r.ID == room.ID })
	if i < 0 {
		t.Fatalf("bob's rooms %+v lack the shared room", rooms)
	}
	onB := fmt.Sprint(rooms[i].Alias)
	awaitCLI(t, dirs["B"], "the message reaches B", func(ms []node.Message) bool {
		ms = posts(ms)
		return len(ms) == 1 && ms[0].Body == "hello from A"
	}, "message", "list", onB, "--as", "bob")
	horenso(t, dirs["B"], nil, "message", "post", onB, "hello from B", "--as", "bob")
	var task node.Task
	horenso(t, dirs["B"], &task, "task", "create", onB, "sign the contract", "--as", "bob", "--to", "alice@"+ids["A"])
	awaitCLI(t, dirs["A"], "B's reply and task reach A", func(ts []node.Task) bool { return len(ts) == 1 },
		"task", "list", fmt.Sprint(room.Alias), "--as", "alice")
	var tasksOnA []node.Task
	horenso(t, dirs["A"], &tasksOnA, "task", "list", fmt.Sprint(room.Alias), "--as", "alice")
	horenso(t, dirs["A"], nil, "task", "done", fmt.Sprint(tasksOnA[0].Alias), "--as", "alice")
	awaitCLI(t, dirs["B"], "the task is done on B", func(ts []node.Task) bool {
		return len(ts) == 1 && ts[0].Status == "done"
	}, "task", "list", onB, "--as", "bob")

	// What A sent counts against its daily quota on B.
	awaitCLI(t, dirs["B"], "B counts A's events against its quota", func(ps []node.Partner) bool {
		i := slices.IndexFunc(ps, func(p node.Partner) bool { return string(p.ID) == ids["A"] })
		return i >= 0 && ps[i].Usage.Events > 0 && ps[i].Usage.Bytes > 0 && ps[i].Usage.Dropped == 0
	}, "partner", "list")
	var stB node.Status
	horenso(t, dirs["B"], &stB, "status")
	if q := stB.PartnerQuota; q.Events != 1_000_000 || q.Rooms != 1_000 || q.Bytes != 4<<30 {
		t.Errorf("B's partner quota %+v, want the defaults", q)
	}

	// C is partnered with both but hosts no member: it never holds the room.
	var all []node.Room
	horenso(t, dirs["C"], &all, "room", "list")
	for _, r := range all {
		if r.ID == room.ID {
			t.Fatal("C holds the A–B room")
		}
	}

	// B goes down; A keeps posting; B catches up on restart.
	if err := procs["B"].stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("B exited with %v", err)
	}
	for i := range 20 {
		horenso(t, dirs["A"], nil, "message", "post", fmt.Sprint(room.Alias), fmt.Sprint("while B was down ", i), "--as", "alice")
	}
	// While B is down, A's room status shows its posts not acknowledged
	// by B; once B is back, it acknowledges them.
	var down node.Receipts
	horenso(t, dirs["A"], &down, "room", "status", fmt.Sprint(room.Alias), "--as", "alice")
	if len(down.Nodes) != 1 || string(down.Nodes[0].Node) != ids["B"] || down.Nodes[0].Unacked < 20 {
		t.Fatalf("A's room status while B was down: %+v", down)
	}
	procs["B"] = start(t, dirs["B"], "--org", "Org B", "--listen", strings.TrimSuffix(addrs["B"], "/p2p/"+ids["B"]))
	awaitCLI(t, dirs["B"], "B catches up", func(ms []node.Message) bool {
		ms = posts(ms)
		return len(ms) == 22 && ms[21].Body == "while B was down 19"
	}, "message", "list", onB, "--as", "bob", "--limit", "100")
	awaitCLI(t, dirs["A"], "B acknowledges what it caught up on", func(rs node.Receipts) bool {
		return len(rs.Nodes) == 1 && rs.Nodes[0].Unacked == 0 && rs.Nodes[0].AckedSeq > down.Nodes[0].AckedSeq
	}, "room", "status", fmt.Sprint(room.Alias), "--as", "alice")
}
