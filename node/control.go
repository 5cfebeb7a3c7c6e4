package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// The control socket is how the admin CLI talks to a running node: a Unix
// socket in the data directory, mode 0600, so only the user running the
// node can use it. Each connection carries one request and one response,
// both JSON objects: {"op": "...", "args": {...}} and {"result": ...} or
// {"error": "...", "kind": "not_found"}. The ops are the keys of
// controlOps.

// ControlRequest is one request on the control socket.
type ControlRequest struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// ControlResponse is the answer to a ControlRequest.
type ControlResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Kind   string          `json:"kind,omitempty"` // the error's class: see errorKinds
}

// errorKinds names the node errors a control client can tell apart.
var errorKinds = []struct {
	kind string
	err  error
}{
	{"not_found", ErrNotFound}, {"invalid", ErrInvalid}, {"forbidden", ErrForbidden},
	{"conflict", ErrConflict}, {"unauthorized", ErrUnauthorized}, {"disabled", ErrDisabled},
}

// maxControlRequest bounds a control request's size.
const maxControlRequest = 1 << 20

func (n *Node) serveControl(ctx context.Context) error {
	path := n.cfg.ControlSocket
	// A socket file left by a killed node would make Listen fail. The
	// store's directory lock, held since New, proves no other node runs
	// on this data directory, so the file is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	n.log.Info("control socket listening", "path", path)
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			wg.Wait()
			os.Remove(path)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		wg.Go(func() {
			defer conn.Close()
			n.serveControlConn(ctx, conn)
		})
	}
}

func (n *Node) serveControlConn(ctx context.Context, conn net.Conn) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	var req ControlRequest
	var resp ControlResponse
	if err := json.NewDecoder(io.LimitReader(conn, maxControlRequest)).Decode(&req); err != nil {
		resp = ControlResponse{Error: fmt.Sprintf("bad request: %v", err), Kind: "invalid"}
	} else {
		resp = n.handleControl(ctx, req)
	}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		n.log.Debug("control: write response", "op", req.Op, "err", err)
	}
}

func (n *Node) handleControl(ctx context.Context, req ControlRequest) ControlResponse {
	op, ok := controlOps[req.Op]
	if !ok {
		return ControlResponse{Error: fmt.Sprintf("unknown op %q", req.Op), Kind: "invalid"}
	}
	result, err := op(ctx, n, req.Args)
	if err != nil {
		resp := ControlResponse{Error: err.Error()}
		for _, k := range errorKinds {
			if errors.Is(err, k.err) {
				resp.Kind = k.kind
				break
			}
		}
		if resp.Kind == "" {
			n.log.Error("control request failed", "op", req.Op, "err", err)
		}
		return resp
	}
	b, err := json.Marshal(result)
	if err != nil {
		return ControlResponse{Error: err.Error()}
	}
	return ControlResponse{Result: b}
}

// ErrNotRunning is returned by Control when no node answers on the socket.
var ErrNotRunning = errors.New("node is not running")

// ControlError is an error reported by the node for a control request.
type ControlError struct {
	Kind    string // not_found, invalid, forbidden, conflict, unauthorized, disabled or empty
	Message string
}

func (e *ControlError) Error() string { return e.Message }

// Is lets errors.Is match a ControlError against the node's sentinels.
func (e *ControlError) Is(target error) bool {
	for _, k := range errorKinds {
		if k.kind == e.Kind && k.err == target {
			return true
		}
	}
	return false
}

// Control sends one request to the node whose data directory is dataDir
// and decodes its result into result (which may be nil). It returns
// ErrNotRunning (wrapped) if no node is serving there, and a *ControlError
// for a request the node refused.
func Control(ctx context.Context, dataDir, op string, args, result any) error {
	return ControlSocket(ctx, filepath.Join(dataDir, socketFile), op, args, result)
}

// ControlSocket is Control for a socket at an explicit path.
func ControlSocket(ctx context.Context, path, op string, args, result any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%w: nothing is listening on %s (start it with `horenso run`)", ErrNotRunning, path)
		}
		return fmt.Errorf("connect to node: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req := ControlRequest{Op: op}
	if args != nil {
		if req.Args, err = json.Marshal(args); err != nil {
			return fmt.Errorf("control %s: %w", op, err)
		}
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return fmt.Errorf("control %s: send: %w", op, err)
	}
	var resp ControlResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return fmt.Errorf("control %s: read answer: %w", op, err)
	}
	if resp.Error != "" {
		return &ControlError{Kind: resp.Kind, Message: resp.Error}
	}
	if result != nil && resp.Result != nil {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fmt.Errorf("control %s: decode answer: %w", op, err)
		}
	}
	return nil
}

// controlOp serves one control op: it decodes its arguments from args.
type controlOp func(ctx context.Context, n *Node, args json.RawMessage) (any, error)

// op adapts a typed handler to a controlOp.
func op[A any](f func(ctx context.Context, n *Node, a A) (any, error)) controlOp {
	return func(ctx context.Context, n *Node, raw json.RawMessage) (any, error) {
		var a A
		if len(raw) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				return nil, fmt.Errorf("%w: arguments: %v", ErrInvalid, err)
			}
		}
		return f(ctx, n, a)
	}
}
