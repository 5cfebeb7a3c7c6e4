package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

// chain signs events of fixedNode's alice one after another in a new room
// of version v, each the only parent of the next, so each is its origin's
// next chain position.
type chain struct {
	t    *testing.T
	last *Signed
	all  []*Signed
}

func newChain(t *testing.T, v uint16) *chain {
	t.Helper()
	create, err := Sign(fixedKey, Event{Version: v, Author: "alice", Time: 1}, &RoomCreate{Kind: KindGroup,
		Creator: MemberInfo{Account: NewAccountID(fixedNode, "alice"), Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, last: create, all: []*Signed{create}}
}

func (c *chain) add(content Content) *Signed {
	c.t.Helper()
	e := ChainSuccessor(c.last.RoomID(), c.last.Version, []Order{c.last.Order()}, c.last.Order(), c.last.Seq)
	e.Author, e.Time = "alice", c.last.Time+1
	s, err := Sign(fixedKey, e, content)
	if err != nil {
		c.t.Fatal(err)
	}
	c.last = s
	c.all = append(c.all, s)
	return s
}

func TestRedactedKeepsID(t *testing.T) {
	c := newChain(t, versionRedaction)
	post := c.add(&MessagePost{Body: "the secret plan"})
	edit := c.add(&MessageEdit{Message: post.ID, Body: "the edited secret"})
	for _, e := range []*Signed{post, edit} {
		r, err := e.Redact()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(r.Wire())
		if err != nil {
			t.Fatalf("Decode(redacted %s): %v", e.Type, err)
		}
		if got.ID != e.ID || !got.Redacted() || got.Type != e.Type || got.Seq != e.Seq {
			t.Fatalf("redacted %s decodes as ID %s redacted %t, want ID %s redacted", e.Type, got.ID, got.Redacted(), e.ID)
		}
		if id, _ := PeekID(r.Wire()); id != e.ID {
			t.Fatalf("PeekID(redacted) = %s, want %s", id, e.ID)
		}
		if bytes.Contains(r.Wire(), []byte("secret")) || !bytes.Contains(e.Wire(), []byte("secret")) {
			t.Fatalf("text in the redacted form, or not in the full one")
		}
		again, err := got.Redact()
		if err != nil || !bytes.Equal(again.Wire(), r.Wire()) {
			t.Fatalf("redacting a redacted event: %v", err)
		}
	}
}

func TestRedactedRefused(t *testing.T) {
	c := newChain(t, versionRedaction)
	post := c.add(&MessagePost{Body: "hello"})
	del := c.add(&MessageDelete{Message: post.ID})
	task := c.add(&TaskCreate{Body: "do", Assignees: []AccountID{NewAccountID(fixedNode, "alice")}, Limit: LimitNone})
	joined := VisibilityJoined
	update := c.add(&RoomUpdate{Visibility: &joined})
	redacted, _ := post.Redact()
	v2 := newChain(t, 2)
	post2 := v2.add(&MessagePost{Body: "hello"})

	// resign3 signs post's envelope changed by f: a redacted form.
	resign3 := func(f func(e *Event)) []byte {
		e := post.Event
		f(&e)
		return resign(t, e)
	}
	// withPayload puts payload beside the body of the redacted wire form w.
	withPayload := func(w, payload []byte) []byte {
		body, sig, _, err := decodeWire(decMode, w)
		if err != nil {
			t.Fatal(err)
		}
		return encodeWire(body, sig, payload)
	}
	otherPayload := enc(t, &MessagePost{Body: "HELLO"})
	flipped := redacted.Wire()
	flipped[len(flipped)-70] ^= 1 // inside the body

	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"redacted body changed", flipped, ErrBadSignature},
		{"payload swapped", encodeWire(post.body, post.sig, otherPayload), ErrBadSignature},
		{"payload hash of another payload", withPayload(resign3(func(e *Event) { h := sha256.Sum256(otherPayload); e.PayloadHash = h[:] }), post.payload), ErrBadSignature},
		{"empty payload", encodeWire(post.body, post.sig, []byte{}), ErrBadSignature},
		{"payload in the body", resign3(func(e *Event) { e.Payload = post.payload }), ErrMalformed},
		{"payload in the body and beside", withPayload(resign3(func(e *Event) { e.Payload = post.payload }), post.payload), ErrMalformed},
		{"no payload hash", resign3(func(e *Event) { e.PayloadHash = nil }), ErrMalformed},
		{"short payload hash", resign3(func(e *Event) { e.PayloadHash = e.PayloadHash[:31] }), ErrMalformed},
		{"redacted create", encodeWire(c.all[0].body, c.all[0].sig, nil), ErrMalformed},
		{"redacted delete", encodeWire(del.body, del.sig, nil), ErrMalformed},
		{"redacted task", encodeWire(task.body, task.sig, nil), ErrMalformed},
		{"redacted room update", encodeWire(update.body, update.sig, nil), ErrMalformed},
		{"version 2 with a payload beside", encodeWire(post2.body, post2.sig, post2.Event.Payload), ErrMalformed},
		{"version 2 with a payload hash", func() []byte {
			e := post2.Event
			h := sha256.Sum256(e.Payload)
			e.PayloadHash = h[:]
			return resign(t, e)
		}(), ErrMalformed},
		{"version 2 history visibility", func() []byte {
			e := post2.Event
			e.Type, e.Payload = TypeRoomUpdate, enc(t, &RoomUpdate{Visibility: &joined})
			return resign(t, e)
		}(), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Decode(tc.wire)
			if e != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, %v; want %v", e, err, tc.want)
			}
		})
	}

	for _, e := range []*Signed{post2, del, task, update, c.all[0]} {
		if _, err := e.Redact(); !errors.Is(err, ErrNotRedactable) {
			t.Errorf("Redact(%s of version %d) = %v, want ErrNotRedactable", e.Type, e.Version, err)
		}
	}
}

// TestRedactedReplicaConverges: a replica given the redacted forms of a
// deleted post and its edit, and of an edited post and its edited-away
// edit, shows what a replica given
// every full event shows, and checks them as far as their envelopes go.
func TestRedactedReplicaConverges(t *testing.T) {
	c := newChain(t, versionRedaction)
	kept := c.add(&MessagePost{Body: "kept"})
	old := c.add(&MessageEdit{Message: kept.ID, Body: "edited away"})
	c.add(&MessageEdit{Message: kept.ID, Body: "kept, edited"})
	gone := c.add(&MessagePost{Body: "deleted"})
	goneEdit := c.add(&MessageEdit{Message: gone.ID, Body: "deleted, edited"})
	c.add(&MessageDelete{Message: gone.ID})
	never := newReplica(t, c.all)

	redact := map[EventID]bool{kept.ID: true, old.ID: true, gone.ID: true, goneEdit.ID: true}
	var events []*Signed
	for _, e := range c.all {
		if redact[e.ID] {
			r, err := e.Redact()
			if err != nil {
				t.Fatal(err)
			}
			if e, err = Decode(r.Wire()); err != nil {
				t.Fatal(err)
			}
		}
		events = append(events, e)
	}
	redacted := newReplica(t, events)
	a, b := state(t, never), state(t, redacted)
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatalf("states differ:\nfull     %+v\nredacted %+v", a.Messages, b.Messages)
	}
	if len(b.Messages) != 2 || b.Messages[0].Body != "kept, edited" || !b.Messages[1].Deleted || b.Messages[1].Body != "" {
		t.Fatalf("messages %+v", b.Messages)
	}
}

func newReplica(t *testing.T, events []*Signed) *Replica {
	t.Helper()
	r := NewReplica(events[0].RoomID())
	for _, e := range events {
		if err := r.Add(e); err != nil {
			t.Fatalf("add %s: %v", e.Type, err)
		}
	}
	return r
}

func state(t *testing.T, r *Replica) *RoomState {
	t.Helper()
	st, err := r.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}
