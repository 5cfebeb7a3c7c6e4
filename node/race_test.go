//go:build race

package node

// raceEnabled: the race detector slows the node ten times or more, too
// much for the 5,000-member room of TestUnreadExactInBigRoom.
const raceEnabled = true
