package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/horenso/horenso/node"
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
	// The node as the room's people see it (node.RoomPartner).
	OrgName  string `json:"organization_name"`
	Partner  bool   `json:"partner"`
	State    string `json:"state"`     // "connected" or "offline"
	LastSeen int64  `json:"last_seen"` // 0: not since this node started
	LastSync int64  `json:"last_sync"` // 0: no sync exchange since this node started
}

type pendingJSON struct {
	EventID   string `json:"event_id"`
	Seq       uint64 `json:"seq"`
	Type      string `json:"type"`
	SendTime  int64  `json:"send_time"`
	MessageID string `json:"message_id,omitempty"`
}

// roomPartners answers, for a member of the room, what each other member
// node has acknowledged of this node's events there (its delivery
// receipts), and each one's organization and link state.
func (s *Server) roomPartners(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	seq, ps, err := s.node.RoomPartners(r.Context(), c.handle(), id)
	if err != nil {
		return err
	}
	alias, _ := c.ids.roomAlias(r.Context(), id)
	type roomJSON struct {
		RoomID uint64        `json:"room_id"`
		Seq    uint64        `json:"seq"`
		Nodes  []receiptJSON `json:"nodes"`
	}
	out := roomJSON{RoomID: alias, Seq: seq, Nodes: make([]receiptJSON, 0, len(ps))}
	for _, n := range ps {
		v := receiptJSON{NodeID: string(n.Node), LatestSeq: n.LatestSeq, LatestTime: seconds(n.LatestTime),
			AckedSeq: n.AckedSeq, AckedTime: seconds(n.AckedTime), Unacked: n.Unacked, Pending: []pendingJSON{},
			OrgName: n.Org, Partner: n.Partner, State: "offline", LastSeen: unixOrZero(n.LastSeen),
			LastSync: unixOrZero(n.LastSync)}
		if n.Connected {
			v.State = "connected"
		}
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

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// deliveryJSON is one message of this node and the member nodes that
// acknowledged it.
type deliveryJSON struct {
	MessageID   string   `json:"message_id"`
	DeliveredTo []string `json:"delivered_to"` // node IDs, as /api/rooms/{room_id}/partners lists them
}

// deliveries answers, for the messages the message_ids parameter names
// (comma-separated, at most node.MaxDeliveries), which of them this
// node's accounts posted and which member nodes acknowledged each: one
// request for a page of the timeline.
func (s *Server) deliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	raw, _, err := p.get("message_ids")
	if err != nil {
		return err
	}
	var aliases []uint64
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		a, err := parseID("message_ids", f)
		if err != nil {
			return err
		}
		aliases = append(aliases, a)
	}
	if len(aliases) > node.MaxDeliveries {
		return invalid("parameter message_ids: at most 200 messages")
	}
	ds, err := s.node.Deliveries(r.Context(), c.handle(), id, aliases)
	if err != nil {
		return err
	}
	alias, _ := c.ids.roomAlias(r.Context(), id)
	out := struct {
		RoomID   uint64         `json:"room_id"`
		Messages []deliveryJSON `json:"messages"`
	}{RoomID: alias, Messages: make([]deliveryJSON, 0, len(ds))}
	for _, d := range ds {
		v := deliveryJSON{MessageID: strconv.FormatUint(d.Message, 10), DeliveredTo: make([]string, 0, len(d.To))}
		for _, n := range d.To {
			v.DeliveredTo = append(v.DeliveredTo, string(n))
		}
		out.Messages = append(out.Messages, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
