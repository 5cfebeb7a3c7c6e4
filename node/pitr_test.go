package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/horenso/horenso/protocol"
)

// TestBackupRetention runs a node whose backups start a chain every
// 300ms and keep 1s: old chains are deleted, yet every moment of the
// last second stays restorable (the oldest chain left starts before it),
// and a restore to before the oldest chain says what the earliest moment is.
func TestBackupRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := Init(dir, "Acme"); err != nil {
		t.Fatal(err)
	}
	backups := filepath.Join(t.TempDir(), "backups")
	keep := time.Second
	n, err := New(Config{DataDir: dir, Logger: testLogger(t), Backup: BackupConfig{Dir: backups,
		Every: 50 * time.Millisecond, BaseEvery: 300 * time.Millisecond, Keep: keep, SampleEvery: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { stop(); <-done }()

	began := time.Now()
	chainsSeen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; len(chainsSeen) < 8; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d chains started in 30s", len(chainsSeen))
		}
		if _, err := n.CreateAccount(t.Context(), NewAccount{Handle: protocol.Handle(fmt.Sprintf("u%d", i))}); err != nil {
			t.Fatal(err)
		}
		st := n.BackupStatus()
		if st.Error != "" {
			t.Fatalf("backup error: %s", st.Error)
		}
		if st.Chain != "" {
			chainsSeen[st.Chain] = true
		}
		time.Sleep(20 * time.Millisecond) // pace the writes
	}
	chains, err := listChains(backups)
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) >= len(chainsSeen) {
		t.Errorf("%d chains started and %d are left: none deleted", len(chainsSeen), len(chains))
	}
	if window := time.Now().Add(-keep); chains[0].start.After(window) && began.Before(window) {
		t.Errorf("the oldest chain left starts at %s, inside the retention window starting %s", chains[0].start, window)
	}
	if _, err := RestoreAt(filepath.Join(t.TempDir(), "r"), backups, began.Add(-time.Hour), testLogger(t)); !errors.Is(err, ErrNoBackup) {
		t.Errorf("restore to before every backup: %v, want ErrNoBackup", err)
	}
}

// TestBackupDirOfAnotherNode: one backup directory serves one node.
func TestBackupDirOfAnotherNode(t *testing.T) {
	backups := filepath.Join(t.TempDir(), "backups")
	for i, want := range []error{nil, ErrConflict} {
		dir := filepath.Join(t.TempDir(), "data")
		if _, err := Init(dir, "Acme"); err != nil {
			t.Fatal(err)
		}
		n, err := New(Config{DataDir: dir, Logger: testLogger(t), Backup: BackupConfig{Dir: backups}})
		if !errors.Is(err, want) {
			t.Fatalf("node %d on the backup directory: %v, want %v", i, err, want)
		}
		if n != nil {
			n.Close()
		}
	}
}
