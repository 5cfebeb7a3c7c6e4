package node

import (
	"context"
	"fmt"
	"time"

	"github.com/horenso/horenso/node/p2p"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Status is what a node is and holds, for its operator.
type Status struct {
	NodeID   protocol.NodeID `json:"node_id"`
	Org      string          `json:"org"`
	DataDir  string          `json:"data_dir"`
	Version  int             `json:"protocol_version"`
	Started  time.Time       `json:"started"`
	Accounts int             `json:"accounts"`
	Rooms    int             `json:"rooms"`
	Events   uint64          `json:"events"`
	// Addrs are the libp2p addresses partners add this node by.
	Addrs []string `json:"addrs"`
	// Partners counts partner nodes, and Connected those connected now.
	Partners  int `json:"partners"`
	Connected int `json:"connected"`
	// Network counts gossip and sync traffic since start: what was
	// received, accepted, rejected and dropped, and what sync repaired.
	Network p2p.Stats `json:"network"`
	// PartnerQuota is each partner's daily quota (Config.PartnerRoomsPerDay
	// …; negative: no limit); Network.QuotaDroppedEvents and
	// QuotaDroppedRooms count what was dropped over it, and each Partner
	// its own use.
	PartnerQuota p2p.Quota `json:"partner_quota"`
	// OutboxDropped counts publications dropped because the node's network
	// outbox was full; partners got those events by sync instead.
	OutboxDropped uint64 `json:"outbox_dropped"`
	// Replication is the standby pair this node is in; nil if none.
	Replication *ReplicationStatus `json:"replication,omitempty"`
	// Backup is the state of continuous backups; nil when they are off.
	Backup *BackupStatus `json:"backup,omitempty"`
	// DiskFree is the free space of the data directory's disk, in bytes;
	// DiskFull is set while it is below the node's floor
	// (Config.MinFreeDisk) and changes are refused.
	DiskFree int64 `json:"disk_free_bytes"`
	DiskFull bool  `json:"disk_full"`
	// Store counts the store's commits and bytes written since start, and
	// the writes refused as too big for one transaction (see
	// docs/OPERATIONS.md, "Heads flood").
	Store storage.Stats `json:"store"`
	// AcceptSplits counts batches of partner events split in halves
	// because they were too big for one store transaction.
	AcceptSplits uint64 `json:"accept_splits"`
	// SyncAnswers counts the rooms this node served to partners' sync
	// requests, by how it worked out what the partner lacked.
	SyncAnswers SyncAnswerStats `json:"sync_answers"`
	// Equivocations counts the events this node holds that found their
	// origin's chain position in their room taken by another event: each
	// is proof that the origin signed two histories (see docs/PROTOCOL.md,
	// "Chains and equivocation").
	Equivocations int `json:"equivocations"`
	// Hosting counts the rooms and accounts partners named that the
	// hosting rule refused (see docs/PROTOCOL.md, "Hosting rule").
	Hosting HostingStats `json:"hosting"`
	// Search is the search index's state: its lag behind the change feed
	// and its size.
	Search SearchStatus `json:"search"`
	// Files counts blob transfers with partners (fetch.go).
	Files FileStats `json:"files"`
}

// SyncAnswerStats counts sync answers by how the node worked out what the
// partner lacked (see docs/PROTOCOL.md, "Catch-up sync").
type SyncAnswerStats struct {
	// Chains: read off the room's chains, from the positions the request
	// named or the named events gave; nothing the partner holds is sent.
	Chains uint64 `json:"chains"`
	// Walk: walked back from this node's heads to the events the request
	// named; some the partner holds may be sent.
	Walk uint64 `json:"walk"`
	// Whole: the request named nothing this node holds, and got the room.
	Whole uint64 `json:"whole"`
}

// Status reports what the node is and holds.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	st := &Status{NodeID: n.id, Org: n.Org(), DataDir: n.cfg.DataDir, Version: protocol.Version, Started: n.started,
		Addrs: n.Addrs(), Network: n.net.host.Stats(), PartnerQuota: n.net.host.Quota(), OutboxDropped: n.net.dropped.Load(),
		Hosting: n.hosting.stats(), Files: n.FileStats(), Backup: n.BackupStatus(),
		Replication: n.ReplicationStatus()}
	st.DiskFree, st.DiskFull = n.store.Space()
	st.Store, st.AcceptSplits = n.store.Stats(), n.acceptSplits.Load()
	st.SyncAnswers = SyncAnswerStats{Chains: n.answers.chains.Load(), Walk: n.answers.walk.Load(), Whole: n.answers.whole.Load()}
	for _, p := range n.net.host.Partners() {
		st.Partners++
		if p.Connected {
			st.Connected++
		}
	}
	err := n.store.View(func(tx *storage.Tx) error {
		as, err := tx.Accounts()
		st.Accounts = len(as)
		if err != nil {
			return err
		}
		err = tx.Rooms(func(r *storage.Room) bool {
			st.Rooms++
			st.Events += r.Events
			return true
		})
		if err != nil {
			return err
		}
		return tx.Equivocations(func(storage.Equivocation) bool {
			st.Equivocations++
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	st.Search = n.SearchStatus()
	return st, nil
}
