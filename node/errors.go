package node

import (
	"errors"

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
