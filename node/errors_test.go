package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/horenso/horenso/protocol"
)

// TestRuleError checks how room rule violations map to node errors: every
// error wrapping protocol.ErrRule, even one no case names, becomes a
// client error, never an internal one.
func TestRuleError(t *testing.T) {
	newRule := fmt.Errorf("%w: a rule added later", protocol.ErrRule)
	for _, c := range []struct {
		err  error
		want error // nil: passed through unchanged
	}{
		{protocol.ErrNotMember, ErrForbidden},
		{protocol.ErrReadOnly, ErrForbidden},
		{protocol.ErrNotAdmin, ErrForbidden},
		{protocol.ErrNotAuthor, ErrForbidden},
		{protocol.ErrNotAuthorOrAdmin, ErrForbidden},
		{protocol.ErrLastAdmin, ErrForbidden},
		{protocol.ErrRoomKind, ErrForbidden},
		{newRule, ErrForbidden},
		{protocol.ErrBadTarget, ErrInvalid},
		{protocol.ErrAlreadyMember, ErrConflict},
		{protocol.ErrBadParents, nil},
		{protocol.ErrWrongOrigin, nil},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			err := fmt.Errorf("context: %w", c.err)
			got := ruleError(err)
			if c.want == nil {
				if got != err {
					t.Fatalf("ruleError = %v, want it unchanged", got)
				}
				return
			}
			if !errors.Is(got, c.want) || !errors.Is(got, c.err) {
				t.Fatalf("ruleError = %v, want %v wrapping %v", got, c.want, c.err)
			}
			for _, other := range []error{ErrForbidden, ErrInvalid, ErrConflict} {
				if other != c.want && errors.Is(got, other) {
					t.Errorf("ruleError = %v, also %v", got, other)
				}
			}
		})
	}
}
