package node

import (
	"context"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// memberListBudget bounds the estimated encoded size of the member entries
// of one event the node makes: protocol.MaxEventSize less room for the
// envelope (32 parents of 32 bytes, signature, payload hash, author) and
// a create's name, description and icon (up to 1 KiB each). Entries are
// small (an account ID of some 60 bytes, a role, a display name), so a
// list of protocol.MaxListSize fits unless names are very long; then the
// list is split by size as well as by count.
const memberListBudget = protocol.MaxEventSize - 12<<10

// entrySize is an upper bound on the CBOR size of m in a list: four keys,
// four string headers of at most 3 bytes and the map's header.
func entrySize(m protocol.MemberInfo) int {
	return len(m.Account) + len(m.Role) + len(m.Name) + len(m.Org) + 1 + 4 + 4*3
}

// memberBatches splits infos, in order, into lists of at most
// protocol.MaxListSize entries whose estimated size stays within budget:
// as few events as the protocol's bounds allow.
func memberBatches(infos []protocol.MemberInfo, budget int) [][]protocol.MemberInfo {
	var out [][]protocol.MemberInfo
	start, size := 0, 0
	for i, m := range infos {
		s := entrySize(m)
		if i > start && (i-start == protocol.MaxListSize || size+s > budget) {
			out = append(out, infos[start:i])
			start, size = i, 0
		}
		size += s
	}
	if start < len(infos) {
		out = append(out, infos[start:])
	}
	return out
}

// AddMembers adds the accounts ms names to group chat room, each with its
// role (member when empty), as as, an admin of the room. It makes one
// member.add event per protocol.MaxListSize accounts (fewer when display
// names are long), so that adding thousands costs a few events rather
// than one each; an addition of one account is the same member.add as
// ever. Each event is checked by the room rules as a whole: an account
// already a member (ErrConflict), unknown or disabled (ErrNotFound,
// ErrDisabled) refuses its event, and none of its accounts is added. An
// error part-way leaves the events made before it. No account may be
// listed twice (ErrInvalid).
func (n *Node) AddMembers(ctx context.Context, as protocol.Handle, room protocol.RoomID, ms []MemberSpec) error {
	if len(ms) == 0 {
		return nil
	}
	infos := make([]protocol.MemberInfo, 0, len(ms))
	seen := make(map[protocol.AccountID]bool, len(ms))
	err := n.store.View(func(tx *storage.Tx) error {
		for _, m := range ms {
			if m.Role == "" {
				m.Role = protocol.RoleMember
			}
			if seen[m.Account] {
				return problem(ErrInvalid, "%s is listed twice", m.Account)
			}
			seen[m.Account] = true
			if err := n.knownAccount(tx, m.Account); err != nil {
				return err
			}
			infos = append(infos, n.memberInfo(tx, m.Account, m.Role))
		}
		return nil
	})
	op := "add members"
	if len(ms) == 1 {
		op = "add member"
	}
	if err != nil {
		return wrapOp(op, err)
	}
	for _, batch := range memberBatches(infos, memberListBudget) {
		add := &protocol.MemberAdd{Member: batch[0]}
		if len(batch) > 1 {
			add.More = batch[1:]
		}
		if _, err := n.act(ctx, as, room, add); err != nil {
			return wrapOp(op, err)
		}
	}
	return nil
}
