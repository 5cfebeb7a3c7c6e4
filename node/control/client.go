package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Client is a connection to a running node's control socket. Its methods
// are safe for concurrent use; they take turns on the one connection. A
// method whose ctx ends gives up with ctx's error, and the connection is
// closed, since an answer may still be on its way; so is a connection the
// node closed after a minute without requests. Errors the node reports
// are *Error values, which errors.Is matches against node's sentinels.
type Client struct {
	mu   sync.Mutex // guards conn and its stream
	conn net.Conn   // nil once closed
	dec  *json.Decoder
	enc  *json.Encoder
}

// Dial connects to the control socket of the node whose data directory is
// dataDir. It returns an error wrapping ErrNotRunning if no node serves
// there.
func Dial(ctx context.Context, dataDir string) (*Client, error) {
	return DialSocket(ctx, SocketPath(dataDir))
}

// DialSocket is Dial for a socket at an explicit path.
func DialSocket(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w: nothing is listening on %s (start it with `horenso run`)", ErrNotRunning, path)
		}
		return nil, fmt.Errorf("connect to node: %w", err)
	}
	return &Client{conn: conn, dec: json.NewDecoder(conn), enc: json.NewEncoder(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// call sends one request and decodes its result.
func call[R any](ctx context.Context, c *Client, op string, args any) (R, error) {
	var result R
	if err := ctx.Err(); err != nil {
		return result, fmt.Errorf("control %s: %w", op, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return result, fmt.Errorf("control %s: %w", op, net.ErrClosed)
	}
	req := request{Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return result, fmt.Errorf("control %s: %w", op, err)
		}
		req.Args = b
	}
	// ctx's end, deadline or cancel, sets a past deadline on the
	// connection, which ends the read or write under way.
	conn := c.conn // the AfterFunc may run after the call has cleared c.conn
	conn.SetDeadline(time.Time{})
	expired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		conn.SetDeadline(time.Now())
		close(expired)
	})
	var resp response
	err := c.enc.Encode(req)
	if err != nil {
		err = fmt.Errorf("send: %w", err)
	} else if err = c.dec.Decode(&resp); err != nil {
		err = fmt.Errorf("read answer: %w", err)
	}
	stopped := stop()
	if !stopped {
		<-expired // so that it cannot cut the next call short
	}
	if err != nil && (!stopped || ctx.Err() != nil) {
		err = ctx.Err() // the connection's deadline was ctx's end
	}
	if err != nil {
		// The stream may be out of step: no later call may use it.
		c.conn.Close()
		c.conn = nil
		return result, fmt.Errorf("control %s: %w", op, err)
	}
	if resp.Error != "" {
		return result, &Error{Kind: resp.Kind, Message: resp.Error}
	}
	if len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, &result); err != nil {
			return result, fmt.Errorf("control %s: decode answer: %w", op, err)
		}
	}
	return result, nil
}

// Status reports what the node is and holds.
func (c *Client) Status(ctx context.Context) (*node.Status, error) {
	return call[*node.Status](ctx, c, opStatus, nil)
}

// AddUser creates a local account (node.Node.CreateAccount).
func (c *Client) AddUser(ctx context.Context, a node.NewAccount) (*node.Account, error) {
	return call[*node.Account](ctx, c, opUserAdd, userAddArgs{Handle: a.Handle, Name: a.Name, Email: a.Email,
		Password: a.Password, Admin: a.Admin})
}

// Users lists the node's accounts.
func (c *Client) Users(ctx context.Context) ([]*node.Account, error) {
	return call[[]*node.Account](ctx, c, opUserList, nil)
}

// SetUserDisabled disables an account, which ends its logins and API
// tokens at once, or enables it again (its old tokens stay revoked).
func (c *Client) SetUserDisabled(ctx context.Context, h protocol.Handle, disabled bool) error {
	op := opUserEnable
	if disabled {
		op = opUserDisable
	}
	_, err := call[none](ctx, c, op, userArgs{Handle: h})
	return err
}

// SetPassword sets account h's password (at least node.MinPasswordLen
// bytes) and ends all its web sessions; its API tokens keep working
// (node.Node.SetPassword).
func (c *Client) SetPassword(ctx context.Context, h protocol.Handle, password string) error {
	_, err := call[none](ctx, c, opUserPassword, passwordArgs{Handle: h, Password: password})
	return err
}

// ResetPassword gives account h a new random password, ends all its web
// sessions, and returns the password: it is not stored and cannot be
// shown again (node.Node.ResetPassword).
func (c *Client) ResetPassword(ctx context.Context, h protocol.Handle) (string, error) {
	return call[string](ctx, c, opUserReset, userArgs{Handle: h})
}

// CreateToken creates an API token for account h with the full access
// of its account and returns it; it is not shown again. See
// CreateScopedToken.
func (c *Client) CreateToken(ctx context.Context, h protocol.Handle, name string) (string, error) {
	t, err := c.CreateScopedToken(ctx, h, node.TokenSpec{Name: name})
	if err != nil {
		return "", err
	}
	return t.Token, nil
}

// Rooms lists the rooms of account as with its unread counts, or with as
// empty every room on the node.
func (c *Client) Rooms(ctx context.Context, as protocol.Handle) ([]*node.Room, error) {
	return call[[]*node.Room](ctx, c, opRoomList, roomListArgs{As: as})
}

// CreateRoom creates a group chat with as as its admin and members
// (handles, or handle@nodeid for a partner's accounts) as members.
func (c *Client) CreateRoom(ctx context.Context, as protocol.Handle, name, description string, members []string) (*node.Room, error) {
	return call[*node.Room](ctx, c, opRoomCreate, roomCreateArgs{As: as, Name: name, Description: description, Members: members})
}

// SetMember adds account (a handle, or handle@nodeid) to room with role,
// changes its role, or with role "" removes it, as the room's admin as
// (node.Node.SetMember). It returns the room as it is then.
func (c *Client) SetMember(ctx context.Context, as protocol.Handle, room uint64, account string, role protocol.Role) (*node.Room, error) {
	return call[*node.Room](ctx, c, opRoomMember, memberArgs{As: as, Room: room, Account: account, Role: role})
}

// RoomStatus returns the delivery receipts of room (its numeric ID) for
// as, a member of it: what each other member node has acknowledged of
// this node's events there.
func (c *Client) RoomStatus(ctx context.Context, as protocol.Handle, room uint64) (*node.Receipts, error) {
	return call[*node.Receipts](ctx, c, opRoomStatus, roomArgs{As: as, Room: room})
}

// RoomHistory changes the history settings of room (its numeric ID) as
// its admin as, where visibility or retentionDays is not nil
// (node.Node.SetHistory), and returns the room as it is then.
func (c *Client) RoomHistory(ctx context.Context, as protocol.Handle, room uint64, visibility *protocol.HistoryVisibility, retentionDays *uint32) (*node.Room, error) {
	return call[*node.Room](ctx, c, opRoomHistory, historyArgs{As: as, Room: room, Visibility: visibility, RetentionDays: retentionDays})
}

// Post posts body (ChatWork notation) to room as account as.
func (c *Client) Post(ctx context.Context, as protocol.Handle, room uint64, body string) (*node.Message, error) {
	return call[*node.Message](ctx, c, opMessagePost, postArgs{As: as, Room: room, Body: body})
}

// Messages returns the latest limit messages of room (default 100).
func (c *Client) Messages(ctx context.Context, as protocol.Handle, room uint64, limit int) ([]*node.Message, error) {
	return call[[]*node.Message](ctx, c, opMessageList, messageListArgs{As: as, Room: room, Limit: limit})
}

// CreateTask creates one task in room for assignees (handles or
// handle@nodeid), due at the unix time due (0: no due time).
func (c *Client) CreateTask(ctx context.Context, as protocol.Handle, room uint64, body string, assignees []string, due int64) (*node.Task, error) {
	return call[*node.Task](ctx, c, opTaskCreate, taskCreateArgs{As: as, Room: room, Body: body, Assignees: assignees, Due: due})
}

// SetTaskStatus marks a task open or done.
func (c *Client) SetTaskStatus(ctx context.Context, as protocol.Handle, task uint64, status protocol.TaskStatus) (*node.Task, error) {
	return call[*node.Task](ctx, c, opTaskStatus, taskStatusArgs{As: as, Task: task, Status: status})
}

// Tasks lists room's tasks, or with status only the open or done ones.
func (c *Client) Tasks(ctx context.Context, as protocol.Handle, room uint64, status protocol.TaskStatus) ([]*node.Task, error) {
	return call[[]*node.Task](ctx, c, opTaskList, taskListArgs{As: as, Room: room, Status: status})
}

// Backup makes the node write a backup to path, an absolute path the
// node's process can write, and returns its size in bytes.
func (c *Client) Backup(ctx context.Context, path string) (int64, error) {
	return call[int64](ctx, c, opBackup, backupArgs{Path: path})
}

// AddPartner links the node with the partner node at addr, a multiaddr
// ending in /p2p/<node ID>.
func (c *Client) AddPartner(ctx context.Context, addr string) (*node.Partner, error) {
	return call[*node.Partner](ctx, c, opPartnerAdd, partnerArgs{Addr: addr})
}

// Partners lists the partner nodes and whether they are connected.
func (c *Client) Partners(ctx context.Context) ([]*node.Partner, error) {
	return call[[]*node.Partner](ctx, c, opPartnerList, nil)
}

// RemovePartner stops linking with partner node id and closes its
// connections.
func (c *Client) RemovePartner(ctx context.Context, id protocol.NodeID) error {
	_, err := call[none](ctx, c, opPartnerRemove, partnerArgs{ID: id})
	return err
}

// promoteArgs are the arguments of opPromote.
type promoteArgs struct {
	Force bool `json:"force"`
}

// Promote makes a standby node the primary (node.Node.Promote) and
// returns its new fencing epoch. The node then restarts as the primary.
func (c *Client) Promote(ctx context.Context, force bool) (uint64, error) {
	return call[uint64](ctx, c, opPromote, promoteArgs{Force: force})
}
