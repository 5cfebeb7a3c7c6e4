package node

import "slices"

// Scope names are ChatWork's OAuth scope names (api-ja.raml, securedBy).
// A token with scopes may make only the /v2 requests one of its scopes
// allows; the HTTP API maps each route to the narrowest scope it needs.
const (
	ScopeUsersAll      = "users.all:read"
	ScopeProfile       = "users.profile.me:read"
	ScopeStatus        = "users.status.me:read"
	ScopeMyTasks       = "users.tasks.me:read"
	ScopeRoomsAll      = "rooms.all:read_write"
	ScopeRoomsRead     = "rooms.all:read"
	ScopeRoomsWrite    = "rooms.all:write"
	ScopeRooms         = "rooms:write" // create and leave or delete rooms
	ScopeRoomInfoRead  = "rooms.info:read"
	ScopeRoomInfoWrite = "rooms.info:write"
	ScopeMembersRead   = "rooms.members:read"
	ScopeMembersWrite  = "rooms.members:write"
	ScopeMessagesRead  = "rooms.messages:read"
	ScopeMessagesWrite = "rooms.messages:write"
	ScopeTasksRead     = "rooms.tasks:read"
	ScopeTasksWrite    = "rooms.tasks:write"
	ScopeFilesRead     = "rooms.files:read"
	ScopeFilesWrite    = "rooms.files:write"
	ScopeContactsAll   = "contacts.all:read_write"
	ScopeContactsRead  = "contacts.all:read"
	ScopeContactsWrite = "contacts.all:write"
	ScopeOfflineAccess = "offline_access" // accepted and ignored: API tokens need no refresh
)

// scopeIncludes lists, for each broad scope, the scopes it includes, as
// ChatWork defines them: a route that accepts one of the narrow ones
// accepts the broad one too.
var scopeIncludes = map[string][]string{
	ScopeUsersAll:    {ScopeProfile, ScopeStatus, ScopeMyTasks},
	ScopeRoomsAll:    {ScopeRoomsRead, ScopeRoomsWrite},
	ScopeRoomsRead:   {ScopeRoomInfoRead, ScopeMembersRead, ScopeMessagesRead, ScopeTasksRead, ScopeFilesRead},
	ScopeRoomsWrite:  {ScopeRooms, ScopeRoomInfoWrite, ScopeMembersWrite, ScopeMessagesWrite, ScopeTasksWrite, ScopeFilesWrite},
	ScopeContactsAll: {ScopeContactsRead, ScopeContactsWrite},
}

// Scopes returns every scope name a token may be given, broad ones first.
func Scopes() []string {
	return []string{ScopeUsersAll, ScopeProfile, ScopeStatus, ScopeMyTasks,
		ScopeRoomsAll, ScopeRoomsRead, ScopeRoomsWrite, ScopeRooms,
		ScopeRoomInfoRead, ScopeRoomInfoWrite, ScopeMembersRead, ScopeMembersWrite,
		ScopeMessagesRead, ScopeMessagesWrite, ScopeTasksRead, ScopeTasksWrite, ScopeFilesRead, ScopeFilesWrite,
		ScopeContactsAll, ScopeContactsRead, ScopeContactsWrite, ScopeOfflineAccess}
}

// ValidScope reports whether s is a scope name (ChatWork's).
func ValidScope(s string) bool { return slices.Contains(Scopes(), s) }

// ScopeCovers reports whether scope granted allows what scope need allows:
// it is need, or a broad scope that includes need.
func ScopeCovers(granted, need string) bool {
	if granted == need {
		return true
	}
	for _, s := range scopeIncludes[granted] {
		if ScopeCovers(s, need) {
			return true
		}
	}
	return false
}

// Grant is what an API token may do. A nil *Grant, the grant of a web
// session or of a token made without scopes, may do everything its
// account may.
type Grant struct {
	Scopes []string // ChatWork scope names; never empty
	Rooms  []uint64 // room_id aliases its room requests are limited to; empty: every room
}

// Allows reports whether g allows a request that needs scope need.
func (g *Grant) Allows(need string) bool {
	if g == nil {
		return true
	}
	for _, s := range g.Scopes {
		if ScopeCovers(s, need) {
			return true
		}
	}
	return false
}

// AllowsRoom reports whether g allows requests about the room with
// room_id alias.
func (g *Grant) AllowsRoom(alias uint64) bool {
	return g == nil || len(g.Rooms) == 0 || slices.Contains(g.Rooms, alias)
}

// RoomLimited reports whether g limits the rooms its requests may be about.
func (g *Grant) RoomLimited() bool { return g != nil && len(g.Rooms) > 0 }
