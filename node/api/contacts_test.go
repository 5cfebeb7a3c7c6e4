// Replaces contacts_test.go once node has contacts; also add the field
// requests map[protocol.Handle]uint64 to contractEnv in contract_test.go.
package api

import (
	"fmt"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// requestFrom returns the ID of u's pending contact request to as.
func (e *env) requestFrom(t *testing.T, as, u *user) uint64 {
	t.Helper()
	rs, err := e.node.IncomingRequests(t.Context(), as.Handle)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.From == u.ID {
			return r.ID
		}
	}
	t.Fatalf("%s has no request from %s", as.Handle, u.Handle)
	return 0
}

// setupContacts makes dave alice's contact and has carol and erin ask to
// be hers.
func (e *contractEnv) setupContacts(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	dave, erin := e.newUser("dave", "Dave Ito"), e.newUser("erin", "Erin Kato")
	for _, u := range []*user{dave, e.carol, erin} {
		if err := e.node.RequestContact(ctx, u.Handle, e.alice.ID, "Hello from "+string(u.Handle)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.node.AcceptRequest(ctx, e.alice.Handle, e.requestFrom(t, e.alice, dave)); err != nil {
		t.Fatal(err)
	}
	e.requests = map[protocol.Handle]uint64{"carol": e.requestFrom(t, e.alice, e.carol), "erin": e.requestFrom(t, e.alice, erin)}
}

func (e *contractEnv) contactFixture(t *testing.T, m ramlMethod) fixture {
	switch m.String() {
	case "GET /contacts", "GET /incoming_requests":
		return fixture{as: e.alice, status: 200}
	case "PUT /incoming_requests/{request_id}":
		return fixture{as: e.alice, path: fmt.Sprint(e.requests["carol"]), status: 200}
	case "DELETE /incoming_requests/{request_id}":
		return fixture{as: e.alice, path: fmt.Sprint(e.requests["erin"]), status: 204}
	}
	return fixture{}
}

func TestContacts(t *testing.T) {
	e := newEnv(t, Config{})
	dave := e.newUser("dave", "Dave Ito")
	var carolReq, daveReq uint64
	runCalls(t, e, []call{
		{name: "no contacts", method: "GET", path: "/v2/contacts", as: e.alice, want: 200, check: wantLen(0)},
		{name: "no requests", method: "GET", path: "/v2/incoming_requests", as: e.alice, want: 200, check: wantLen(0)},
		{name: "request without account", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"message": "hi"}, want: 400},
		{name: "request with an unknown handle", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "nobody"}, want: 400},
		{name: "request with an unknown account_id", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": "99999"}, want: 400},
		{name: "request", method: "POST", path: "/api/contacts/requests", as: e.carol, form: kv{"account": string(e.alice.ID), "message": "Hi, it's Carol"}, want: 204},
		{name: "dave asks too", method: "POST", path: "/api/contacts/requests", as: dave, form: kv{"account": string(e.alice.ID)}, want: 204},
		{name: "requests", method: "GET", path: "/v2/incoming_requests", as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			rs := decodeAs[[]requestJSON](t, r)
			if len(rs) != 2 {
				t.Fatalf("requests = %s", r)
			}
			for _, x := range rs {
				switch x.AccountID {
				case e.carol.Alias:
					carolReq = x.RequestID
					if x.Message != "Hi, it's Carol" || x.Name != "Carol Suzuki" || x.ChatworkID != "carol" || x.OrgName != "Acme" {
						t.Fatalf("carol's request = %+v", x)
					}
				case dave.Alias:
					daveReq = x.RequestID
				default:
					t.Fatalf("request from %d", x.AccountID)
				}
			}
		}},
		{name: "requests of someone else", method: "GET", path: "/v2/incoming_requests", as: e.bob, want: 200, check: wantLen(0)},
	})
	runCalls(t, e, []call{
		{name: "accept bad id", method: "PUT", path: "/v2/incoming_requests/x", as: e.alice, want: 400},
		{name: "accept unknown", method: "PUT", path: "/v2/incoming_requests/99999", as: e.alice, want: 404},
		{name: "accept someone else's", method: "PUT", path: fmt.Sprintf("/v2/incoming_requests/%d", carolReq), as: e.bob, want: 404},
		{name: "accept", method: "PUT", path: fmt.Sprintf("/v2/incoming_requests/%d", carolReq), as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			c := decodeAs[contactJSON](t, r)
			if c.AccountID != e.carol.Alias || c.Name != "Carol Suzuki" || c.ChatworkID != "carol" || c.RoomID == 0 {
				t.Fatalf("accepted = %s", r)
			}
		}},
		{name: "contacts", method: "GET", path: "/v2/contacts", as: e.alice, want: 200, check: func(t *testing.T, r *response) {
			cs := decodeAs[[]contactJSON](t, r)
			if len(cs) != 1 || cs[0].AccountID != e.carol.Alias || cs[0].OrgName != "Acme" {
				t.Fatalf("contacts = %s", r)
			}
		}},
		{name: "reject (newer clients' path)", method: "DELETE", path: fmt.Sprintf("/v2/incoming_requests/%d/reject", daveReq), as: e.alice, want: 204},
		{name: "rejected is gone", method: "PUT", path: fmt.Sprintf("/v2/incoming_requests/%d/accept", daveReq), as: e.alice, want: 404},
		{name: "none left", method: "GET", path: "/v2/incoming_requests", as: e.alice, want: 200, check: wantLen(0)},
	})
}

var _ = node.ErrNotFound
