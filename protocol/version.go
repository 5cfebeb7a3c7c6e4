package protocol

// Version is the newest event and room version this implementation
// knows: what it gives new rooms, and the highest it reads. Events with a
// higher version are rejected with [ErrUnknownVersion]. A room's version is
// its create's, every event of a room carries it ([Check] refuses others),
// and it selects the room rules: version 1 rooms keep the rules they were
// made under. See doc.go for the history.
const Version = 4

// versionSeniority is the first room version whose rules rank admins by
// seniority (see [Resolve]).
const versionSeniority = 2

// versionChains is the first room version whose events carry their
// origin's chain position, [Event].Seq, and whose resolution voids an
// equivocating origin's control events (see [Check], [Resolve]).
const versionChains = 2

// versionRedaction is the first room version whose event bodies carry a
// hash of the payload instead of the payload (see [Signed.Redact]), so a
// node can drop a deleted or edited-away message's text and still verify
// the event, its ID and the room's chains. Its rooms also have the
// history visibility and retention settings of [RoomUpdate].
const versionRedaction = 3

// versionAdminFinality is the first room version whose finality rule
// (rule 0 of [Resolve]) weighs only the revoked account's events that
// the revocation would void, those that need admin rights and do not
// give up the account's own. Before it, a member.profile of the account,
// which its node makes by itself when the account joins or is renamed,
// could void a concurrent demotion or removal of it once a third node
// had acknowledged the profile, and a node could keep its account in a
// room by publishing profiles.
const versionAdminFinality = 4

// Limits every node enforces on what it accepts. They are part of the
// protocol: an event within them is valid everywhere.
const (
	// MaxEventSize bounds an event's wire form (body and signature).
	MaxEventSize = 64 << 10
	// MaxTextSize bounds a message or task body, in bytes of UTF-8.
	MaxTextSize = 32 << 10
	// MaxNameSize bounds names, descriptions, icons and organization names.
	MaxNameSize = 1 << 10
	// MaxPrev bounds how many parents an event may name.
	MaxPrev = 32
	// MaxListSize bounds member and assignee lists inside one event.
	MaxListSize = 256
	// MaxFileSize bounds the size a file post may declare ([FileRef]):
	// 1 TiB. Nodes set their own, lower limits on what they accept
	// from their people and fetch from partners.
	MaxFileSize = 1 << 40
	// MaxFileNameSize bounds a file's name and media type, in bytes.
	MaxFileNameSize = 255
)
