package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// TestOrgEndToEnd: a first run with no --org and no terminal names the
// organization "My Organization" and says how to change it; `org rename`
// renames it, accounts included.
func TestOrgEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, data, "--org=")
	if out := p.stdout.String(); !strings.Contains(out, `Organization name: "My Organization"`) || !strings.Contains(out, "horenso org rename") {
		t.Fatalf("first run without --org:\n%s", out)
	}
	out, _ := human(t, data, "org")
	if strings.TrimSpace(out) != "My Organization" {
		t.Fatalf("org: %q", out)
	}
	horenso(t, data, nil, "user", "add", "alice", "--password", "alice-password")
	out, _ = human(t, data, "org", "rename", "Acme Corp")
	if !strings.Contains(out, `renamed to "Acme Corp"`) {
		t.Fatalf("org rename: %q", out)
	}
	var st node.Status
	horenso(t, data, &st, "status")
	var users []node.Account
	horenso(t, data, &users, "user", "list")
	if st.Org != "Acme Corp" || len(users) != 2 || users[0].Org != "Acme Corp" || users[1].Org != "Acme Corp" {
		t.Fatalf("after rename: status org %q, accounts %+v", st.Org, users)
	}
	if msg, err := try(data, "org", "rename", "  "); err == nil || !strings.Contains(msg, "the name must have") {
		t.Fatalf("rename to blanks: %v %q", err, msg)
	}
}

// TestErrorsSayWhatToDo: the admin CLI's errors name the thing that is
// wrong and what to do, and lists say when they were cut.
func TestErrorsSayWhatToDo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	start(t, data)
	horenso(t, data, nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, data, nil, "user", "add", "bob", "--password", "bob-password")

	msg, err := try(data, "message", "post", "99", "hi", "--as", "alice")
	if err == nil || !strings.Contains(msg, "no room 99 on this node") || !strings.Contains(msg, "horenso room list") ||
		strings.Contains(msg, "resolve alias") {
		t.Fatalf("post to an unknown room: %v\n%s", err, msg)
	}

	var room node.Room
	horenso(t, data, &room, "room", "create", "team", "--as", "alice", "--members", "bob")
	id := fmt.Sprint(room.Alias)
	horenso(t, data, nil, "room", "member", id, "bob", "--as", "alice", "--remove")
	msg, err = try(data, "message", "post", id, "still here?", "--as", "bob")
	if err == nil || !strings.Contains(msg, "bob is not a member of the room (removed, or never added)") ||
		strings.Contains(msg, "no such room") {
		t.Fatalf("post by a removed member: %v\n%s", err, msg)
	}

	for i := range 3 {
		horenso(t, data, nil, "message", "post", id, fmt.Sprint("m", i), "--as", "alice")
	}
	out, _ := human(t, data, "message", "list", id, "--as", "alice", "--limit", "2")
	if !strings.Contains(out, "older ones were left out: --limit 4 shows more") {
		t.Fatalf("message list cut at its limit says nothing:\n%s", out)
	}
	out, _ = human(t, data, "message", "list", id, "--as", "alice", "--limit", "50")
	if strings.Contains(out, "left out") {
		t.Fatalf("message list not cut says it was:\n%s", out)
	}
}

// TestContactEndToEnd: alice asks bob to be a contact; bob sees the
// request, approves it, and each lists the other.
func TestContactEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	start(t, data)
	horenso(t, data, nil, "user", "add", "alice", "--password", "alice-password")
	horenso(t, data, nil, "user", "add", "bob", "--password", "bob-password")
	horenso(t, data, nil, "user", "add", "carol", "--password", "carol-password")

	out, _ := human(t, data, "contact", "list", "--as", "bob")
	if !strings.Contains(out, "no contacts yet") {
		t.Fatalf("empty contact list: %q", out)
	}
	var cs []node.Contact
	horenso(t, data, &cs, "contact", "add", "bob", "--as", "alice", "--message", "let's talk")
	if len(cs) != 1 || cs[0].Handle != "bob" {
		t.Fatalf("alice's contacts after asking bob: %+v", cs)
	}
	horenso(t, data, nil, "contact", "add", "bob", "--as", "carol")
	var reqs []node.ContactRequest
	horenso(t, data, &reqs, "contact", "requests", "--as", "bob")
	fromAlice, fromCarol := slices.IndexFunc(reqs, func(r node.ContactRequest) bool { return r.Handle == "alice" }),
		slices.IndexFunc(reqs, func(r node.ContactRequest) bool { return r.Handle == "carol" })
	if len(reqs) != 2 || fromAlice < 0 || fromCarol < 0 || reqs[fromAlice].Message != "let's talk" {
		t.Fatalf("bob's requests: %+v", reqs)
	}
	out, _ = human(t, data, "contact", "approve", fmt.Sprint(reqs[fromAlice].ID), "--as", "bob")
	if !strings.Contains(out, "is now a contact of bob") {
		t.Fatalf("approve: %q", out)
	}
	horenso(t, data, nil, "contact", "reject", fmt.Sprint(reqs[fromCarol].ID), "--as", "bob")
	horenso(t, data, &cs, "contact", "list", "--as", "bob")
	if len(cs) != 1 || cs[0].Handle != "alice" {
		t.Fatalf("bob's contacts: %+v", cs)
	}
	horenso(t, data, &reqs, "contact", "requests", "--as", "bob")
	if len(reqs) != 0 {
		t.Fatalf("bob's requests after answering both: %+v", reqs)
	}
	if msg, err := try(data, "contact", "approve", "999", "--as", "bob"); err == nil || !strings.Contains(msg, "no contact request 999") {
		t.Fatalf("approving an unknown request: %v %q", err, msg)
	}
}
