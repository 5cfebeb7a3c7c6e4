package api

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// fakeIDs is an alias table for notation tests.
type fakeIDs struct {
	accounts map[uint64]protocol.AccountID
	rooms    map[uint64]protocol.RoomID
	messages map[uint64]protocol.EventID
	readable map[uint64]uint64 // message → its room, for the messages the author may read
}

var _ ids = fakeIDs{}

func (f fakeIDs) accountID(_ context.Context, n uint64) (protocol.AccountID, bool) {
	a, ok := f.accounts[n]
	return a, ok
}
func (f fakeIDs) target(_ context.Context, room, msg uint64) (protocol.RoomID, protocol.EventID, bool) {
	r, ok1 := f.rooms[room]
	m, ok2 := f.messages[msg]
	in, ok3 := f.readable[msg]
	return r, m, ok1 && ok2 && ok3 && in == room
}

func (f fakeIDs) accountAlias(_ context.Context, a protocol.AccountID) (uint64, bool) {
	return find(f.accounts, a)
}
func (f fakeIDs) roomAlias(_ context.Context, r protocol.RoomID) (uint64, bool) {
	return find(f.rooms, r)
}
func (f fakeIDs) messageAlias(_ context.Context, m protocol.EventID) (uint64, bool) {
	return find(f.messages, m)
}

func find[V comparable](m map[uint64]V, v V) (uint64, bool) {
	for k, x := range m {
		if x == v {
			return k, true
		}
	}
	return 0, false
}

func TestNotation(t *testing.T) {
	node := protocol.NodeID("12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN")
	bob := protocol.NewAccountID(node, "bob")
	ann := protocol.NewAccountID(node, "ann.k")
	room := protocol.RoomID(sha256.Sum256([]byte("room")))
	msg := protocol.EventID(sha256.Sum256([]byte("msg")))
	m := fakeIDs{
		accounts: map[uint64]protocol.AccountID{123: bob, 7: ann},
		rooms:    map[uint64]protocol.RoomID{45: room, 5: protocol.RoomID(sha256.Sum256([]byte("secret")))},
		messages: map[uint64]protocol.EventID{678: msg, 1: protocol.EventID(sha256.Sum256([]byte("secret msg")))},
		readable: map[uint64]uint64{678: 45},
	}
	b, a, r, e := string(bob), string(ann), room.String(), msg.String()
	// Each case is a ChatWork body and its stored form; both directions are
	// checked unless oneWay says the stored form does not read back.
	for _, c := range []struct {
		name, local, global string
		oneWay              bool
	}{
		{"plain", "hello", "hello", false},
		{"to", "[To:123] Bob\nplease", "[To:" + b + "] Bob\nplease", false},
		{"two mentions", "[To:123][To:7]", "[To:" + b + "][To:" + a + "]", false},
		{"toall", "[toall] hi", "[toall] hi", false},
		{"reply", "[rp aid=123 to=45-678] Bob\nok", "[rp aid=" + b + " to=" + r + "-" + e + "] Bob\nok", false},
		{"reply to an unknown message", "[rp aid=123 to=45-999]", "[rp aid=" + b + " to=45-999]", false},
		{"reply without target", "[rp aid=7]", "[rp aid=" + a + "]", false},
		{"reply to a room the author cannot read", "[rp aid=123 to=5-1]", "[rp aid=" + b + " to=5-1]", false},
		{"reply naming another room's message", "[rp aid=123 to=45-1]", "[rp aid=" + b + " to=45-1]", false},
		{"reply naming a readable message in another room", "[rp aid=123 to=5-678]", "[rp aid=" + b + " to=5-678]", false},
		{"quote", "[qt][qtmeta aid=123 time=1384242850]quoted[/qt]", "[qt][qtmeta aid=" + b + " time=1384242850]quoted[/qt]", false},
		{"quote without time", "[qt][qtmeta aid=7]x[/qt]", "[qt][qtmeta aid=" + a + "]x[/qt]", false},
		{"pname", "[pname:123]", "[pname:" + b + "]", false},
		{"picon", "[picon:7]", "[picon:" + a + "]", false},
		{"piconname", "[piconname:123]", "[piconname:" + b + "]", false},
		{"unknown account stays", "[To:999]", "[To:999]", false},
		{"zero stays", "[To:0]", "[To:0]", false},
		{"not a number stays", "[To:abc]", "[To:abc]", false},
		{"other tags untouched", "[info][title]T[/title]body[/info][code][To:123][/code][hr]", "[info][title]T[/title]body[/info][code][To:" + b + "][/code][hr]", false},
		{"unterminated", "[To:123", "[To:123", false},
		{"case matters", "[to:123]", "[to:123]", false},
		{"japanese around", "こんにちは[To:123]さん", "こんにちは[To:" + b + "]さん", false},
		{"a global ID written by a client stays", "[To:" + b + "]", "[To:" + b + "]", true},
		{"unknown global account stays", "[To:zed@" + string(node) + "]", "[To:zed@" + string(node) + "]", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := toGlobal(t.Context(), c.local, m); got != c.global {
				t.Errorf("toGlobal(%q) = %q, want %q", c.local, got, c.global)
			}
			want := c.local
			if c.oneWay {
				want = "[To:123]"
			}
			if got := toLocal(t.Context(), c.global, m); got != want {
				t.Errorf("toLocal(%q) = %q, want %q", c.global, got, want)
			}
		})
	}
}
