//go:build race

package web_test

// raceEnabled: the race detector slows the node ten times or more, too
// much to seed 10,000 messages in a test.
const raceEnabled = true
