package api

import (
	"context"
	"strconv"
	"strings"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Bodies are stored with global IDs (see protocol.RewriteRefs); ChatWork
// clients use this node's numeric aliases instead ([To:123],
// [rp aid=123 to=45-678]). toGlobal translates a client's body on the way
// in and toLocal a stored body on the way out. A reference that does not
// resolve (an alias never handed out, an account the node never met) is
// left as written. So is a reply's target that the author cannot read (a
// room it is not a member of, or a message of another room than the one
// named): resolving it would tell the author the message exists, and
// show the room's members the global IDs of a room they may not be in.

// ids looks up aliases both ways. *resolver implements it over a node;
// tests use a map.
type ids interface {
	accountID(ctx context.Context, alias uint64) (protocol.AccountID, bool)
	accountAlias(ctx context.Context, a protocol.AccountID) (uint64, bool)
	// target returns the global IDs of the room and message a reply
	// names by alias, if the author may read that message in that room.
	target(ctx context.Context, room, msg uint64) (protocol.RoomID, protocol.EventID, bool)
	roomAlias(ctx context.Context, r protocol.RoomID) (uint64, bool)
	messageAlias(ctx context.Context, m protocol.EventID) (uint64, bool)
}

// toGlobal rewrites numeric references in body to global IDs.
func toGlobal(ctx context.Context, body string, m ids) string {
	body = filesToGlobal(ctx, body, m)
	return protocol.RewriteRefs(body, func(a string) string {
		if n, ok := numeric(a); ok {
			if id, ok := m.accountID(ctx, n); ok {
				return string(id)
			}
		}
		return a
	}, func(room, msg string) (string, string) {
		r, ok1 := numeric(room)
		e, ok2 := numeric(msg)
		if !ok1 || !ok2 {
			return room, msg
		}
		rid, eid, ok := m.target(ctx, r, e)
		if !ok {
			return room, msg
		}
		return rid.String(), eid.String()
	})
}

// toLocal rewrites global IDs in body to numeric aliases.
func toLocal(ctx context.Context, body string, m ids) string {
	body = filesToLocal(ctx, body, m)
	return protocol.RewriteRefs(body, func(a string) string {
		if strings.Contains(a, "@") {
			if n, ok := m.accountAlias(ctx, protocol.AccountID(a)); ok {
				return strconv.FormatUint(n, 10)
			}
		}
		return a
	}, func(room, msg string) (string, string) {
		rid, err1 := protocol.ParseRoomID(room)
		eid, err2 := protocol.ParseEventID(msg)
		if err1 != nil || err2 != nil {
			return room, msg
		}
		r, ok1 := m.roomAlias(ctx, rid)
		e, ok2 := m.messageAlias(ctx, eid)
		if !ok1 || !ok2 {
			return room, msg
		}
		return strconv.FormatUint(r, 10), strconv.FormatUint(e, 10)
	})
}

func numeric(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 63)
	return n, err == nil && n > 0
}

// resolver looks aliases up in a node for one request of account as,
// remembering what it found. It is not safe for concurrent use.
type resolver struct {
	node     *node.Node
	as       protocol.Handle
	profiles map[protocol.AccountID]*node.Profile
	rooms    map[protocol.RoomID]uint64
}

var _ ids = (*resolver)(nil)

func newResolver(n *node.Node, as protocol.Handle) *resolver {
	return &resolver{node: n, as: as, profiles: map[protocol.AccountID]*node.Profile{}, rooms: map[protocol.RoomID]uint64{}}
}

// profile returns what the node knows of a; for an account it never met,
// a profile with alias 0 and the handle for a name.
func (r *resolver) profile(ctx context.Context, a protocol.AccountID) *node.Profile {
	if p, ok := r.profiles[a]; ok {
		return p
	}
	p, err := r.node.Profile(ctx, a)
	if err != nil {
		p = &node.Profile{ID: a, Handle: a.Handle(), Name: string(a.Handle())}
	}
	r.profiles[a] = p
	return p
}

func (r *resolver) accountID(ctx context.Context, alias uint64) (protocol.AccountID, bool) {
	a, err := r.node.AccountByAlias(ctx, alias)
	return a, err == nil
}

func (r *resolver) accountAlias(ctx context.Context, a protocol.AccountID) (uint64, bool) {
	p := r.profile(ctx, a)
	return p.Alias, p.Alias != 0
}

func (r *resolver) target(ctx context.Context, room, msg uint64) (protocol.RoomID, protocol.EventID, bool) {
	rid, err := r.node.RoomByAlias(ctx, room)
	if err != nil {
		return protocol.RoomID{}, protocol.EventID{}, false
	}
	m, err := r.node.MessageInRoom(ctx, r.as, rid, msg) // as must read room, and the message be room's
	if err != nil {
		return protocol.RoomID{}, protocol.EventID{}, false
	}
	return rid, m.ID, true
}

func (r *resolver) roomAlias(ctx context.Context, id protocol.RoomID) (uint64, bool) {
	if n, ok := r.rooms[id]; ok {
		return n, n != 0
	}
	n, err := r.node.RoomAlias(ctx, id)
	if err != nil {
		n = 0
	}
	r.rooms[id] = n
	return n, n != 0
}

func (r *resolver) messageAlias(ctx context.Context, id protocol.EventID) (uint64, bool) {
	n, err := r.node.MessageAlias(ctx, id)
	return n, err == nil
}
