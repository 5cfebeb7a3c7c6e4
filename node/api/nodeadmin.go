package api

import (
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// The node's administration over HTTP, for its admins (accounts with
// Admin set): users, partners, other accounts' API tokens and webhooks,
// and the node's status. Everyone else gets 403. These are what the
// `horenso user|partner|token|webhook|status` commands do over the
// control socket, for an admin in a browser.

func (s *Server) adminRoutes() {
	s.handle("GET /api/admin/status", s.admin(s.adminStatus))
	s.handle("GET /api/admin/users", s.admin(s.adminUsers))
	s.handle("POST /api/admin/users", s.admin(s.adminAddUser))
	s.handle("PUT /api/admin/users/{handle}/disabled", s.admin(s.adminDisable(true)))
	s.handle("DELETE /api/admin/users/{handle}/disabled", s.admin(s.adminDisable(false)))
	s.handle("POST /api/admin/users/{handle}/password", s.admin(s.adminResetPassword))
	s.handle("GET /api/admin/partners", s.admin(s.adminPartners))
	s.handle("POST /api/admin/partners", s.admin(s.adminAddPartner))
	s.handle("DELETE /api/admin/partners/{node_id}", s.admin(s.adminRemovePartner))
	// Another account's API tokens and webhooks: the account's own
	// endpoints, as that account.
	s.handle("GET /api/admin/users/{handle}/tokens", s.admin(s.asUser(s.tokens)))
	s.handle("POST /api/admin/users/{handle}/tokens", s.admin(s.asUser(s.createToken)))
	s.handle("DELETE /api/admin/users/{handle}/tokens/{id}", s.admin(s.asUser(s.revokeToken)))
	s.handle("GET /api/admin/users/{handle}/webhooks", s.admin(s.asUser(s.webhooks)))
	s.handle("POST /api/admin/users/{handle}/webhooks", s.admin(s.asUser(s.createWebhook)))
	s.handle("PUT /api/admin/users/{handle}/webhooks/{webhook_id}", s.admin(s.asUser(s.updateWebhook)))
	s.handle("DELETE /api/admin/users/{handle}/webhooks/{webhook_id}", s.admin(s.asUser(s.deleteWebhook)))
	s.handle("GET /api/admin/users/{handle}/webhooks/{webhook_id}/deliveries", s.admin(s.asUser(s.webhookDeliveries)))
}

// admin refuses h to callers who are not the node's admins.
func (s *Server) admin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		if !c.acc.Admin {
			return forbidden("only the node's admins may do this")
		}
		return h(w, r, c)
	}
}

// asUser runs h as the local account the path's {handle} names, for an
// admin: ErrNotFound if there is none.
func (s *Server) asUser(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		acc, err := s.node.Account(r.Context(), protocol.Handle(r.PathValue("handle")))
		if err != nil {
			return err
		}
		return h(w, r, &caller{acc: acc, ids: newResolver(s.node, acc.Handle)})
	}
}

// userJSON is a local account as the admin pages show it; times are unix
// seconds.
type userJSON struct {
	AccountID uint64 `json:"account_id"`
	Handle    string `json:"handle"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Admin     bool   `json:"admin"`
	Disabled  bool   `json:"disabled"`
	Created   int64  `json:"created"`
	Avatar    string `json:"avatar_image_url"`
	// Password is the account's new password, only in the answer that
	// made it (a new account without one given, a reset).
	Password string `json:"password,omitempty"`
}

func userView(a *node.Account) userJSON {
	return userJSON{AccountID: a.Alias, Handle: string(a.Handle), Name: a.Name, Email: a.Email, Admin: a.Admin,
		Disabled: a.Disabled, Created: a.Created / 1000, Avatar: avatarPath(a.Alias, a.Avatar)}
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	as, err := s.node.Accounts(r.Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(as))
	for _, a := range as {
		out = append(out, userView(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminAddUser creates a local account: handle (required), name, email,
// password, admin. Without a password the node makes one and answers it,
// once.
func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	handle, _, err := p.text("handle", true, 1, 64)
	if err != nil {
		return err
	}
	name, _, err := p.text("name", false, 0, 255)
	if err != nil {
		return err
	}
	email, _, err := p.text("email", false, 0, 320)
	if err != nil {
		return err
	}
	password, given, err := p.text("password", false, 0, node.MaxPasswordLen)
	if err != nil {
		return err
	}
	admin, err := p.boolean("admin", false)
	if err != nil {
		return err
	}
	if !given || password == "" {
		password, given = node.GeneratePassword(), false
	}
	acc, err := s.node.CreateAccount(r.Context(), node.NewAccount{Handle: protocol.Handle(handle), Name: name,
		Email: email, Password: password, Admin: admin})
	if err != nil {
		return err
	}
	s.log.Info("account created by an admin", "handle", acc.Handle, "by", c.handle())
	v := userView(acc)
	if !given {
		v.Password = password
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// adminDisable disables (PUT) or re-enables (DELETE) an account. An admin
// cannot disable their own account, so a node never locks out its last
// admin by a slip.
func (s *Server) adminDisable(disabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		h := protocol.Handle(r.PathValue("handle"))
		if disabled && h == c.handle() {
			return invalid("you cannot disable your own account")
		}
		if err := s.node.SetDisabled(r.Context(), h, disabled); err != nil {
			return err
		}
		s.log.Info("account disabled by an admin", "handle", h, "disabled", disabled, "by", c.handle())
		acc, err := s.node.Account(r.Context(), h)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, userView(acc))
		return nil
	}
}

// adminResetPassword gives an account a new random password, ends its web
// sessions and answers the password, once.
func (s *Server) adminResetPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	h := protocol.Handle(r.PathValue("handle"))
	pw, err := s.node.ResetPassword(r.Context(), h)
	if err != nil {
		return err
	}
	s.log.Info("password reset by an admin", "handle", h, "by", c.handle())
	acc, err := s.node.Account(r.Context(), h)
	if err != nil {
		return err
	}
	v := userView(acc)
	v.Password = pw
	writeJSON(w, http.StatusOK, v)
	return nil
}

// adminPartnerJSON is a partner node on the admin pages: who it is (the
// organization name its people carry in shared rooms), where it is dialed,
// whether it is connected and, if not, when it last was (unix seconds; 0:
// not since the node started).
type adminPartnerJSON struct {
	NodeID      string   `json:"node_id"`
	OrgName     string   `json:"organization_name"`
	Addrs       []string `json:"addrs"`
	Added       int64    `json:"added"`
	Connected   bool     `json:"connected"`
	LastSeen    int64    `json:"last_seen"`
	RoomsShared int      `json:"rooms_shared"`
	Unacked     uint64   `json:"unacked"`
	LastError   string   `json:"last_error,omitempty"`
}

func partnerHealthView(p *node.PartnerHealth) adminPartnerJSON {
	v := adminPartnerJSON{NodeID: string(p.ID), OrgName: p.Org, Addrs: p.Addrs, Added: p.Added / 1000,
		Connected: p.Connected, RoomsShared: p.Rooms, Unacked: p.Unacked, LastError: p.Health.LastError}
	if v.Addrs == nil {
		v.Addrs = []string{}
	}
	if !p.Health.LastSeen.IsZero() {
		v.LastSeen = p.Health.LastSeen.Unix()
	}
	return v
}

func (s *Server) adminPartners(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := s.node.PartnerHealth(r.Context())
	if err != nil {
		return err
	}
	out := make([]adminPartnerJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, partnerHealthView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminAddPartner adds a partner by its address: parameter addr, a
// multiaddr ending in /p2p/<node ID>, as the partner's status page shows.
func (s *Server) adminAddPartner(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	addr, _, err := p.text("addr", true, 1, 1024)
	if err != nil {
		return err
	}
	pt, err := s.node.AddPartner(r.Context(), addr)
	if err != nil {
		return err
	}
	s.log.Info("partner added by an admin", "partner", pt.ID, "by", c.handle())
	writeJSON(w, http.StatusCreated, partnerHealthView(&node.PartnerHealth{Partner: *pt}))
	return nil
}

func (s *Server) adminRemovePartner(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := protocol.NodeID(r.PathValue("node_id"))
	if err := s.node.RemovePartner(r.Context(), id); err != nil {
		return err
	}
	s.log.Info("partner removed by an admin", "partner", id, "by", c.handle())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminStatusJSON is the node's status page: what it runs, who it is,
// where partners reach it, for how long it has run, how big its store is
// and its partners' links.
type adminStatusJSON struct {
	Version         string   `json:"version"` // the build's module version and VCS revision
	ProtocolVersion int      `json:"protocol_version"`
	NodeID          string   `json:"node_id"`
	OrgName         string   `json:"organization_name"`
	Addrs           []string `json:"addrs"`
	Started         int64    `json:"started"` // unix seconds
	UptimeSeconds   int64    `json:"uptime_seconds"`
	StoreBytes      int64    `json:"store_bytes"` // the store's files (LSM tree and value log)
	DiskFreeBytes   int64    `json:"disk_free_bytes"`
	DiskFull        bool     `json:"disk_full"`
	Accounts        int      `json:"accounts"`
	Rooms           int      `json:"rooms"`
	Events          uint64   `json:"events"`
	Partners        int      `json:"partners"`
	Connected       int      `json:"partners_connected"`
	Role            string   `json:"role"` // primary or standby
}

func (s *Server) adminStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := s.node.Status(r.Context())
	if err != nil {
		return err
	}
	lsm, vlog := s.node.StoreSize()
	role := "primary"
	if st.Replication != nil {
		role = st.Replication.Role
	}
	addrs := slices.Clone(st.Addrs)
	if addrs == nil {
		addrs = []string{}
	}
	writeJSON(w, http.StatusOK, adminStatusJSON{Version: buildVersion(), ProtocolVersion: st.Version,
		NodeID: string(st.NodeID), OrgName: st.Org, Addrs: addrs, Started: st.Started.Unix(),
		UptimeSeconds: int64(time.Since(st.Started) / time.Second), StoreBytes: lsm + vlog,
		DiskFreeBytes: st.DiskFree, DiskFull: st.DiskFull, Accounts: st.Accounts, Rooms: st.Rooms, Events: st.Events,
		Partners: st.Partners, Connected: st.Connected, Role: role})
	return nil
}

// buildVersion names the running build: its module version, and the VCS
// revision it was built from when the build recorded one.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, st := range bi.Settings {
		if st.Key == "vcs.revision" && len(st.Value) >= 12 {
			v += " (" + st.Value[:12] + ")"
		}
	}
	return v
}
