package api

import "net/http"

// partnerJSON is a partner node as /api/partners shows it. Only node
// admins see its addresses.
type partnerJSON struct {
	NodeID    string   `json:"node_id"`
	Connected bool     `json:"connected"`
	Addrs     []string `json:"addrs,omitempty"`
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
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
