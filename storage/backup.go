package storage

import (
	"fmt"
	"io"
	"os"
)

// Backup writes a consistent snapshot of the whole store to w, while the
// store stays in use. Restore reads it back.
//
// Badger's stream reads key ranges on several goroutines, each in a read
// transaction of its own, opened when that goroutine starts: while the
// store is being written, they see it at different times, and a backup
// could hold a room's new heads without the events they name. One
// goroutine reads everything in one transaction, so the backup is the
// store at one instant.
func (s *Store) Backup(w io.Writer) error {
	stream := s.db.NewStream()
	stream.LogPrefix = "store backup"
	stream.NumGo = 1
	if _, err := stream.Backup(w, 0); err != nil {
		return fmt.Errorf("back up store: %w", err)
	}
	return nil
}

// Restore creates a store in dir, which must not exist or be empty, from
// what Backup wrote to r.
func Restore(dir string, r io.Reader, opt Options) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore store: %s is not empty", dir)
	}
	s, err := Open(dir, opt)
	if err != nil {
		return fmt.Errorf("restore store: %w", err)
	}
	if err := s.db.Load(r, 256); err != nil {
		s.Close()
		return fmt.Errorf("restore store: %w", err)
	}
	return s.Close()
}
