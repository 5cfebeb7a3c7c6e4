package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/horenso/horenso/node"
)

// apiError is an error the API itself finds (a bad parameter, a missing
// token). kind is the node sentinel it counts as, so statusOf maps it like
// the node's own; msg is what the client reads.
type apiError struct {
	kind error
	msg  string
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.kind }

func invalid(msg string) error      { return &apiError{node.ErrInvalid, msg} }
func forbidden(msg string) error    { return &apiError{node.ErrForbidden, msg} }
func notFound(msg string) error     { return &apiError{node.ErrNotFound, msg} }
func unauthorized(msg string) error { return &apiError{node.ErrUnauthorized, msg} }

var (
	// errRateLimited is returned for a request over its token's limit.
	errRateLimited = errors.New("rate limit exceeded; see the x-ratelimit-reset header")
	// errNotSupported is returned by endpoints whose feature this node
	// does not have yet.
	errNotSupported = errors.New("not supported yet")
)

// publicSentinels are node errors whose own text is a fit message for a
// client, for errors that carry no message of their own.
var publicSentinels = []error{node.ErrNoRoom, node.ErrNoMessage, node.ErrMessageDeleted, node.ErrNoTask, node.ErrNoLink, node.ErrDisabled}

// statusOf maps an error to the HTTP status and message a client gets. It
// is the one place that does: handlers return node errors and the API's
// own (which wrap the same sentinels) and leave the status to it.
//
// The message is short and never an error chain, which may name internal
// records and steps: the API's own message (apiError), the node's message
// for clients (node.Problem), the text of a sentinel that is one
// (publicSentinels), or else the text of the error's kind ("invalid
// request", "not found", ...). Errors it does not know are internal: 500
// with a generic message. fail logs the whole error.
func statusOf(err error) (int, string) {
	var (
		tooLarge *http.MaxBytesError
		locked   *lockedError
		status   int
		kind     error
	)
	switch {
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, err.Error()
	case errors.As(err, &locked):
		return http.StatusTooManyRequests, locked.Error()
	case errors.Is(err, errNotSupported):
		return http.StatusNotImplemented, err.Error()
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, "request body not received in time"
	case errors.Is(err, node.ErrDiskFull):
		return http.StatusServiceUnavailable, "the node's disk is full: changes are refused until space is freed"
	case errors.Is(err, node.ErrStandby):
		return http.StatusServiceUnavailable, "this node is a standby: it serves reads only; make changes on the primary (or promote this node with `horenso promote` if the primary is gone)"
	case errors.Is(err, node.ErrBusy):
		return http.StatusServiceUnavailable, node.ErrBusy.Error()
	case errors.Is(err, node.ErrCatchingUp):
		return http.StatusServiceUnavailable, node.ErrCatchingUp.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "request canceled"
	case errors.Is(err, node.ErrUnauthorized):
		status, kind = http.StatusUnauthorized, node.ErrUnauthorized
	case errors.Is(err, node.ErrNotFound):
		status, kind = http.StatusNotFound, node.ErrNotFound
	case errors.Is(err, node.ErrInvalid):
		status, kind = http.StatusBadRequest, node.ErrInvalid
	case errors.Is(err, node.ErrForbidden):
		status, kind = http.StatusForbidden, node.ErrForbidden
	case errors.Is(err, node.ErrDisabled):
		status, kind = http.StatusForbidden, node.ErrDisabled
	case errors.Is(err, node.ErrConflict):
		status, kind = http.StatusConflict, node.ErrConflict
	default:
		return http.StatusInternalServerError, "internal error"
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return status, ae.msg
	}
	var p *node.Problem
	if errors.As(err, &p) {
		return status, p.Msg
	}
	for _, s := range publicSentinels {
		if errors.Is(err, s) {
			return status, s.Error()
		}
	}
	return status, kind.Error()
}

// fail writes err's status and short message in ChatWork's error shape,
// and logs the whole error with the request's ID (the X-Request-Id the
// response carries): errors that are the server's fault as errors, the
// flood kinds (bad tokens, rate limits) at debug level, and other refusals
// at info level.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	level := slog.LevelInfo
	switch {
	case errors.Is(err, node.ErrDiskFull), errors.Is(err, node.ErrStandby):
		level = slog.LevelDebug // the store logs it once, not once a request
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away (or the server is shutting down): not the
		// node's error.
	case status >= 500 && status != http.StatusNotImplemented:
		level = slog.LevelError
	case status == http.StatusUnauthorized, status == http.StatusTooManyRequests:
		level = slog.LevelDebug
	}
	s.log.Log(r.Context(), level, "HTTP request failed", "request_id", w.Header().Get(requestIDHeader),
		"method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeErrors(w, status, msg)
}

// requestIDHeader names a request for the logs: taken from a proxy that
// set it, made up otherwise, and sent back with the response.
const requestIDHeader = "X-Request-Id"

// requestID returns r's request ID: its X-Request-Id header if it is sane
// (1 to 128 characters of A-Z a-z 0-9 and -_.:=+/@), else a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); saneID(id) {
		return id
	}
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func saneID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '=', c == '+', c == '/', c == '@':
		default:
			return false
		}
	}
	return true
}
