package nodetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// awaitTimeout is how long the Actor's Await methods wait: long enough for
// catch-up sync (Options.SyncInterval, default 2s) to repair lost gossip
// several times over on a loaded machine.
const awaitTimeout = 30 * time.Second

// Actor is a local account of a node, acting in a test: its methods do
// what the account's user would, through the node's Go API, and fail the
// test on any error, so that a test reads as what happens. A test that
// expects an error calls the node itself. Make one with Node.As.
//
// Actor methods call t.Fatalf, so they must be called from the test's
// goroutine. An Actor holds no state of its own and survives restarts of
// its node, but its methods fail the test while the node is stopped.
type Actor struct {
	t      testing.TB
	nd     *Node
	Handle protocol.Handle
}

// As returns the local account handle of nd as an Actor, bound to the
// cluster's test. The account must exist (see User).
func (nd *Node) As(handle protocol.Handle) *Actor {
	t := nd.c.t
	t.Helper()
	if _, err := nd.Account(t.Context(), handle); err != nil {
		t.Fatalf("node %s: as %s: %v", nd.Name, handle, err)
	}
	return &Actor{t: t, nd: nd, Handle: handle}
}

// ID returns the account's global ID, by which other nodes refer to it.
func (ac *Actor) ID() protocol.AccountID { return protocol.NewAccountID(ac.nd.ID(), ac.Handle) }

// Node returns the node hosting the account.
func (ac *Actor) Node() *Node { return ac.nd }

// String returns the handle and the node's name, e.g. "alice@a", for
// failure messages.
func (ac *Actor) String() string { return string(ac.Handle) + "@" + ac.nd.Name }

// check fails the test if err is not nil, naming the actor and what it did.
func (ac *Actor) check(what string, err error) {
	ac.t.Helper()
	if err != nil {
		ac.t.Fatalf("%s: %s: %v", ac, what, err)
	}
}

// CreateRoom creates a group room with the account as its admin and the
// given accounts, local or on partners' nodes, as members, and returns
// its ID.
func (ac *Actor) CreateRoom(name string, members ...protocol.AccountID) protocol.RoomID {
	ac.t.Helper()
	nr := node.NewRoom{Name: name}
	for _, m := range members {
		nr.Members = append(nr.Members, node.MemberSpec{Account: m, Role: protocol.RoleMember})
	}
	r, err := ac.nd.CreateRoom(ac.t.Context(), ac.Handle, nr)
	ac.check("create room "+name, err)
	return r.ID
}

// AddMember adds account to room with role.
func (ac *Actor) AddMember(room protocol.RoomID, account protocol.AccountID, role protocol.Role) {
	ac.t.Helper()
	err := ac.nd.AddMember(ac.t.Context(), ac.Handle, room, node.MemberSpec{Account: account, Role: role})
	ac.check(fmt.Sprintf("add %s to %s", account, room), err)
}

// SetRole changes the role of account, a member of room.
func (ac *Actor) SetRole(room protocol.RoomID, account protocol.AccountID, role protocol.Role) {
	ac.t.Helper()
	ac.check(fmt.Sprintf("make %s %s of %s", account, role, room), ac.nd.SetRole(ac.t.Context(), ac.Handle, room, account, role))
}

// RemoveMember removes account from room.
func (ac *Actor) RemoveMember(room protocol.RoomID, account protocol.AccountID) {
	ac.t.Helper()
	ac.check(fmt.Sprintf("remove %s from %s", account, room), ac.nd.RemoveMember(ac.t.Context(), ac.Handle, room, account))
}

// Room returns room as the account sees it now.
func (ac *Actor) Room(room protocol.RoomID) *node.Room {
	ac.t.Helper()
	r, err := ac.nd.Room(ac.t.Context(), ac.Handle, room)
	ac.check("read room", err)
	return r
}

// Post posts body to room and returns the message's ID.
func (ac *Actor) Post(room protocol.RoomID, body string) protocol.EventID {
	ac.t.Helper()
	m, err := ac.nd.Post(ac.t.Context(), ac.Handle, room, body)
	ac.check(fmt.Sprintf("post %q", body), err)
	return m.ID
}

// Edit replaces the body of the account's message id.
func (ac *Actor) Edit(id protocol.EventID, body string) {
	ac.t.Helper()
	ac.check(fmt.Sprintf("edit %s", id), ac.nd.EditMessage(ac.t.Context(), ac.Handle, id, body))
}

// Delete deletes the account's message id.
func (ac *Actor) Delete(id protocol.EventID) {
	ac.t.Helper()
	ac.check(fmt.Sprintf("delete %s", id), ac.nd.DeleteMessage(ac.t.Context(), ac.Handle, id))
}

// CreateTask creates a task in room for the assignees, members of the
// room, and returns its ID.
func (ac *Actor) CreateTask(room protocol.RoomID, body string, assignees ...protocol.AccountID) protocol.EventID {
	ac.t.Helper()
	tk, err := ac.nd.CreateTask(ac.t.Context(), ac.Handle, room, node.NewTask{Body: body, Assignees: assignees})
	ac.check(fmt.Sprintf("create task %q", body), err)
	return tk.ID
}

// CompleteTask marks task id done.
func (ac *Actor) CompleteTask(id protocol.EventID) {
	ac.t.Helper()
	done := protocol.TaskDone
	_, err := ac.nd.UpdateTask(ac.t.Context(), ac.Handle, id, node.TaskChange{Status: &done})
	ac.check(fmt.Sprintf("complete task %s", id), err)
}

// RequestContact asks account to, local or on a partner's node, to become
// a contact, with message.
func (ac *Actor) RequestContact(to protocol.AccountID, message string) {
	ac.t.Helper()
	ac.check(fmt.Sprintf("request contact %s", to), ac.nd.RequestContact(ac.t.Context(), ac.Handle, to, message))
}

// Requests returns the contact requests the account has not answered,
// oldest first.
func (ac *Actor) Requests() []*node.ContactRequest {
	ac.t.Helper()
	rs, err := ac.nd.IncomingRequests(ac.t.Context(), ac.Handle)
	ac.check("list contact requests", err)
	return rs
}

// AcceptRequest accepts the contact request id and returns the contact.
func (ac *Actor) AcceptRequest(id uint64) *node.Contact {
	ac.t.Helper()
	c, err := ac.nd.AcceptRequest(ac.t.Context(), ac.Handle, id)
	ac.check(fmt.Sprintf("accept contact request %d", id), err)
	return c
}

// Contacts returns the account's contacts.
func (ac *Actor) Contacts() []*node.Contact {
	ac.t.Helper()
	cs, err := ac.nd.Contacts(ac.t.Context(), ac.Handle)
	ac.check("list contacts", err)
	return cs
}

// await waits up to awaitTimeout for cond, failing the test with cond's
// last explanation, prefixed with the actor.
func (ac *Actor) await(cond func() (bool, string)) {
	ac.t.Helper()
	Await(ac.t, awaitTimeout, func() (bool, string) {
		ok, why := cond()
		return ok, ac.String() + " " + why
	})
}

// AwaitRoom waits until the account's node holds room and the account is
// a member of it, and returns it.
func (ac *Actor) AwaitRoom(room protocol.RoomID) *node.Room {
	ac.t.Helper()
	var r *node.Room
	ac.await(func() (bool, string) {
		var err error
		r, err = ac.nd.Room(ac.t.Context(), ac.Handle, room)
		return err == nil, fmt.Sprintf("cannot see room %s: %v", room, err)
	})
	return r
}

// AwaitMessages waits until the account sees exactly the messages bodies
// in room, in display order (oldest first; deleted messages count, with
// their empty body), and returns them. It looks at the newest
// node.MaxPage messages.
func (ac *Actor) AwaitMessages(room protocol.RoomID, bodies ...string) []*node.Message {
	ac.t.Helper()
	return ac.awaitBodies(room, bodies, false)
}

// AwaitMessageSet is AwaitMessages in any order: for messages made
// concurrently, whose display order depends on their IDs. It returns them
// in display order.
func (ac *Actor) AwaitMessageSet(room protocol.RoomID, bodies ...string) []*node.Message {
	ac.t.Helper()
	return ac.awaitBodies(room, slices.Sorted(slices.Values(bodies)), true)
}

// awaitBodies is AwaitMessages, comparing the bodies sorted if sorted.
// It looks at posts only, not at system messages (AwaitNotices).
func (ac *Actor) awaitBodies(room protocol.RoomID, want []string, sorted bool) []*node.Message {
	ac.t.Helper()
	var ms []*node.Message
	ac.await(func() (bool, string) {
		var err error
		ms, err = ac.nd.Messages(ac.t.Context(), ac.Handle, room, node.Page{Limit: node.MaxPage})
		if err != nil {
			return false, fmt.Sprintf("cannot read room %s: %v", room, err)
		}
		ms = slices.DeleteFunc(ms, func(m *node.Message) bool { return m.Notice != "" })
		got := make([]string, len(ms))
		for i, m := range ms {
			got[i] = m.Body
		}
		if sorted {
			slices.Sort(got)
		}
		return slices.Equal(got, want), fmt.Sprintf("sees messages %q in room %s, want %q", got, room, want)
	})
	return ms
}

// AwaitNotices waits until the system messages of room, as the account
// sees them, are the given kinds (node.Message.Notice) in display order,
// and returns them.
func (ac *Actor) AwaitNotices(room protocol.RoomID, kinds ...string) []*node.Message {
	ac.t.Helper()
	var ns []*node.Message
	ac.await(func() (bool, string) {
		ms, err := ac.nd.Messages(ac.t.Context(), ac.Handle, room, node.Page{Limit: node.MaxPage})
		if err != nil {
			return false, fmt.Sprintf("cannot read room %s: %v", room, err)
		}
		ns = slices.DeleteFunc(ms, func(m *node.Message) bool { return m.Notice == "" })
		var got []string
		for _, m := range ns {
			got = append(got, m.Notice)
		}
		return slices.Equal(got, kinds), fmt.Sprintf("sees notices %q in room %s, want %q", got, room, kinds)
	})
	return ns
}

// AwaitMembers waits until the members of room, as the account sees them,
// are exactly want (in any order), each with its name and organization
// known: those arrive from the member's own node. It returns them.
func (ac *Actor) AwaitMembers(room protocol.RoomID, want ...protocol.AccountID) []node.Member {
	ac.t.Helper()
	var ms []node.Member
	ac.await(func() (bool, string) {
		var ok bool
		var why string
		ms, ok, why = ac.hasMembers(room, want)
		return ok, why
	})
	return ms
}

// hasMembers is the condition of AwaitMembers: it returns the members of
// room as the account sees them, whether they are want with their names
// and organizations, and if not, what differs.
func (ac *Actor) hasMembers(room protocol.RoomID, want []protocol.AccountID) ([]node.Member, bool, string) {
	r, err := ac.nd.Room(ac.t.Context(), ac.Handle, room)
	if err != nil {
		return nil, false, fmt.Sprintf("cannot see room %s: %v", room, err)
	}
	var got []protocol.AccountID
	for _, m := range r.Members {
		got = append(got, m.Account)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		return r.Members, false, fmt.Sprintf("sees members %v of room %s, want %v", got, room, want)
	}
	for _, m := range r.Members {
		if m.Name == "" || m.Org == "" {
			return r.Members, false, fmt.Sprintf("does not know the name and organization of %s (%q, %q)", m.Account, m.Name, m.Org)
		}
	}
	return r.Members, true, ""
}

// AwaitTask waits until the account sees task id, and returns it.
func (ac *Actor) AwaitTask(id protocol.EventID) *node.Task {
	ac.t.Helper()
	var tk *node.Task
	ac.await(func() (bool, string) {
		var err error
		tk, err = ac.nd.Task(ac.t.Context(), ac.Handle, id)
		return err == nil, fmt.Sprintf("cannot see task %s: %v", id, err)
	})
	return tk
}

// AwaitRequest waits until the account has an unanswered contact request
// from account from whose message (the first post of their direct chat)
// is message, and returns it.
func (ac *Actor) AwaitRequest(from protocol.AccountID, message string) *node.ContactRequest {
	ac.t.Helper()
	var req *node.ContactRequest
	ac.await(func() (bool, string) {
		rs, err := ac.nd.IncomingRequests(ac.t.Context(), ac.Handle)
		if err != nil {
			return false, fmt.Sprintf("cannot list contact requests: %v", err)
		}
		for _, r := range rs {
			if r.From == from && r.Message == message {
				req = r
				return true, ""
			}
		}
		return false, fmt.Sprintf("has no contact request from %s saying %q: %+v", from, message, rs)
	})
	return req
}

// Receipt returns what node by has acknowledged, as the account's node
// sees it, of the account's node's events in room: its delivery receipt.
func (ac *Actor) Receipt(room protocol.RoomID, by *Node) node.Receipt {
	ac.t.Helper()
	rs, err := ac.nd.RoomReceipts(ac.t.Context(), ac.Handle, room)
	ac.check("room receipts", err)
	for _, r := range rs.Nodes {
		if r.Node == by.ID() {
			return r
		}
	}
	ac.t.Fatalf("%s: room %s has no receipt of node %s", ac, room, by.Name)
	return node.Receipt{}
}

// AwaitAcknowledged waits until node by has acknowledged every event of
// the account's node in room, and returns its receipt.
func (ac *Actor) AwaitAcknowledged(room protocol.RoomID, by *Node) node.Receipt {
	ac.t.Helper()
	var r node.Receipt
	ac.await(func() (bool, string) {
		rs, err := ac.nd.RoomReceipts(ac.t.Context(), ac.Handle, room)
		if err != nil {
			return false, fmt.Sprintf("cannot read receipts of room %s: %v", room, err)
		}
		for _, r = range rs.Nodes {
			if r.Node == by.ID() {
				return r.Unacked == 0 && r.AckedSeq > 0, fmt.Sprintf("node %s acknowledged up to %d, %d not (of %d)",
					by.Name, r.AckedSeq, r.Unacked, rs.Seq)
			}
		}
		return false, fmt.Sprintf("room %s has no receipt of node %s", room, by.Name)
	})
	return r
}
