package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/horenso/horenso/node"
)

// routeScopes maps each /v2 route, as registered in routes, to the
// narrowest ChatWork OAuth scope that allows it (api-ja.raml's securedBy
// lists it with the broad scopes that include it). handle panics on a
// /v2 route missing here, so a new route cannot be served without one:
// a token with scopes is refused every route that needs a scope it has
// not got, with 403.
var routeScopes = map[string]string{
	"GET /v2/me":                                       node.ScopeProfile,
	"GET /v2/my/status":                                node.ScopeStatus,
	"GET /v2/my/tasks":                                 node.ScopeMyTasks,
	"GET /v2/contacts":                                 node.ScopeContactsRead,
	"GET /v2/rooms":                                    node.ScopeRoomInfoRead,
	"POST /v2/rooms":                                   node.ScopeRooms,
	"GET /v2/rooms/{room_id}":                          node.ScopeRoomInfoRead,
	"PUT /v2/rooms/{room_id}":                          node.ScopeRoomInfoWrite,
	"DELETE /v2/rooms/{room_id}":                       node.ScopeRooms,
	"GET /v2/rooms/{room_id}/members":                  node.ScopeMembersRead,
	"PUT /v2/rooms/{room_id}/members":                  node.ScopeMembersWrite,
	"POST /v2/rooms/{room_id}/members":                 node.ScopeMembersWrite,
	"GET /v2/rooms/{room_id}/messages":                 node.ScopeMessagesRead,
	"POST /v2/rooms/{room_id}/messages":                node.ScopeMessagesWrite,
	"PUT /v2/rooms/{room_id}/messages/read":            node.ScopeMessagesWrite,
	"PUT /v2/rooms/{room_id}/messages/unread":          node.ScopeMessagesWrite,
	"GET /v2/rooms/{room_id}/messages/{message_id}":    node.ScopeMessagesRead,
	"PUT /v2/rooms/{room_id}/messages/{message_id}":    node.ScopeMessagesWrite,
	"DELETE /v2/rooms/{room_id}/messages/{message_id}": node.ScopeMessagesWrite,
	"GET /v2/rooms/{room_id}/tasks":                    node.ScopeTasksRead,
	"POST /v2/rooms/{room_id}/tasks":                   node.ScopeTasksWrite,
	"GET /v2/rooms/{room_id}/tasks/{task_id}":          node.ScopeTasksRead,
	"PUT /v2/rooms/{room_id}/tasks/{task_id}/status":   node.ScopeTasksWrite,
	"GET /v2/rooms/{room_id}/files":                    node.ScopeFilesRead,
	"POST /v2/rooms/{room_id}/files":                   node.ScopeFilesWrite,
	"GET /v2/rooms/{room_id}/files/{file_id}":          node.ScopeFilesRead,
	"GET /v2/rooms/{room_id}/link":                     node.ScopeRoomInfoRead,
	"POST /v2/rooms/{room_id}/link":                    node.ScopeRoomInfoWrite,
	"PUT /v2/rooms/{room_id}/link":                     node.ScopeRoomInfoWrite,
	"DELETE /v2/rooms/{room_id}/link":                  node.ScopeRoomInfoWrite,
	"GET /v2/incoming_requests":                        node.ScopeContactsRead,
	"PUT /v2/incoming_requests/{request_id}":           node.ScopeContactsWrite,
	"PUT /v2/incoming_requests/{request_id}/accept":    node.ScopeContactsWrite,
	"DELETE /v2/incoming_requests/{request_id}":        node.ScopeContactsWrite,
	"DELETE /v2/incoming_requests/{request_id}/reject": node.ScopeContactsWrite,
}

// routeGuard is what handle checks of a token with a grant before a
// route's handler runs.
type routeGuard struct {
	pattern string
	scope   string // "" for /api routes, which a token with a grant may not use
	room    bool   // the route names a room: {room_id}
	create  bool   // the route creates a room
}

// guardOf returns the guard of a route pattern; it panics on a /v2 route
// without a scope in routeScopes, as http.ServeMux panics on conflicting
// patterns: the route table is wrong.
func guardOf(pattern string) routeGuard {
	g := routeGuard{pattern: pattern, room: strings.Contains(pattern, "{room_id}"), create: pattern == "POST /v2/rooms"}
	if _, path, _ := strings.Cut(pattern, " "); strings.HasPrefix(path, "/v2/") {
		s, ok := routeScopes[pattern]
		if !ok {
			panic(fmt.Sprintf("api: route %q has no scope in routeScopes", pattern))
		}
		g.scope = s
	}
	return g
}

// check refuses a request that grant does not allow on this route with
// 403, in ChatWork's error shape and with RFC 6750's WWW-Authenticate
// header for a missing scope. A nil grant allows everything.
func (g routeGuard) check(w http.ResponseWriter, r *http.Request, grant *node.Grant) error {
	if grant == nil {
		return nil
	}
	if g.scope == "" {
		return forbidden("this API token has scopes; Horenso's own /api routes need a token without scopes or a web session")
	}
	if !grant.Allows(g.scope) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer error=\"insufficient_scope\", scope=%q", g.scope))
		return forbidden("insufficient scope: this request needs the scope " + g.scope)
	}
	if !grant.RoomLimited() {
		return nil
	}
	if g.create {
		return forbidden("this API token is limited to some rooms and cannot create rooms")
	}
	if g.room {
		// A room_id that is not a number is left to the handler (400);
		// it names no room the token could reach.
		if alias, err := strconv.ParseUint(r.PathValue("room_id"), 10, 64); err == nil && !grant.AllowsRoom(alias) {
			return forbidden(fmt.Sprintf("this API token is not allowed in room %d", alias))
		}
	}
	return nil
}
