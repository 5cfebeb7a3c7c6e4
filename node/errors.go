package node

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/storage"
)

// Errors returned (wrapped) by Node methods. Callers branch on them with
// errors.Is; node/api maps each to an HTTP status in one place. Room rule
// violations from the protocol package (every error wrapping
// protocol.ErrRule: protocol.ErrNotMember, protocol.ErrReadOnly, ...) are
// returned wrapped in ErrForbidden, except protocol.ErrBadTarget (a
// reference the rules do not allow), wrapped in ErrInvalid, and
// protocol.ErrAlreadyMember, wrapped in ErrConflict.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid request")
	ErrForbidden    = errors.New("not allowed")
	ErrConflict     = errors.New("already exists")
	ErrUnauthorized = errors.New("bad credentials")
	ErrDisabled     = errors.New("account is disabled")
	// ErrDiskFull is returned for a change refused because the data
	// directory's disk has less free space than Config.MinFreeDisk. Reads
	// go on, and changes succeed again once space is freed.
	ErrDiskFull = storage.ErrDiskFull
)

// Problem is a refusal with a message for whoever made the request: Msg
// says what was wrong in a few words a person can act on ("body is too
// long (max 32768 bytes)"), without the operation chain, record IDs or
// wrapped library errors that Error keeps for the logs. Kind is the
// sentinel it counts as (errors.Is(p, ErrInvalid)); Cause, if set, is the
// internal error behind it, which errors.Is and errors.As also reach.
// node/api shows clients Msg and nothing else of an error.
type Problem struct {
	Kind  error  // ErrInvalid, ErrForbidden, ErrNotFound, ErrConflict, ...
	Msg   string // for the client
	Cause error  // optional
}

func (p *Problem) Error() string {
	if p.Cause != nil {
		return p.Kind.Error() + ": " + p.Cause.Error()
	}
	return p.Kind.Error() + ": " + p.Msg
}

// Unwrap returns Kind and, if set, Cause.
func (p *Problem) Unwrap() []error {
	if p.Cause != nil {
		return []error{p.Kind, p.Cause}
	}
	return []error{p.Kind}
}

// problem returns a *Problem of kind with a formatted message.
func problem(kind error, format string, args ...any) error {
	return &Problem{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
