package protocol

import (
	"errors"
	"fmt"
	"slices"
)

// Reaction is one of the fixed reactions a member may give a message:
// ChatWork's six. The set is part of the protocol: a node refuses any
// other value.
type Reaction string

// The reactions, named after ChatWork's emoticons, in the order clients
// show them.
const (
	ReactionRoger   Reaction = "roger"   // 了解: understood
	ReactionBow     Reaction = "bow"     // ありがとう: thank you
	ReactionCracker Reaction = "cracker" // おめでとう: congratulations
	ReactionDance   Reaction = "dance"   // わーい: yay
	ReactionClap    Reaction = "clap"    // すごい: great
	ReactionYes     Reaction = "yes"     // いいね: like
)

// Reactions lists every reaction, in the order clients show them.
var Reactions = []Reaction{ReactionRoger, ReactionBow, ReactionCracker, ReactionDance, ReactionClap, ReactionYes}

// Valid reports whether r is one of [Reactions].
func (r Reaction) Valid() bool { return slices.Contains(Reactions, r) }

// MessageReact gives the author's reaction to a message post of the same
// room, or, with Remove, takes it back. An account's reaction of one
// kind to one message is on or off: of its message.react events for that
// message and kind, the latest in the room's total order ([Order]: depth,
// then ID) decides, so every node that holds the same events shows the
// same reactions whatever order they arrived in. Any member may react,
// read-only members too. It is not a control event.
type MessageReact struct {
	Message  EventID  `cbor:"1,keyasint"`
	Reaction Reaction `cbor:"2,keyasint"`
	Remove   bool     `cbor:"3,keyasint,omitempty"`
}

func (c *MessageReact) validate() error {
	if c.Message.IsZero() {
		return errors.New("no message named")
	}
	if !c.Reaction.Valid() {
		return fmt.Errorf("unknown reaction %q", c.Reaction)
	}
	return nil
}
