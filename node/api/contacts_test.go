package api

import (
	"testing"
)

// Until the node has contacts, the contract test checks only that their
// endpoints are routed.

func (e *contractEnv) setupContacts(t *testing.T) {}

func (e *contractEnv) contactFixture(t *testing.T, m ramlMethod) fixture {
	const why = "contacts are not in the node yet: 501"
	switch m.String() {
	case "GET /contacts", "GET /incoming_requests":
		return fixture{as: e.alice, status: 501, why: why}
	case "PUT /incoming_requests/{request_id}", "DELETE /incoming_requests/{request_id}":
		return fixture{as: e.alice, path: "1", status: 501, why: why}
	}
	return fixture{}
}
