package protocol

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// TestMembersCopies: a copy of a Members changes apart from the one it was
// copied from, as a control state's clone must.
func TestMembersCopies(t *testing.T) {
	var a Members
	for i := range 100 {
		a.Set(AccountID(fmt.Sprintf("m%03d@n", i)), Member{Role: RoleMember})
	}
	b := a
	b.Set("m007@n", Member{Role: RoleAdmin, Name: "Seven"})
	b.Set("new@n", Member{Role: RoleReadonly})
	b.Delete("m042@n")
	if m, _ := a.Get("m007@n"); m.Role != RoleMember || a.Has("new@n") || !a.Has("m042@n") || a.Len() != 100 {
		t.Fatalf("the original changed with its copy: m007 %+v, new %v, m042 %v, %d members",
			m, a.Has("new@n"), a.Has("m042@n"), a.Len())
	}
	if m, _ := b.Get("m007@n"); m.Role != RoleAdmin || m.Name != "Seven" || !b.Has("new@n") || b.Has("m042@n") || b.Len() != 100 {
		t.Fatalf("the copy: m007 %+v, new %v, m042 %v, %d members", m, b.Has("new@n"), b.Has("m042@n"), b.Len())
	}
	var zero Members
	zero.Delete("nobody@n")
	if zero.Len() != 0 || zero.Has("nobody@n") || len(slices.Collect(zero.Accounts())) != 0 {
		t.Fatal("the zero Members is not empty")
	}
}

// TestMembersOrder: All yields every member once, in the order of their
// account IDs, and stops when asked to.
func TestMembersOrder(t *testing.T) {
	want := map[AccountID]Member{}
	for i := range 300 {
		want[AccountID(fmt.Sprintf("%x@node%d", i*7919, i%3))] = Member{Role: RoleMember, Name: fmt.Sprint(i)}
	}
	ms := MembersOf(want)
	got := slices.Collect(ms.Accounts())
	if !slices.IsSorted(got) || len(got) != len(want) {
		t.Fatalf("All yields %d accounts, sorted %v; want %d sorted", len(got), slices.IsSorted(got), len(want))
	}
	if !maps.Equal(ms.Map(), want) {
		t.Fatal("Map differs from what was put in")
	}
	n := 0
	for range ms.All() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("All went on after break: %d", n)
	}
}

// TestMembersCBOR: Members encode byte for byte as the map they replace,
// so control snapshots stored before them read the same, and CBOR null
// reads as no members.
func TestMembersCBOR(t *testing.T) {
	o := Order{Depth: 3}
	m := map[AccountID]Member{
		"alice@n": {Role: RoleAdmin, Name: "Alice", Since: &o},
		"bob@n":   {Role: RoleMember, Org: "B"},
		"c@other": {Role: RoleReadonly},
	}
	old, err := EncodeRecord(m)
	if err != nil {
		t.Fatal(err)
	}
	now, err := EncodeRecord(MembersOf(m))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, now) {
		t.Fatalf("Members encode as %x, the map as %x", now, old)
	}
	var back Members
	if err := DecodeRecord(old, &back); err != nil || !maps.EqualFunc(back.Map(), m, func(a, b Member) bool {
		return a.Role == b.Role && a.Name == b.Name && a.Org == b.Org && (a.Since == nil) == (b.Since == nil)
	}) {
		t.Fatalf("decode: %v, %+v", err, back.Map())
	}
	var c Control
	if err := DecodeRecord([]byte{0xa1, 0x05, 0xf6}, &c); err != nil || c.Members.Len() != 0 {
		t.Fatalf("null members: %v, %d", err, c.Members.Len())
	}
}
