package node

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// maxOrg bounds an organization name, in bytes.
const maxOrg = 200

// RenameOrg renames the organization: the node's settings, its accounts,
// and, through each account's member profile in its rooms, what members
// on partners' nodes see. Profiles are published in the background, as
// after any profile change; partners see the new name as they arrive.
// Errors: ErrInvalid for an empty or too long name.
func (n *Node) RenameOrg(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxOrg {
		return fmt.Errorf("rename organization: %w: the name must have 1 to %d bytes", ErrInvalid, maxOrg)
	}
	n.settingsMu.Lock()
	defer n.settingsMu.Unlock()
	s := n.settings
	s.Org = name
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("rename organization: %w", err)
	}
	if err := writeFileSync(filepath.Join(n.cfg.DataDir, settingsFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("rename organization: %w", err)
	}
	n.settings = s
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		accs, err := tx.Accounts()
		if err != nil {
			return err
		}
		for _, a := range accs {
			if a.Org == name {
				continue
			}
			old := *a
			a.Org = name
			if err := tx.PutAccount(&old, a); err != nil {
				return err
			}
			ms, err := tx.RoomsOf(protocol.NewAccountID(n.id, a.Handle))
			if err != nil {
				return err
			}
			for _, m := range ms {
				room, h := m.Room, a.Handle
				tx.AfterCommit(func() { n.net.queue(outbound{kind: publishProfile, room: room, profile: h}) })
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename organization: accounts: %w", err)
	}
	n.log.Info("organization renamed", "org", name)
	return nil
}
