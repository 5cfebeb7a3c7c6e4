package web_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// TestBrowserPeople: a new employee, in no room and with no contacts,
// finds a colleague in the new group chat dialog by typing part of her
// name, creates a group with her, and asks another colleague to be a
// contact by handle (testdata/browser/people.test.mjs).
func TestBrowserPeople(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme 株式会社")
	newbie := acme.person(t, "newbie", "New Employee")
	hanako := acme.colleague(t, "hanako", "佐藤 花子", "h.sato@acme.example")
	taro := acme.colleague(t, "taro", "山田 太郎", "t.yamada@acme.example")
	gone := acme.person(t, "gone", "Gone Away")
	if err := acme.n.SetDisabled(t.Context(), gone.acc.Handle, true); err != nil {
		t.Fatal(err)
	}
	// Colleagues in rooms of their own, which the new employee is not in.
	acme.room(t, hanako, "経理", "", taro)
	for i := range 30 {
		acme.colleague(t, fmt.Sprintf("staff%02d", i), fmt.Sprintf("Staff Member %02d", i), "")
	}
	cfg := e2eConfig{
		People:      map[string]*person{"newbie": newbie, "hanako": hanako, "taro": taro, "gone": gone},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/people.test.mjs")
}

// colleague creates an account with an email and no password: someone the
// people in the test find, never log in as.
func (tn *testNode) colleague(t *testing.T, handle, name, email string) *person {
	t.Helper()
	acc, err := tn.n.CreateAccount(t.Context(), node.NewAccount{Handle: protocol.Handle(handle), Name: name, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return &person{Base: tn.URL, Name: name, ID: acc.Alias, Global: string(acc.ID), acc: acc}
}
