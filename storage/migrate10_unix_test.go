//go:build unix

package storage

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// envCleanupChild names the store TestMigrateCleanupChild opens.
const envCleanupChild = "HORENSO_TEST_CLEANUP_DIR"

// TestMigrateMessageAliasesKilled runs the cleanup in a child process
// that kills itself (SIGKILL) after the cleanup's second commit, without
// closing anything, then opens the store: it is of schema 10, partly
// cleaned up, and Open finishes the cleanup.
func TestMigrateMessageAliasesKilled(t *testing.T) {
	dir := t.TempDir()
	f := oldAliasStore(t, dir, 3*cleanupBatch+7)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMigrateCleanupChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCleanupChild+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed\n%s", err, out)
	}
	f.checkRaw(t, dir)
	s := openTest(t, dir)
	f.check(t, s, 0)
}

// TestMigrateCleanupChild is TestMigrateMessageAliasesKilled's child: it
// opens the store in $HORENSO_TEST_CLEANUP_DIR and kills itself after
// the second cleanup commit. Run by itself, it skips.
func TestMigrateCleanupChild(t *testing.T) {
	dir := os.Getenv(envCleanupChild)
	if dir == "" {
		t.Skip("run by TestMigrateMessageAliasesKilled")
	}
	cleanupInterruptForTest = func(batches int) error {
		if batches == 2 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // until the signal lands
		}
		return nil
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
	}
	t.Fatalf("open returned (%v): the cleanup was not interrupted", err)
}
