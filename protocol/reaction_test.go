package protocol

import (
	"errors"
	"testing"
)

func TestReactionRules(t *testing.T) {
	react := func(r Reaction) func(*ruleRoom) Content {
		return func(rr *ruleRoom) Content { return &MessageReact{Message: rr.post.ID, Reaction: r} }
	}
	for _, c := range []struct {
		name    string
		author  Handle
		content func(*ruleRoom) Content
		want    error // nil: allowed
	}{
		{"member reacts", "bob", react(ReactionRoger), nil},
		{"admin reacts to another's message", "alice", react(ReactionYes), nil},
		{"read-only member reacts", "carol", react(ReactionClap), nil},
		{"member takes a reaction back", "bob", func(rr *ruleRoom) Content {
			return &MessageReact{Message: rr.post.ID, Reaction: ReactionBow, Remove: true}
		}, nil},
		{"non-member cannot react", "dave", react(ReactionRoger), ErrNotMember},
		{"a task is not a message to react to", "bob", func(rr *ruleRoom) Content {
			return &MessageReact{Message: rr.task.ID, Reaction: ReactionRoger}
		}, ErrBadTarget},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := newVersionRoom(t, Version, KindGroup, 0)
			err := rr.try(c.author, c.content(rr))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("react by %s: got %v, want %v", c.author, err, c.want)
			}
		})
	}

	t.Run("a message of another room", func(t *testing.T) {
		rr := newVersionRoom(t, Version, KindGroup, 0)
		other := newVersionRoom(t, Version, KindGroup, 1)
		e := rr.event(fixedKey, "bob", &MessageReact{Message: other.post.ID, Reaction: ReactionRoger})
		if _, err := Check(multiLog{rr.r, other.r}, e); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("Check = %v, want ErrBadTarget", err)
		}
	})
	t.Run("an unknown message must come first", func(t *testing.T) {
		rr := newVersionRoom(t, Version, KindGroup, 0)
		e := rr.event(fixedKey, "bob", &MessageReact{Message: EventID{0xef}, Reaction: ReactionRoger})
		var miss *MissingError
		if _, err := Check(rr.r, e); !errors.As(err, &miss) || miss.IDs[0] != (EventID{0xef}) {
			t.Fatalf("Check = %v, want the message missing", err)
		}
	})
}

func TestReactionPayload(t *testing.T) {
	id := EventID{1, 2, 3}
	for _, c := range []struct {
		name    string
		payload map[int]any
		want    error // nil: decodes
	}{
		{"each of the six", map[int]any{1: id[:], 2: "roger"}, nil},
		{"remove", map[int]any{1: id[:], 2: "yes", 3: true}, nil},
		{"unknown reaction", map[int]any{1: id[:], 2: "poop"}, ErrMalformed},
		{"empty reaction", map[int]any{1: id[:], 2: ""}, ErrMalformed},
		{"no message", map[int]any{2: "roger"}, ErrNotCanonical},
		{"short message ID", map[int]any{1: id[:8], 2: "roger"}, ErrNotCanonical},
		{"remove false spelled out", map[int]any{1: id[:], 2: "roger", 3: false}, ErrNotCanonical},
		{"unknown field", map[int]any{1: id[:], 2: "roger", 4: 1}, ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeContent(TypeMessageReact, enc(t, c.payload))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("decode = %v, want %v", err, c.want)
			}
		})
	}
	for _, r := range Reactions {
		if _, err := decodeContent(TypeMessageReact, enc(t, map[int]any{1: id[:], 2: string(r)})); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}
