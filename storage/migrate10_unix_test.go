//go:build unix

package storage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
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

// envSlimChild names the store TestMigrateSlimChild opens.
const envSlimChild = "HORENSO_TEST_SLIM_DIR"

// TestMigrateSlimKilled runs the 10→11 migration in a child process that
// kills itself (SIGKILL) after a commit, without closing anything, then
// checks the store with Badger alone (schema 11, the marker set, every
// read as before) and opens it: Open finishes the migration. It does so
// for a commit of each phase: the snapshot keys' and the by-depth keys'.
func TestMigrateSlimKilled(t *testing.T) {
	// Of the 10 commits the fixture takes (TestMigrateSlimResumes), the
	// first 7 move snapshot keys.
	for after, phase := range map[int]byte{2: pEventSnap, 9: pTimeline} {
		t.Run(fmt.Sprint("after commit ", after), func(t *testing.T) {
			dir := t.TempDir()
			f := oldSlimStore(t, dir, 2*cleanupBatch+7)
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMigrateSlimChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envSlimChild+"="+dir, envSlimChild+"_AFTER="+fmt.Sprint(after))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v, want killed\n%s", err, out)
			}
			rawView(t, dir, func(tx *Tx) {
				if v, err := schemaVersion(tx.txn); err != nil || v != SchemaVersion {
					t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion)
				}
				b, err := tx.get([]byte{pSlim})
				if err != nil || len(b) == 0 || b[0] != phase {
					t.Errorf("schema 11 marker %x, %v; want one under way in phase %#x", b, err, phase)
				}
				f.check(t, tx)
			})
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f.checkSlimStore(t, s)
		})
	}
}

// TestMigrateSlimChild is TestMigrateSlimKilled's child: it opens the
// store in $HORENSO_TEST_SLIM_DIR and kills itself after the migration's
// commit $HORENSO_TEST_SLIM_DIR_AFTER. Run by itself, it skips.
func TestMigrateSlimChild(t *testing.T) {
	dir := os.Getenv(envSlimChild)
	if dir == "" {
		t.Skip("run by TestMigrateSlimKilled")
	}
	after, err := strconv.Atoi(os.Getenv(envSlimChild + "_AFTER"))
	if err != nil {
		t.Fatal(err)
	}
	slimInterruptForTest = func(batches int) error {
		if batches == after {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // until the signal lands
		}
		return nil
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
	}
	t.Fatalf("open returned (%v): the migration was not interrupted", err)
}

// envBodiesChild names the store TestMigrateEventBodiesChild opens.
const envBodiesChild = "HORENSO_TEST_BODIES_DIR"

// TestMigrateEventBodiesKilled runs the 11→12 migration in a child
// process that kills itself (SIGKILL) after a commit, without closing
// anything, then checks the store with Badger alone (schema 12, the
// marker set, every read as before) and opens it: Open finishes the
// migration. It does so for a commit of each phase: the event records'
// and the own counts'.
func TestMigrateEventBodiesKilled(t *testing.T) {
	// Of the 7 commits the fixture takes (TestMigrateEventBodiesResumes),
	// the first 6 move event records, the 6th ending that phase, and the
	// last the own counts.
	for after, phase := range map[int]byte{2: pEvent, 6: pAcked} {
		t.Run(fmt.Sprint("after commit ", after), func(t *testing.T) {
			dir := t.TempDir()
			f := oldBodiesStore(t, dir, 2*cleanupBatch+7)
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMigrateEventBodiesChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envBodiesChild+"="+dir, envBodiesChild+"_AFTER="+fmt.Sprint(after))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v, want killed\n%s", err, out)
			}
			rawView(t, dir, func(tx *Tx) {
				if v, err := schemaVersion(tx.txn); err != nil || v != SchemaVersion {
					t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion)
				}
				b, err := tx.get([]byte{pBodies})
				if err != nil || len(b) == 0 || b[0] != phase {
					t.Errorf("schema 12 marker %x, %v; want one under way in phase %#x", b, err, phase)
				}
				f.check(t, tx)
			})
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f.checkSlimStore(t, s)
		})
	}
}

// TestMigrateEventBodiesChild is TestMigrateEventBodiesKilled's child: it
// opens the store in $HORENSO_TEST_BODIES_DIR and kills itself after the
// migration's commit $HORENSO_TEST_BODIES_DIR_AFTER. Run by itself, it
// skips.
func TestMigrateEventBodiesChild(t *testing.T) {
	dir := os.Getenv(envBodiesChild)
	if dir == "" {
		t.Skip("run by TestMigrateEventBodiesKilled")
	}
	after, err := strconv.Atoi(os.Getenv(envBodiesChild + "_AFTER"))
	if err != nil {
		t.Fatal(err)
	}
	bodiesInterruptForTest = func(batches int) error {
		if batches == after {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // until the signal lands
		}
		return nil
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
	}
	t.Fatalf("open returned (%v): the migration was not interrupted", err)
}
