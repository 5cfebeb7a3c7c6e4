package control

import "maps"

// moreOps are ops kept beside ops' table, in files of their own, so that
// each set merges without touching it; handle looks in both.
var moreOps = joinOps(healthOps, contactOps)

func joinOps(sets ...map[string]opFunc) map[string]opFunc {
	out := map[string]opFunc{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}
