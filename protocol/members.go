package protocol

import (
	"fmt"
	"iter"

	iradix "github.com/hashicorp/go-immutable-radix/v2"
)

// Members is a room's members by account. It is a persistent map: a copy
// is a pointer, and Set and Delete replace the copy's tree without
// touching what other copies see, at a cost that grows with the length
// of an account ID, not with the number of members. Every control event
// makes a new control state from the one before, so with a plain map the
// n-th addition to a room would copy n members.
//
// The zero value is empty and ready to use. A Members may be read from
// several goroutines at once; Set and Delete change only the receiver.
type Members struct {
	tree *iradix.Tree[memberEntry]
}

// memberEntry keeps the account beside its entry, so that walking the
// tree yields it without converting the key.
type memberEntry struct {
	account AccountID
	member  Member
}

// MembersOf returns the members in m.
func MembersOf(m map[AccountID]Member) Members {
	var ms Members
	if len(m) == 0 {
		return ms
	}
	txn := iradix.New[memberEntry]().Txn()
	for a, v := range m {
		txn.Insert([]byte(a), memberEntry{a, v})
	}
	ms.tree = txn.CommitOnly()
	return ms
}

// Get returns a's entry, or false if a is not a member.
func (ms Members) Get(a AccountID) (Member, bool) {
	if ms.tree == nil {
		return Member{}, false
	}
	e, ok := ms.tree.Get([]byte(a))
	return e.member, ok
}

// Has reports whether a is a member.
func (ms Members) Has(a AccountID) bool {
	_, ok := ms.Get(a)
	return ok
}

// Len returns the number of members.
func (ms Members) Len() int {
	if ms.tree == nil {
		return 0
	}
	return ms.tree.Len()
}

// All yields every member, in the order of their account IDs.
func (ms Members) All() iter.Seq2[AccountID, Member] {
	return func(yield func(AccountID, Member) bool) {
		if ms.tree == nil {
			return
		}
		ms.tree.Root().Walk(func(_ []byte, e memberEntry) bool { return !yield(e.account, e.member) })
	}
}

// Accounts yields every member's account, in order.
func (ms Members) Accounts() iter.Seq[AccountID] {
	return func(yield func(AccountID) bool) {
		for a := range ms.All() {
			if !yield(a) {
				return
			}
		}
	}
}

// Set makes a a member with entry m, or changes a's entry to m.
func (ms *Members) Set(a AccountID, m Member) {
	if ms.tree == nil {
		ms.tree = iradix.New[memberEntry]()
	}
	ms.tree, _, _ = ms.tree.Insert([]byte(a), memberEntry{a, m})
}

// Delete drops a, if it is a member.
func (ms *Members) Delete(a AccountID) {
	if ms.tree == nil {
		return
	}
	ms.tree, _, _ = ms.tree.Delete([]byte(a))
}

// Map returns the members as a new map.
func (ms Members) Map() map[AccountID]Member {
	m := make(map[AccountID]Member, ms.Len())
	for a, v := range ms.All() {
		m[a] = v
	}
	return m
}

// MarshalCBOR encodes the members as a CBOR map from account to entry, as
// a map[AccountID]Member is encoded: records written before Members
// existed read as they were.
func (ms Members) MarshalCBOR() ([]byte, error) {
	b, err := encMode.Marshal(ms.Map())
	if err != nil {
		return nil, fmt.Errorf("encode members: %w", err)
	}
	return b, nil
}

// UnmarshalCBOR decodes what [Members.MarshalCBOR] encodes; CBOR null
// reads as no members.
func (ms *Members) UnmarshalCBOR(b []byte) error {
	var m map[AccountID]Member
	if err := recMode.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decode members: %w", err)
	}
	*ms = MembersOf(m)
	return nil
}
