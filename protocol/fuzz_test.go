package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
)

// fixedKey is a deterministic node key, so fuzz seeds are stable.
var fixedKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// sampleEvents returns one valid event of each shape the decoder meets.
func sampleEvents(t testing.TB) []*Signed {
	t.Helper()
	node := NodeIDFromKey(fixedKey.Public().(ed25519.PublicKey))
	me := NewAccountID(node, "alice")
	bob := NewAccountID(node, "bob")
	sign := func(e Event, c Content) *Signed {
		s, err := Sign(fixedKey, e, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	create := sign(Event{Author: "alice", Time: 1}, &RoomCreate{Kind: KindGroup, Name: "会議室", Description: "d",
		Creator: MemberInfo{Account: me, Role: RoleAdmin, Name: "Alice", Org: "Acme"},
		Members: []MemberInfo{{Account: bob, Role: RoleMember}}})
	next := func(prev *Signed) Event {
		e := Successor(create.RoomID(), []Order{prev.Order()})
		e.Author, e.Time = "alice", 2
		return e
	}
	post := sign(next(create), &MessagePost{Body: "[To:" + string(bob) + "] hello [info][title]t[/title]x[/info]"})
	name := "renamed"
	status := TaskDone
	task := sign(next(post), &TaskCreate{Body: "do", Assignees: []AccountID{bob}, Due: 1_800_000_000, Limit: LimitDate})
	return []*Signed{create, post, task,
		sign(next(task), &TaskUpdate{Task: task.ID, Status: &status}),
		sign(next(post), &MessageEdit{Message: post.ID, Body: "edited"}),
		sign(next(post), &MessageDelete{Message: post.ID}),
		sign(next(post), &RoomUpdate{Name: &name}),
		sign(next(post), &MemberRole{Account: bob, Role: RoleReadonly}),
		sign(next(post), &MemberRemove{Account: bob}),
	}
}

// FuzzDecode feeds arbitrary bytes to Decode. Whatever it accepts must
// re-encode to exactly the input, hash to its ID, and read back the same
// through DecodeStored; nothing may panic.
func FuzzDecode(f *testing.F) {
	for _, e := range sampleEvents(f) {
		f.Add(e.Wire())
	}
	f.Add([]byte{})
	f.Add([]byte{0x82, 0x40, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if e != nil {
				t.Fatal("Decode returned an event and an error")
			}
			return
		}
		if !bytes.Equal(e.Wire(), b) {
			t.Fatalf("Wire() = %x, want the input %x", e.Wire(), b)
		}
		if e.ID != sha256.Sum256(e.body) {
			t.Fatal("ID is not the SHA-256 of the body")
		}
		again, err := Decode(e.Wire())
		if err != nil || again.ID != e.ID {
			t.Fatalf("second decode: %v", err)
		}
		stored, err := DecodeStored(b)
		if err != nil {
			t.Fatalf("DecodeStored of an accepted event: %v", err)
		}
		if stored.ID != e.ID || stored.Type != e.Type || stored.Depth != e.Depth || stored.Author != e.Author {
			t.Fatalf("DecodeStored = %+v, want %+v", stored.Event, e.Event)
		}
	})
}
