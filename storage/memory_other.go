//go:build !linux

package storage

// residentMapped returns 0: only Linux tells, and only there does the
// store trim its mappings.
func residentMapped() (int64, error) { return 0, nil }

// pager does nothing outside Linux.
type pager struct{}

func newPager(string, []string, string) *pager { return &pager{} }

func (*pager) pageOut(bool) (int, error) { return 0, nil }
