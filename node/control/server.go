package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

const (
	// maxRequest bounds one request's size.
	maxRequest = 1 << 20
	// idleTimeout is how long a connection may wait between requests.
	idleTimeout = time.Minute
	// writeTimeout bounds writing one response.
	writeTimeout = 10 * time.Second
)

// Serve answers control requests for n on the Unix socket at path until
// ctx ends, then closes the socket, waits for the requests under way and
// returns nil. It returns an error only if it cannot listen. Call it while
// n is open: n holds the data directory's lock, which proves that a socket
// file already at path was left by a node that is gone, so Serve replaces
// it.
func Serve(ctx context.Context, n *node.Node, path string, log *slog.Logger) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer os.Remove(path)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	log.Info("control socket listening", "path", path)
	var conns sync.WaitGroup
	defer conns.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if ctx.Err() != nil {
			if err == nil {
				conn.Close()
			}
			return nil
		}
		if err != nil {
			// Out of file descriptors, most likely: the node goes on,
			// and the socket answers again once some are free.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			log.Warn("control socket: accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		}
		backoff = 0
		conns.Go(func() {
			defer conn.Close()
			serveConn(ctx, n, conn, log)
		})
	}
}

// serveConn answers the requests of one connection until the client closes
// it, stays idle too long, or ctx ends.
func serveConn(ctx context.Context, n *node.Node, conn net.Conn, log *slog.Logger) {
	// On shutdown, a request under way is still answered; then reading
	// the next one ends at once.
	stop := context.AfterFunc(ctx, func() {
		if uc, ok := conn.(*net.UnixConn); ok {
			uc.CloseRead()
		} else {
			conn.Close()
		}
	})
	defer stop()
	dec := json.NewDecoder(io.LimitReader(conn, maxRequest))
	enc := json.NewEncoder(conn)
	for {
		conn.SetReadDeadline(time.Now().Add(idleTimeout))
		var req request
		err := dec.Decode(&req)
		if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
			return
		}
		var resp response
		if err != nil {
			resp = response{Error: fmt.Sprintf("bad request: %v", err), Kind: "invalid"}
		} else {
			resp = handle(ctx, n, req, log)
		}
		conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := enc.Encode(resp); err != nil {
			log.Debug("control: write response", "op", req.Op, "err", err)
			return
		}
		if err != nil { // the stream is out of step: nothing more can be read
			return
		}
		// Each request may use the whole size limit.
		dec = json.NewDecoder(io.MultiReader(dec.Buffered(), io.LimitReader(conn, maxRequest)))
	}
}

// handle carries out one request.
func handle(ctx context.Context, n *node.Node, req request, log *slog.Logger) response {
	op, ok := ops[req.Op]
	if !ok {
		op, ok = moreOps[req.Op]
	}
	if !ok {
		return response{Error: fmt.Sprintf("unknown op %q", req.Op), Kind: "invalid"}
	}
	result, err := op(ctx, n, req.Args)
	if err != nil {
		kind := kindOf(err)
		if kind == "" {
			log.Error("control request failed", "op", req.Op, "err", err)
		}
		return response{Error: message(err), Kind: kind}
	}
	b, err := json.Marshal(result)
	if err != nil {
		return response{Error: fmt.Sprintf("encode result: %v", err)}
	}
	return response{Result: b}
}

// opFunc carries out one op with its raw arguments.
type opFunc func(ctx context.Context, n *node.Node, args json.RawMessage) (any, error)

// op adapts a typed op to an opFunc: it decodes the arguments strictly.
func op[A, R any](f func(ctx context.Context, n *node.Node, a A) (R, error)) opFunc {
	return func(ctx context.Context, n *node.Node, raw json.RawMessage) (any, error) {
		var a A
		if len(raw) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				return nil, fmt.Errorf("%w: arguments: %v", node.ErrInvalid, err)
			}
		}
		return f(ctx, n, a)
	}
}

// none is the result of an op that returns nothing.
type none struct{}

// ops are the ops the server knows. Each is one call of the node, after
// turning the CLI's names (handles, numeric IDs) into the node's IDs.
var ops = map[string]opFunc{
	opStatus: op(func(ctx context.Context, n *node.Node, _ none) (*node.Status, error) { return n.Status(ctx) }),
	opUserAdd: op(func(ctx context.Context, n *node.Node, a userAddArgs) (*node.Account, error) {
		return n.CreateAccount(ctx, node.NewAccount{Handle: a.Handle, Name: a.Name, Email: a.Email,
			Password: a.Password, Admin: a.Admin})
	}),
	opUserList: op(func(ctx context.Context, n *node.Node, _ none) ([]*node.Account, error) { return n.Accounts(ctx) }),
	opUserDisable: op(func(ctx context.Context, n *node.Node, a userArgs) (none, error) {
		return none{}, n.SetDisabled(ctx, a.Handle, true)
	}),
	opUserEnable: op(func(ctx context.Context, n *node.Node, a userArgs) (none, error) {
		return none{}, n.SetDisabled(ctx, a.Handle, false)
	}),
	opUserPassword: op(func(ctx context.Context, n *node.Node, a passwordArgs) (none, error) {
		return none{}, n.SetPassword(ctx, a.Handle, a.Password)
	}),
	opUserReset: op(func(ctx context.Context, n *node.Node, a userArgs) (string, error) {
		return n.ResetPassword(ctx, a.Handle)
	}),
	opTokenCreate: op(func(ctx context.Context, n *node.Node, a tokenArgs) (*node.TokenInfo, error) {
		return n.CreateScopedToken(ctx, a.Handle, node.TokenSpec{Name: a.Name, Scopes: a.Scopes, Rooms: a.Rooms, TTL: a.TTL})
	}),
	opRoomList: op(func(ctx context.Context, n *node.Node, a roomListArgs) ([]*node.Room, error) {
		if a.As == "" {
			return n.AllRooms(ctx)
		}
		return n.Rooms(ctx, a.As)
	}),
	opRoomCreate: op(func(ctx context.Context, n *node.Node, a roomCreateArgs) (*node.Room, error) {
		nr := node.NewRoom{Name: a.Name, Description: a.Description}
		for _, m := range a.Members {
			id, err := n.ParseAccount(m)
			if err != nil {
				return nil, err
			}
			nr.Members = append(nr.Members, node.MemberSpec{Account: id, Role: protocol.RoleMember})
		}
		return n.CreateRoom(ctx, a.As, nr)
	}),
	opRoomMember: op(func(ctx context.Context, n *node.Node, a memberArgs) (*node.Room, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		id, err := n.ParseAccount(a.Account)
		if err != nil {
			return nil, err
		}
		if err := n.SetMember(ctx, a.As, room, id, a.Role); err != nil {
			return nil, err
		}
		return n.Room(ctx, a.As, room)
	}),
	opRoomStatus: op(func(ctx context.Context, n *node.Node, a roomArgs) (*node.Receipts, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		if a.As == "" {
			return n.RoomStatus(ctx, room) // the operator's view
		}
		return n.RoomReceipts(ctx, a.As, room)
	}),
	opRoomHistory: op(func(ctx context.Context, n *node.Node, a historyArgs) (*node.Room, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		if a.Visibility != nil || a.RetentionDays != nil {
			ch := node.HistoryChange{Visibility: a.Visibility, RetentionDays: a.RetentionDays}
			if err := n.SetHistory(ctx, a.As, room, ch); err != nil {
				return nil, err
			}
		}
		return n.Room(ctx, a.As, room)
	}),
	opMessagePost: op(func(ctx context.Context, n *node.Node, a postArgs) (*node.Message, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Post(ctx, a.As, room, a.Body)
	}),
	opMessageList: op(func(ctx context.Context, n *node.Node, a messageListArgs) ([]*node.Message, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Messages(ctx, a.As, room, node.Page{Limit: a.Limit})
	}),
	opTaskCreate: op(func(ctx context.Context, n *node.Node, a taskCreateArgs) (*node.Task, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		nt := node.NewTask{Body: a.Body, Due: a.Due}
		for _, s := range a.Assignees {
			id, err := n.ParseAccount(s)
			if err != nil {
				return nil, err
			}
			nt.Assignees = append(nt.Assignees, id)
		}
		return n.CreateTask(ctx, a.As, room, nt)
	}),
	opTaskStatus: op(func(ctx context.Context, n *node.Node, a taskStatusArgs) (*node.Task, error) {
		id, err := n.TaskByAlias(ctx, a.Task)
		if err != nil {
			return nil, err
		}
		return n.UpdateTask(ctx, a.As, id, node.TaskChange{Status: &a.Status})
	}),
	opTaskList: op(func(ctx context.Context, n *node.Node, a taskListArgs) ([]*node.Task, error) {
		room, err := n.RoomByAlias(ctx, a.Room)
		if err != nil {
			return nil, err
		}
		return n.Tasks(ctx, a.As, room, node.TaskFilter{Status: a.Status})
	}),
	opBackup:        op(func(ctx context.Context, n *node.Node, a backupArgs) (int64, error) { return n.Backup(ctx, a.Path) }),
	opSearchReindex: op(reindex),
	opSearchQuery:   op(searchQuery),
	opPartnerAdd: op(func(ctx context.Context, n *node.Node, a partnerArgs) (*node.Partner, error) {
		return n.AddPartner(ctx, a.Addr)
	}),
	opPartnerList: op(func(ctx context.Context, n *node.Node, _ none) ([]*node.Partner, error) { return n.Partners(ctx) }),
	opPartnerRemove: op(func(ctx context.Context, n *node.Node, a partnerArgs) (none, error) {
		return none{}, n.RemovePartner(ctx, a.ID)
	}),
	opPromote: op(func(ctx context.Context, n *node.Node, a promoteArgs) (uint64, error) { return n.Promote(ctx, a.Force) }),
}

// message is what the admin is told of err: a node.Problem's message for
// people ("account u0003 already exists"), not its kind repeated before it
// ("already exists: account u0003 already exists"); the error in full for
// any other.
func message(err error) string {
	if p, ok := errors.AsType[*node.Problem](err); ok {
		return p.Msg
	}
	return err.Error()
}
