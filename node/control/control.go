// Package control is how the admin CLI talks to a running node: Serve
// answers on a Unix socket in the node's data directory, and Client, from
// Dial, calls it with typed methods. Badger locks the data directory, so
// the CLI never opens the store itself; it asks the node that holds it.
//
// The socket is mode 0600: only the user running the node may use it. A
// connection carries requests one after another, each a JSON object
// {"op": "...", "args": {...}} answered by {"result": ...} or
// {"error": "...", "kind": "not_found"}. The op names and the error kinds
// are this package's own: callers use Client's methods and branch on
// node's error sentinels with errors.Is.
package control

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// SocketPath returns the path of the control socket of the node whose
// data directory is dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, "control.sock") }

// request is one request on the socket.
type request struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// response answers a request.
type response struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Kind   string          `json:"kind,omitempty"` // the error's class: see errorKinds
}

// errorKinds names the node errors a client can tell apart.
var errorKinds = []struct {
	kind string
	err  error
}{
	{"not_found", node.ErrNotFound}, {"invalid", node.ErrInvalid}, {"forbidden", node.ErrForbidden},
	{"conflict", node.ErrConflict}, {"unauthorized", node.ErrUnauthorized}, {"disabled", node.ErrDisabled},
	{"disk_full", node.ErrDiskFull}, {"catching_up", node.ErrCatchingUp},
}

// kindOf returns the kind of a node error; "" for an error of none.
func kindOf(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return ""
}

// Error is a request the node refused or could not carry out. errors.Is
// matches it against the node sentinel of its kind (node.ErrNotFound,
// node.ErrInvalid, …).
type Error struct {
	Kind    string // not_found, invalid, forbidden, conflict, unauthorized, disabled, disk_full, or "" for a failure of the node's
	Message string // as the node put it
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is the node sentinel of e's kind.
func (e *Error) Is(target error) bool {
	for _, k := range errorKinds {
		if k.kind == e.Kind && k.err == target {
			return true
		}
	}
	return false
}

// ErrNotRunning is returned by Dial when no node answers on the socket.
var ErrNotRunning = errors.New("node is not running")

// The ops and their arguments. Accounts are named by handle, or by full
// account ID (handle@nodeid) where a partner's account may be meant; rooms
// and tasks by their ChatWork-style numeric IDs.
const (
	opStatus        = "status"
	opUserAdd       = "user.add"
	opUserList      = "user.list"
	opUserDisable   = "user.disable"
	opUserEnable    = "user.enable"
	opUserPassword  = "user.password"
	opUserReset     = "user.reset_password"
	opTokenCreate   = "token.create"
	opRoomList      = "room.list"
	opRoomCreate    = "room.create"
	opRoomMember    = "room.member"
	opRoomStatus    = "room.status"
	opRoomHistory   = "room.history"
	opMessagePost   = "message.post"
	opMessageList   = "message.list"
	opTaskCreate    = "task.create"
	opTaskStatus    = "task.status"
	opTaskList      = "task.list"
	opBackup        = "backup"
	opPartnerAdd    = "partner.add"
	opPartnerList   = "partner.list"
	opPartnerRemove = "partner.remove"
	opPromote       = "promote"
)

type (
	userAddArgs struct {
		Handle   protocol.Handle `json:"handle"`
		Name     string          `json:"name,omitempty"`
		Email    string          `json:"email,omitempty"`
		Password string          `json:"password,omitempty"`
		Admin    bool            `json:"admin,omitempty"`
	}
	userArgs struct {
		Handle protocol.Handle `json:"handle"`
	}
	passwordArgs struct {
		Handle   protocol.Handle `json:"handle"`
		Password string          `json:"password"`
	}
	tokenArgs struct {
		Handle protocol.Handle `json:"handle"`
		Name   string          `json:"name,omitempty"`
		Scopes []string        `json:"scopes,omitempty"` // none: full access
		Rooms  []uint64        `json:"rooms,omitempty"`  // room_ids; none: every room
		TTL    time.Duration   `json:"ttl_ns,omitempty"` // 0: never expires
	}
	roomListArgs struct {
		As protocol.Handle `json:"as,omitempty"` // empty: every room on the node
	}
	roomCreateArgs struct {
		As          protocol.Handle `json:"as"`
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Members     []string        `json:"members,omitempty"`
	}
	memberArgs struct {
		As      protocol.Handle `json:"as"`
		Room    uint64          `json:"room_id"`
		Account string          `json:"account"`
		Role    protocol.Role   `json:"role,omitempty"` // empty: remove
	}
	roomArgs struct {
		As   protocol.Handle `json:"as"`
		Room uint64          `json:"room_id"`
	}
	historyArgs struct {
		As            protocol.Handle             `json:"as"`
		Room          uint64                      `json:"room_id"`
		Visibility    *protocol.HistoryVisibility `json:"visibility,omitempty"`
		RetentionDays *uint32                     `json:"retention_days,omitempty"`
	}
	postArgs struct {
		As   protocol.Handle `json:"as"`
		Room uint64          `json:"room_id"`
		Body string          `json:"body"`
	}
	messageListArgs struct {
		As    protocol.Handle `json:"as"`
		Room  uint64          `json:"room_id"`
		Limit int             `json:"limit,omitempty"`
	}
	taskCreateArgs struct {
		As        protocol.Handle `json:"as"`
		Room      uint64          `json:"room_id"`
		Body      string          `json:"body"`
		Assignees []string        `json:"assignees"`
		Due       int64           `json:"limit,omitempty"`
	}
	taskStatusArgs struct {
		As     protocol.Handle     `json:"as"`
		Task   uint64              `json:"task_id"`
		Status protocol.TaskStatus `json:"status"`
	}
	taskListArgs struct {
		As     protocol.Handle     `json:"as"`
		Room   uint64              `json:"room_id"`
		Status protocol.TaskStatus `json:"status,omitempty"`
	}
	backupArgs struct {
		Path string `json:"path"` // absolute; written by the node's process
	}
	partnerArgs struct {
		Addr string          `json:"addr,omitempty"`
		ID   protocol.NodeID `json:"node_id,omitempty"`
	}
)
