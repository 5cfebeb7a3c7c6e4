package protocol

import (
	"strings"
	"testing"
)

func TestRewriteRefs(t *testing.T) {
	upper := func(a string) string { return strings.ToUpper(a) }
	swap := func(room, msg string) (string, string) { return msg, room }
	for _, tc := range []struct{ in, want string }{
		{"no tags", "no tags"},
		{"[To:bob@n1] hi [toall]", "[To:BOB@N1] hi [toall]"},
		{"[rp aid=bob@n1 to=r-m] ok", "[rp aid=BOB@N1 to=m-r] ok"},
		{"[qt][qtmeta aid=al time=1]x[/qt]", "[qt][qtmeta aid=AL time=1]x[/qt]"},
		{"[piconname:c] [pname:d] [picon:e]", "[piconname:C] [pname:D] [picon:E]"},
		{"[To:] [To:a b] [rp aid=]", "[To:] [To:a b] [rp aid=]"},
	} {
		if got := RewriteRefs(tc.in, upper, swap); got != tc.want {
			t.Errorf("RewriteRefs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
