package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/horenso/horenso/node"
)

// maxTokenDays bounds expires_in_days: ten years.
const maxTokenDays = 3650

// tokenView is one API token in /api/tokens; times are unix seconds, as
// in /api/sessions.
type tokenView struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"` // empty: full access
	Rooms    []uint64 `json:"rooms"`  // empty: every room
	Created  int64    `json:"created"`
	Expires  int64    `json:"expires"`         // 0: never
	LastUsed int64    `json:"last_used"`       // 0: never used
	Token    string   `json:"token,omitempty"` // only when just created
}

func tokenViewOf(t *node.TokenInfo) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Rooms: t.Rooms, Created: t.Created / 1000,
		Expires: t.Expires / 1000, LastUsed: t.LastUsed / 1000, Token: t.Token}
}

// tokensJSON answers GET /api/tokens: the caller's API tokens, and the
// scope names a new one may have.
type tokensJSON struct {
	Tokens []tokenView `json:"tokens"`
	Scopes []string    `json:"scopes"`
}

// tokens lists the caller's API tokens (not its web sessions), newest
// first.
func (s *Server) tokens(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.node.APITokens(r.Context(), c.handle())
	if err != nil {
		return err
	}
	out := tokensJSON{Tokens: make([]tokenView, 0, len(ts)), Scopes: node.Scopes()}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, tokenViewOf(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createToken makes an API token for the caller: parameters name,
// scopes (comma-separated ChatWork scope names; none: full access),
// rooms (comma-separated room_ids) and expires_in_days (none or 0:
// never). The answer, 201, is the only time the token is shown.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	name, _, err := p.text("name", false, 0, 100)
	if err != nil {
		return err
	}
	var spec node.TokenSpec
	spec.Name = name
	raw, _, err := p.get("scopes")
	if err != nil {
		return err
	}
	for _, sc := range strings.Split(raw, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			spec.Scopes = append(spec.Scopes, sc)
		}
	}
	if spec.Rooms, err = p.ids("rooms"); err != nil {
		return err
	}
	days, _, err := p.integer("expires_in_days")
	if err != nil {
		return err
	}
	if days > maxTokenDays {
		return invalid("parameter expires_in_days must be at most 3650")
	}
	spec.TTL = time.Duration(days) * 24 * time.Hour
	t, err := s.node.CreateScopedToken(r.Context(), c.handle(), spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenViewOf(t))
	return nil
}

// revokeToken revokes one of the caller's API tokens by its ID.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.node.RevokeAPIToken(r.Context(), c.handle(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
