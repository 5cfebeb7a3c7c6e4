package api

import (
	"context"
	"errors"
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

// statusOf maps an error to the HTTP status and message a client gets. It
// is the one place that does: handlers return node errors and the API's
// own (which wrap the same sentinels) and leave the status to it. Errors it
// does not know are internal: 500 with a generic message (the caller logs
// the real one).
func statusOf(err error) (int, string) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, err.Error()
	case errors.Is(err, errNotSupported):
		return http.StatusNotImplemented, err.Error()
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, "request body not received in time"
	case errors.Is(err, node.ErrDiskFull):
		return http.StatusServiceUnavailable, "the node's disk is full: changes are refused until space is freed"
	case errors.Is(err, node.ErrUnauthorized):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, node.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, node.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, node.ErrForbidden), errors.Is(err, node.ErrDisabled):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, node.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "request canceled"
	}
	return http.StatusInternalServerError, "internal error"
}

// fail writes err's status and message in ChatWork's error shape, and
// logs errors that are the server's fault.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	// A full disk is logged once by the store, not once a request.
	if status >= 500 && status != http.StatusNotImplemented && !errors.Is(err, node.ErrDiskFull) {
		s.log.Error("HTTP request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeErrors(w, status, msg)
}
