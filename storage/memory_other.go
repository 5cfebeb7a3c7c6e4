//go:build !linux

package storage

// residentMapped returns 0: only Linux tells, and only there does the
// store trim its mappings.
func residentMapped() (int64, error) { return 0, nil }

// pageOutTables does nothing outside Linux.
func pageOutTables(string, []string, map[string]int64) (int, error) { return 0, nil }
