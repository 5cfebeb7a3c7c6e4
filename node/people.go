package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// The people directory: whom an account can find to add to a room or ask
// to be a contact. It holds the node's enabled local accounts and the
// partners' accounts the asking account already meets: those of the rooms
// it is in, which include its direct chats, hence its contacts. It never
// shows an account of a partner's room the asker is not in, so the
// directory tells nobody more about partners than their rooms already do.

// Person is one entry of the people directory.
type Person struct {
	ID     protocol.AccountID `json:"id"`
	Alias  uint64             `json:"account_id"`
	Handle protocol.Handle    `json:"handle"`
	Name   string             `json:"name"`
	Email  string             `json:"email,omitempty"` // local accounts only
	Org    string             `json:"org,omitempty"`
	Local  bool               `json:"local"`
}

// PeopleQuery selects a page of the people directory.
type PeopleQuery struct {
	// Query, if not empty, keeps the people whose name, handle, email or
	// organization contains it, compared after NFKC normalization and
	// without regard to case or to katakana and hiragana, so "ｙａｍａ"
	// finds "Yamada", "田中" finds "田中 太郎" and "さとう" finds "サトウ".
	Query  string
	Offset int // people to skip; default 0
	Limit  int // at most this many; default and maximum MaxPeople
}

// MaxPeople is the largest page People returns.
const MaxPeople = 200

// PeoplePage is a page of the people directory: local people first, each
// group by name.
type PeoplePage struct {
	People []*Person
	Total  int // people matching the query, on all pages
}

// fold is the form search compares: NFKC, lower case, katakana as
// hiragana (the web app's fold in text.js does the same).
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ァ' && r <= 'ヶ' {
			return r - 0x60
		}
		return r
	}, strings.ToLower(norm.NFKC.String(s)))
}

// candidate is a person before the page is cut, without the alias, which
// costs a read and is looked up only for the people on the page.
type candidate struct {
	p    Person
	name string // folded
}

func (c *candidate) matches(q string) bool {
	return q == "" || strings.Contains(c.name, q) || strings.Contains(string(c.p.Handle), q) ||
		strings.Contains(strings.ToLower(c.p.Email), q) || strings.Contains(fold(c.p.Org), q)
}

// People returns a page of the people directory as the enabled local
// account as sees it. Emails are those of local accounts; a partner's
// accounts have none here.
func (n *Node) People(ctx context.Context, as protocol.Handle, pq PeopleQuery) (*PeoplePage, error) {
	if pq.Limit <= 0 || pq.Limit > MaxPeople {
		pq.Limit = MaxPeople
	}
	pq.Offset = max(pq.Offset, 0)
	q := fold(strings.TrimSpace(pq.Query))
	out := &PeoplePage{People: []*Person{}}
	err := n.store.View(func(tx *storage.Tx) error {
		me, err := n.actor(tx, as)
		if err != nil {
			return err
		}
		var found []*candidate
		accounts, err := tx.Accounts()
		if err != nil {
			return err
		}
		for _, a := range accounts {
			if a.Disabled {
				continue
			}
			c := &candidate{p: Person{ID: protocol.NewAccountID(n.id, a.Handle), Handle: a.Handle, Name: a.Name,
				Email: a.Email, Org: a.Org, Local: true}, name: fold(a.Name)}
			if c.matches(q) {
				found = append(found, c)
			}
		}
		partners, err := n.partnerPeople(tx, me.ID)
		if err != nil {
			return err
		}
		for _, c := range partners {
			if c.matches(q) {
				found = append(found, c)
			}
		}
		slices.SortFunc(found, func(a, b *candidate) int {
			if a.p.Local != b.p.Local {
				if a.p.Local {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.p.ID, b.p.ID))
		})
		out.Total = len(found)
		page := found[min(pq.Offset, len(found)):min(pq.Offset+pq.Limit, len(found))]
		for _, c := range page {
			p := c.p
			if p.Alias, err = tx.LookupAlias(storage.AliasAccount, []byte(p.ID)); err != nil {
				return err
			}
			out.People = append(out.People, &p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("people for %s: %w", as, err)
	}
	return out, nil
}

// partnerPeople returns the accounts of partners' nodes in the rooms of me,
// with the name and organization the rooms carry.
func (n *Node) partnerPeople(tx *storage.Tx, me protocol.AccountID) ([]*candidate, error) {
	ms, err := tx.RoomsOf(me)
	if err != nil {
		return nil, err
	}
	seen := map[protocol.AccountID]*candidate{}
	for _, m := range ms {
		c, err := n.control(tx, m.Room)
		if err != nil {
			return nil, err
		}
		for a, info := range c.Members.All() {
			if a.Node() == n.id {
				continue
			}
			if old, ok := seen[a]; ok && old.p.Name != string(a.Handle()) {
				continue // the first room with a name for it wins
			}
			name := cmp.Or(info.Name, string(a.Handle()))
			seen[a] = &candidate{p: Person{ID: a, Handle: a.Handle(), Name: name, Org: info.Org}, name: fold(name)}
		}
	}
	out := make([]*candidate, 0, len(seen))
	for _, c := range seen {
		out = append(out, c)
	}
	return out, nil
}

// ResolveAccount reads ref, the way a person names an account to add: a
// global account ID (handle@nodeid), or the handle or email of an enabled
// local account (email without regard to case). An unknown or disabled
// account, or a ref that is both a global ID and another local account's
// email, is ErrInvalid with a message for the client. A global ID of a
// partner's account is returned as it is, whether or not the node has met
// it.
func (n *Node) ResolveAccount(ctx context.Context, ref string) (protocol.AccountID, error) {
	ref = strings.TrimSpace(ref)
	var out protocol.AccountID
	err := n.store.View(func(tx *storage.Tx) error {
		global := protocol.AccountID(ref)
		if global.Validate() != nil {
			global = ""
		}
		var local *storage.Account
		var err error
		switch {
		case ref == "":
			return problem(ErrInvalid, "no account given")
		case strings.Contains(ref, "@"):
			local, err = tx.AccountByEmail(ref)
		default:
			local, err = tx.Account(protocol.Handle(strings.ToLower(ref)))
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		switch {
		case local != nil && global != "" && protocol.NewAccountID(n.id, local.Handle) != global:
			return problem(ErrInvalid, "%q is both a global account ID and the email of %s: give the handle instead", ref, local.Handle)
		case global != "":
			out = global
		case local == nil:
			return problem(ErrInvalid, "no account with handle or email %q on this node (an account of a partner's node is named handle@nodeid)", ref)
		case local.Disabled:
			return problem(ErrInvalid, "account %s is disabled", local.Handle)
		default:
			out = protocol.NewAccountID(n.id, local.Handle)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("resolve account %q: %w", ref, err)
	}
	return out, nil
}
