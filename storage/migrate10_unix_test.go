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
			f.killAfterCommit(t, dir, "TestMigrateSlimChild", envSlimChild, after, pSlim, phase)
		})
	}
}

// TestMigrateSlimChild is TestMigrateSlimKilled's child. Run by itself,
// it skips.
func TestMigrateSlimChild(t *testing.T) {
	killedChild(t, envSlimChild, &slimInterruptForTest)
}

// envBodiesChild names the store TestMigrateEventBodiesChild opens.
const envBodiesChild = "HORENSO_TEST_BODIES_DIR"

// TestMigrateEventBodiesKilled does for the 11→12 migration what
// TestMigrateSlimKilled does for the 10→11 one, after a commit of each
// phase: the event records' and the own counts'.
func TestMigrateEventBodiesKilled(t *testing.T) {
	// Of the 7 commits the fixture takes (TestMigrateEventBodiesResumes),
	// the first 6 move event records, the 6th ending that phase, and the
	// last the own counts.
	for after, phase := range map[int]byte{2: pEvent, 6: pAcked} {
		t.Run(fmt.Sprint("after commit ", after), func(t *testing.T) {
			dir := t.TempDir()
			f := oldBodiesStore(t, dir, 2*cleanupBatch+7)
			f.killAfterCommit(t, dir, "TestMigrateEventBodiesChild", envBodiesChild, after, pBodies, phase)
		})
	}
}

// TestMigrateEventBodiesChild is TestMigrateEventBodiesKilled's child.
// Run by itself, it skips.
func TestMigrateEventBodiesChild(t *testing.T) {
	killedChild(t, envBodiesChild, &bodiesInterruptForTest)
}

// killAfterCommit runs the test child (killedChild) on the store in dir,
// which kills itself after the migration's commit after, then checks with
// Badger alone that the store is of this schema with marker set in phase,
// and that f reads as before; then it opens the store, which must finish
// the migration, and checks it (checkSlimStore).
func (f *slimFixture) killAfterCommit(t *testing.T, dir, child, env string, after int, marker, phase byte) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+child+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+dir, env+"_AFTER="+fmt.Sprint(after))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed\n%s", err, out)
	}
	rawView(t, dir, func(tx *Tx) {
		if v, err := schemaVersion(tx.txn); err != nil || v != SchemaVersion {
			t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion)
		}
		b, err := tx.get([]byte{marker})
		if err != nil || len(b) == 0 || b[0] != phase {
			t.Errorf("marker %#x: %x, %v; want one under way in phase %#x", marker, b, err, phase)
		}
		f.check(t, tx)
	})
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.checkSlimStore(t, s)
}

// killedChild opens the store in $env and kills its process (SIGKILL)
// after the migration's commit $env_AFTER, through the migration's hook.
// Without $env it skips: it is run by a Killed test.
func killedChild(t *testing.T, env string, hook *func(int) error) {
	dir := os.Getenv(env)
	if dir == "" {
		t.Skip("run by a Killed test")
	}
	after, err := strconv.Atoi(os.Getenv(env + "_AFTER"))
	if err != nil {
		t.Fatal(err)
	}
	*hook = func(batches int) error {
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
