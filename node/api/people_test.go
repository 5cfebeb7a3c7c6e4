package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

type peoplePageJSON struct {
	People     []personJSON `json:"people"`
	Total      int          `json:"total"`
	NextOffset *int         `json:"next_offset"`
}

func handlesOf(ps []personJSON) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ChatworkID)
	}
	return out
}

// wantPeople checks the handles of a page of the directory, in order.
func wantPeople(handles ...string) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		if got := handlesOf(decodeAs[peoplePageJSON](t, r).People); !slices.Equal(got, handles) {
			t.Fatalf("people = %q, want %q (%s)", got, handles, r)
		}
	}
}

func peoplePath(q url.Values) string { return "/api/people?" + q.Encode() }

func TestPeopleDirectory(t *testing.T) {
	e := newEnv(t, Config{})
	tanaka := e.newUser("tanaka", "田中 太郎")
	yamada := e.newUser("yamada", "Ｙａｍａｄａ Hanako") // fullwidth: NFKC folds it to "Yamada"
	gone := e.newUser("gone", "Gone Away")
	if err := e.node.SetDisabled(t.Context(), gone.Handle, true); err != nil {
		t.Fatal(err)
	}
	e.newUser("sato", "サトウ ｲﾁﾛｳ") // halfwidth katakana too
	runCalls(t, e, []call{
		{name: "kana either way", method: "GET", path: peoplePath(url.Values{"q": {"さとう いちろう"}}), as: e.carol, want: 200,
			check: wantPeople("sato")},
		{name: "needs a credential", method: "GET", path: "/api/people", want: 401},
		{name: "everyone enabled, by name", method: "GET", path: "/api/people", as: e.carol, want: 200,
			check: wantPeople("alice", "bob", "carol", "yamada", "sato", "tanaka")},
		{name: "the fields", method: "GET", path: peoplePath(url.Values{"q": {"alice"}}), as: e.carol, want: 200, check: func(t *testing.T, r *response) {
			p := decodeAs[peoplePageJSON](t, r)
			want := personJSON{AccountID: e.alice.Alias, ID: string(e.alice.ID), ChatworkID: "alice", Name: "Alice Sato",
				Email: "alice@acme.example", OrgName: "Acme", Local: true}
			if len(p.People) != 1 || p.People[0] != want || p.Total != 1 || p.NextOffset != nil {
				t.Fatalf("alice = %s, want %+v", r, want)
			}
		}},
		{name: "by part of a name, any case", method: "GET", path: peoplePath(url.Values{"q": {"TANAKA"}}), as: e.carol, want: 200,
			check: wantPeople("bob", "tanaka")},
		{name: "a Japanese name", method: "GET", path: peoplePath(url.Values{"q": {"田中"}}), as: e.carol, want: 200,
			check: wantPeople("tanaka")},
		{name: "fullwidth name, ASCII query", method: "GET", path: peoplePath(url.Values{"q": {"yamada h"}}), as: e.carol, want: 200,
			check: wantPeople("yamada")},
		{name: "fullwidth query", method: "GET", path: peoplePath(url.Values{"q": {"ＣＡＲＯＬ"}}), as: e.alice, want: 200,
			check: wantPeople("carol")},
		{name: "by email", method: "GET", path: peoplePath(url.Values{"q": {"bob@acme"}}), as: e.carol, want: 200,
			check: wantPeople("bob")},
		{name: "disabled is not found", method: "GET", path: peoplePath(url.Values{"q": {"gone"}}), as: e.carol, want: 200,
			check: wantPeople()},
		{name: "first page", method: "GET", path: peoplePath(url.Values{"limit": {"2"}}), as: e.carol, want: 200, check: func(t *testing.T, r *response) {
			p := decodeAs[peoplePageJSON](t, r)
			if got := handlesOf(p.People); !slices.Equal(got, []string{"alice", "bob"}) || p.Total != 6 || p.NextOffset == nil || *p.NextOffset != 2 {
				t.Fatalf("page = %s", r)
			}
		}},
		{name: "last page", method: "GET", path: peoplePath(url.Values{"limit": {"2"}, "offset": {"5"}}), as: e.carol, want: 200, check: func(t *testing.T, r *response) {
			p := decodeAs[peoplePageJSON](t, r)
			if got := handlesOf(p.People); !slices.Equal(got, []string{"tanaka"}) || p.NextOffset != nil {
				t.Fatalf("page = %s", r)
			}
		}},
		{name: "past the end", method: "GET", path: peoplePath(url.Values{"offset": {"99"}}), as: e.carol, want: 200, check: wantPeople()},
		{name: "limit 0", method: "GET", path: peoplePath(url.Values{"limit": {"0"}}), as: e.carol, want: 400},
		{name: "limit too large", method: "GET", path: peoplePath(url.Values{"limit": {"201"}}), as: e.carol, want: 400},
		{name: "bad offset", method: "GET", path: peoplePath(url.Values{"offset": {"-1"}}), as: e.carol, want: 400},
	})
	_, _ = tanaka, yamada
}

// TestPeopleDirectory5000 checks search and paging over 5,000 accounts;
// BenchmarkPeople measures it.
func TestPeopleDirectory5000(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 5,000 accounts")
	}
	e := newEnv(t, Config{})
	manyAccounts(t, e.node, 5000)
	var all []string
	for off := 0; ; {
		r := e.do("GET", peoplePath(url.Values{"limit": {"200"}, "offset": {fmt.Sprint(off)}}), req{token: e.alice.token})
		p := decodeAs[peoplePageJSON](t, r)
		all = append(all, handlesOf(p.People)...)
		if p.Total != 5003 {
			t.Fatalf("total = %d, want 5003", p.Total)
		}
		if p.NextOffset == nil {
			break
		}
		off = *p.NextOffset
	}
	if len(all) != 5003 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 5003 {
		t.Fatalf("paged through %d people, want 5003 distinct", len(all))
	}
	r := e.do("GET", peoplePath(url.Values{"q": {"社員 0421"}}), req{token: e.alice.token})
	if got := handlesOf(decodeAs[peoplePageJSON](t, r).People); !slices.Equal(got, []string{"u0421"}) {
		t.Fatalf("search 社員 0421 = %q", got)
	}
	r = e.do("GET", peoplePath(url.Values{"q": {"042"}, "limit": {"200"}}), req{token: e.alice.token})
	if p := decodeAs[peoplePageJSON](t, r); p.Total != 15 { // 0042, 0420..0429, 1042, 2042, 3042, 4042
		t.Fatalf("search 042: total %d, want 15", p.Total)
	}
}

// manyAccounts creates n accounts u0000… named "社員 0000"….
func manyAccounts(t testing.TB, n *node.Node, count int) {
	t.Helper()
	for i := range count {
		h := protocol.Handle(fmt.Sprintf("u%04d", i))
		if _, err := n.CreateAccount(t.Context(), node.NewAccount{Handle: h, Name: fmt.Sprintf("社員 %04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkPeople(b *testing.B) {
	e := newEnv(b, Config{})
	manyAccounts(b, e.node, 5000)
	for _, q := range []string{"", "社員 0421", "nobody"} {
		b.Run(fmt.Sprintf("q=%q", q), func(b *testing.B) {
			for b.Loop() {
				if _, err := e.node.People(b.Context(), e.alice.Handle, node.PeopleQuery{Query: q, Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAddByHandleOrEmail: the members lists and contact requests take a
// local handle or email, as well as account_ids and global IDs.
func TestAddByHandleOrEmail(t *testing.T) {
	e := newEnv(t, Config{})
	dave := e.newUser("dave", "Dave Ito")
	gone := e.newUser("gone", "Gone Away")
	if err := e.node.SetDisabled(t.Context(), gone.Handle, true); err != nil {
		t.Fatal(err)
	}
	roomPath := fmt.Sprintf("/v2/rooms/%d/members", e.room.Alias)
	wantMembers := func(want ...*user) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			t.Helper()
			got := decodeAs[map[string][]uint64](t, r)
			var all []uint64
			for _, l := range got {
				all = append(all, l...)
			}
			var ids []uint64
			for _, u := range want {
				ids = append(ids, u.Alias)
			}
			if slices.Sort(all); !slices.Equal(all, slices.Sorted(slices.Values(ids))) {
				t.Fatalf("members = %s", r)
			}
		}
	}
	wantError := func(part string) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			t.Helper()
			if errs := r.errors(t); len(errs) != 1 || !strings.Contains(errs[0], part) {
				t.Fatalf("errors = %q, want one containing %q", errs, part)
			}
		}
	}
	admin := fmt.Sprint(e.alice.Alias)
	runCalls(t, e, []call{
		{name: "add by handle", method: "PUT", path: roomPath, as: e.alice, want: 200,
			form: kv{"members_admin_ids": admin, "members_member_ids": "bob,carol"}, check: wantMembers(e.alice, e.bob, e.carol)},
		{name: "add by email, any case", method: "PUT", path: roomPath, as: e.alice, want: 200,
			form: kv{"members_admin_ids": admin, "members_member_ids": "bob, Dave@ACME.example"}, check: wantMembers(e.alice, e.bob, dave)},
		{name: "a handle in upper case", method: "PUT", path: roomPath, as: e.alice, want: 200,
			form: kv{"members_admin_ids": "ALICE", "members_readonly_ids": string(e.bob.ID)}, check: wantMembers(e.alice, e.bob)},
		{name: "unknown handle", method: "PUT", path: roomPath, as: e.alice, want: 400,
			form: kv{"members_admin_ids": admin, "members_member_ids": "nobody"}, check: wantError(`members_member_ids: no account with handle or email "nobody"`)},
		{name: "unknown email", method: "PUT", path: roomPath, as: e.alice, want: 400,
			form: kv{"members_admin_ids": admin, "members_member_ids": "nobody@acme.example"}, check: wantError("no account with handle or email")},
		{name: "disabled", method: "PUT", path: roomPath, as: e.alice, want: 400,
			form: kv{"members_admin_ids": admin, "members_member_ids": "gone"}, check: wantError("account gone is disabled")},
		{name: "one account named twice", method: "PUT", path: roomPath, as: e.alice, want: 400,
			form: kv{"members_admin_ids": admin, "members_member_ids": "bob,bob@acme.example"}, check: wantError("named twice")},
		{name: "unknown account_id", method: "PUT", path: roomPath, as: e.alice, want: 400,
			form: kv{"members_admin_ids": admin, "members_member_ids": "99999"}, check: wantError("no account 99999")},
		{name: "create a room by handles", method: "POST", path: "/v2/rooms", as: e.alice, want: 200,
			form: kv{"name": "By handle", "members_admin_ids": "alice", "members_member_ids": "dave"}},

		{name: "contact by handle", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "alice"}, want: 204},
		{name: "contact by email", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "BOB@acme.example"}, want: 204},
		{name: "contact unknown", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "nobody"}, want: 400,
			check: wantError(`parameter account: no account with handle or email "nobody"`)},
		{name: "contact disabled", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "gone@acme.example"}, want: 400,
			check: wantError("disabled")},
	})
	for _, u := range []*user{e.alice, e.bob} {
		if rs, err := e.node.IncomingRequests(t.Context(), u.Handle); err != nil || len(rs) != 1 || rs[0].From != e.carol.ID {
			t.Fatalf("%s's requests = %+v, %v; want carol's", u.Handle, rs, err)
		}
	}
}

// TestResolveAmbiguous: an email that reads as another account's global ID
// is refused rather than guessed.
func TestResolveAmbiguous(t *testing.T) {
	e := newEnv(t, Config{})
	// An email that is also a valid global ID: bob's, but belonging to mallory.
	if _, err := e.node.CreateAccount(t.Context(), node.NewAccount{Handle: "mallory", Email: string(e.bob.ID)}); err != nil {
		t.Skipf("the node refuses such an email: %v", err)
	}
	_, err := e.node.ResolveAccount(t.Context(), string(e.bob.ID))
	if err == nil || !strings.Contains(err.Error(), "both a global account ID and the email of mallory") {
		t.Fatalf("resolve = %v, want ambiguous", err)
	}
}
