package api

import (
	"net/http"
	"strconv"
)

// receiptJSON is one member node's delivery receipt, as
// /api/rooms/{room_id}/partners shows it; times are unix seconds, as
// ChatWork's.
type receiptJSON struct {
	NodeID      string        `json:"node_id"`
	LatestEvent string        `json:"latest_event,omitempty"`
	LatestSeq   uint64        `json:"latest_seq"`
	LatestTime  int64         `json:"latest_time"`
	AckedSeq    uint64        `json:"acknowledged_seq"`
	AckedEvent  string        `json:"acknowledged_event,omitempty"`
	AckedTime   int64         `json:"acknowledged_time"`
	Unacked     uint64        `json:"unacknowledged"`
	Pending     []pendingJSON `json:"pending"`
}

type pendingJSON struct {
	EventID   string `json:"event_id"`
	Seq       uint64 `json:"seq"`
	Type      string `json:"type"`
	SendTime  int64  `json:"send_time"`
	MessageID string `json:"message_id,omitempty"`
}

// roomPartners answers, for a member of the room, what each other member
// node has acknowledged of this node's events there: its delivery
// receipts.
func (s *Server) roomPartners(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	rs, err := s.node.RoomReceipts(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	alias, _ := c.ids.roomAlias(r.Context(), id)
	type roomJSON struct {
		RoomID uint64        `json:"room_id"`
		Seq    uint64        `json:"seq"`
		Nodes  []receiptJSON `json:"nodes"`
	}
	out := roomJSON{RoomID: alias, Seq: rs.Seq, Nodes: make([]receiptJSON, 0, len(rs.Nodes))}
	for _, n := range rs.Nodes {
		v := receiptJSON{NodeID: string(n.Node), LatestSeq: n.LatestSeq, LatestTime: seconds(n.LatestTime),
			AckedSeq: n.AckedSeq, AckedTime: seconds(n.AckedTime), Unacked: n.Unacked, Pending: []pendingJSON{}}
		if n.LatestSeq > 0 {
			v.LatestEvent = n.Latest.String()
		}
		if n.AckedSeq > 0 {
			v.AckedEvent = n.Acked.String()
		}
		for _, p := range n.Pending {
			pj := pendingJSON{EventID: p.ID.String(), Seq: p.Seq, Type: string(p.Type), SendTime: seconds(p.Time)}
			if p.Message != 0 {
				pj.MessageID = strconv.FormatUint(p.Message, 10)
			}
			v.Pending = append(v.Pending, pj)
		}
		out.Nodes = append(out.Nodes, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
