package protocol

import (
	"regexp"
	"strings"
)

// Message and task bodies are ChatWork notation, stored with global IDs
// so that every node reads them alike:
//
//	[To:handle@nodeid]  [rp aid=handle@nodeid to=<room ID>-<message ID>]
//	[pname:…] [picon:…] [piconname:…]  [qt][qtmeta aid=handle@nodeid time=…]…[/qt]
//
// A node shows them to ChatWork clients with its own numeric aliases
// ([To:123], [rp aid=123 to=45-678]) and takes those in: [RewriteRefs]
// finds the references either way.

// notationRefs matches the account and message references of ChatWork
// notation: groups 1 and 2 a tag with an account ([To:x]); groups 3 to 6
// a reply, quote or (in a system message) task header with an account
// and, for a reply, a room and message.
var notationRefs = regexp.MustCompile(`\[(To|pname|picon|piconname):([^\]\s]{1,200})\]|\[(rp|qtmeta|task) aid=([^\]\s]{1,200})(?: to=([^\]\s-]{1,100})-([^\]\s]{1,100}))?`)

// RewriteRefs returns body with every account reference a replaced by
// account(a), and every reply target room-msg by target(room, msg); the
// rest of body, and references the functions return unchanged, stay as
// they are.
func RewriteRefs(body string, account func(a string) string, target func(room, msg string) (string, string)) string {
	if !strings.Contains(body, "[") {
		return body
	}
	return notationRefs.ReplaceAllStringFunc(body, func(s string) string {
		g := notationRefs.FindStringSubmatch(s)
		if g[1] != "" {
			return "[" + g[1] + ":" + account(g[2]) + "]"
		}
		out := "[" + g[3] + " aid=" + account(g[4])
		if g[5] != "" {
			room, msg := target(g[5], g[6])
			out += " to=" + room + "-" + msg
		}
		return out
	})
}
