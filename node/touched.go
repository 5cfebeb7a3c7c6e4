package node

import (
	"slices"

	"github.com/horenso/horenso/protocol"
)

// A control event applied in sequence (it follows every head of its room,
// so the room's control state after it is the state before it with the
// event applied: not merged with a concurrent history) can change only
// the entries of the accounts it names. What the node derives from a
// change of control state (the membership index, who joined or left, the
// profiles to check, the stored snapshot's delta) then looks at those
// entries, not at every member: an addition to a room of 5,000 costs what
// one to a room of 5 does. A merge, which may change any entry, is diffed
// in full.

// touched returns the accounts whose entries the control event e can
// change in the state it is applied to: those a member.add adds, the
// account of a member.role or member.remove, the author of a
// member.leave or member.profile, and none for a room.update or a content
// event. It returns nil for a create, whose effect it cannot confine.
func touched(e *protocol.Signed) []protocol.AccountID {
	if !e.Type.IsControl() {
		return []protocol.AccountID{}
	}
	switch p := e.Content.(type) {
	case *protocol.MemberAdd:
		all := p.All()
		out := make([]protocol.AccountID, len(all))
		for i, m := range all {
			out[i] = m.Account
		}
		return out
	case *protocol.MemberRole:
		return []protocol.AccountID{p.Account}
	case *protocol.MemberRemove:
		return []protocol.AccountID{p.Account}
	case *protocol.MemberLeave, *protocol.MemberProfile:
		return []protocol.AccountID{e.AuthorID()}
	case *protocol.RoomUpdate:
		return []protocol.AccountID{}
	}
	return nil
}

// changedAccounts returns the accounts whose entries may differ between
// before (nil for a new room) and after: only, when it is not nil (see
// touched); otherwise every member of either.
func changedAccounts(before, after *protocol.Control, only []protocol.AccountID) []protocol.AccountID {
	if only != nil {
		return only
	}
	out := make([]protocol.AccountID, 0, after.Members.Len())
	for a := range after.Members.All() {
		out = append(out, a)
	}
	if before != nil {
		for a := range before.Members.All() {
			if !after.Members.Has(a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// nodesChange returns how a control event applied in sequence changes
// the room's member nodes: the nodes of the accounts in only (see touched)
// that are members in after and were not in before, and those of the ones
// that were and are not, if no other member of theirs is left. An account
// whose membership did not change changes nothing. It returns false when
// the change may be any (a merge, a create), and the member nodes must be
// worked out afresh. A removal in a room of thousands looks at the members
// until it finds one of the removed account's node, not at every member.
func nodesChange(before, after *protocol.Control, only []protocol.AccountID) (joined, left []protocol.NodeID, ok bool) {
	if only == nil || before == nil {
		return nil, nil, false
	}
	for _, a := range only {
		was, in := before.Members.Has(a), after.Members.Has(a)
		switch {
		case in && !was:
			joined = append(joined, a.Node())
		case was && !in && !slices.Contains(left, a.Node()) && !hasMemberOf(after, a.Node()):
			left = append(left, a.Node())
		}
	}
	return joined, left, true
}

// hasMemberOf reports whether an account of node is a member in c.
func hasMemberOf(c *protocol.Control, node protocol.NodeID) bool {
	for a := range c.Members.Accounts() {
		if a.Node() == node {
			return true
		}
	}
	return false
}
