package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The people directory, and naming an account to add by its handle or
// email.

// defaultPeople is the page size of GET /api/people without limit.
const defaultPeople = 50

type personJSON struct {
	AccountID  uint64 `json:"account_id"`
	ID         string `json:"id"` // the global account ID
	ChatworkID string `json:"chatwork_id"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	OrgName    string `json:"organization_name"`
	Local      bool   `json:"local"`
	Avatar     string `json:"avatar_image_url"` // "" without a picture (avatars are local accounts' only)
}

// people answers GET /api/people: a page of the caller's people directory
// (node.People), searched with q.
func (s *Server) people(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	q, _, err := p.text("q", false, 0, 200)
	if err != nil {
		return err
	}
	limit, given, err := p.integer("limit")
	if err != nil {
		return err
	}
	if !given {
		limit = defaultPeople
	}
	if limit < 1 || limit > node.MaxPeople {
		return invalid(fmt.Sprintf("parameter limit must be between 1 and %d", node.MaxPeople))
	}
	offset, _, err := p.integer("offset")
	if err != nil {
		return err
	}
	if offset > 1<<30 {
		return invalid("parameter offset is too large")
	}
	page, err := s.node.People(r.Context(), c.handle(), node.PeopleQuery{Query: q, Offset: int(offset), Limit: int(limit)})
	if err != nil {
		return err
	}
	type pageJSON struct {
		People     []personJSON `json:"people"`
		Total      int          `json:"total"`
		NextOffset *int         `json:"next_offset"`
	}
	out := pageJSON{People: make([]personJSON, 0, len(page.People)), Total: page.Total}
	ids := make([]protocol.AccountID, len(page.People))
	for i, x := range page.People {
		ids[i] = x.ID
	}
	avatars, err := s.node.AvatarVersions(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, x := range page.People {
		out.People = append(out.People, personJSON{AccountID: x.Alias, ID: string(x.ID), ChatworkID: string(x.Handle),
			Name: x.Name, Email: x.Email, OrgName: x.Org, Local: x.Local, Avatar: avatarPath(x.Alias, avatars[x.ID])})
	}
	if next := int(offset) + len(page.People); next < page.Total {
		out.NextOffset = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxMemberList bounds each of a request's member lists (members_admin_ids
// and the others, of POST /v2/rooms and PUT /v2/rooms/{id}/members): an
// all-hands room of an organization of thousands is set in one request.
// The node adds them in as few events as the protocol allows, each listing
// at most protocol.MaxListSize.
const maxMemberList = 10_000

// accountRefs reads a comma-separated list of accounts to add: each an
// account_id, a global account ID, or a local handle or email
// (node.ResolveAccount). An unknown one is a bad parameter.
func (s *Server) accountRefs(ctx context.Context, p *params, name string) ([]protocol.AccountID, []string, error) {
	v, _, err := p.get(name)
	if err != nil || strings.TrimSpace(v) == "" {
		return nil, nil, err
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxMemberList {
		return nil, nil, invalid(fmt.Sprintf("parameter %s lists more than %d accounts", name, maxMemberList))
	}
	out := make([]protocol.AccountID, 0, len(parts))
	refs := make([]string, 0, len(parts))
	for _, part := range parts {
		ref := strings.TrimSpace(part)
		a, err := s.accountRef(ctx, name, ref)
		if err != nil {
			return nil, nil, err
		}
		out, refs = append(out, a), append(refs, ref)
	}
	return out, refs, nil
}

// accountRef resolves one account named in parameter name: an account_id
// if it is all digits, else as node.ResolveAccount reads it.
func (s *Server) accountRef(ctx context.Context, name, ref string) (protocol.AccountID, error) {
	if ref != "" && strings.Trim(ref, "0123456789") == "" {
		n, err := strconv.ParseUint(ref, 10, 63)
		if err != nil || n == 0 {
			return "", invalid(fmt.Sprintf("parameter %s: %s is not an account_id", name, ref))
		}
		a, err := s.node.AccountByAlias(ctx, n)
		if errors.Is(err, node.ErrNotFound) {
			return "", invalid(fmt.Sprintf("parameter %s: no account %d", name, n))
		}
		return a, err
	}
	a, err := s.node.ResolveAccount(ctx, ref)
	if p := (*node.Problem)(nil); errors.As(err, &p) {
		return "", invalid(fmt.Sprintf("parameter %s: %s", name, p.Msg))
	}
	return a, err
}
