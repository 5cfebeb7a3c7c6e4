package api

import "net/http"

// partnerJSON is a partner node as /api/partners shows it. Only node
// admins see its addresses and its use of its daily quota.
type partnerJSON struct {
	NodeID    string     `json:"node_id"`
	Connected bool       `json:"connected"`
	Addrs     []string   `json:"addrs,omitempty"`
	Usage     *usageJSON `json:"usage,omitempty"`
}

// usageJSON is a partner's use of its daily quota; times are unix seconds.
type usageJSON struct {
	Since   int64  `json:"since"` // 0 if it has sent nothing
	Rooms   uint64 `json:"rooms"`
	Events  uint64 `json:"events"`
	Bytes   uint64 `json:"bytes"`
	Dropped uint64 `json:"dropped"`
}

// partners lists the node's partner nodes: the organizations whose
// accounts this node's people can reach.
func (s *Server) partners(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := s.node.Partners(r.Context())
	if err != nil {
		return err
	}
	out := make([]partnerJSON, 0, len(ps))
	for _, p := range ps {
		v := partnerJSON{NodeID: string(p.ID), Connected: p.Connected}
		if c.acc.Admin {
			v.Addrs = p.Addrs
			u := p.Usage
			v.Usage = &usageJSON{Rooms: u.Rooms, Events: u.Events, Bytes: u.Bytes, Dropped: u.Dropped}
			if !u.Since.IsZero() {
				v.Usage.Since = u.Since.Unix()
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
