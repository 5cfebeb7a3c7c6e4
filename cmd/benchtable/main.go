// Command benchtable reads the output of `go test -bench` on standard input,
// passes it through to standard error as it arrives, and then prints
// Horenso's performance table on standard output: for each measure of
// docs/PERFORMANCE.md, the median of the runs with their spread, the
// physical limit measured in the same run, the ratio between the two, and
// the goal. `make bench` and `make bench-quick` run it.
//
// It parses the benchmark format itself (a line per result: name,
// iterations, then value–unit pairs; see
// https://go.googlesource.com/proposal/+/master/design/14313-benchmark-format.md)
// rather than import golang.org/x/perf, whose module would bring dozens of
// unrelated requirements into go.mod for a dozen lines of parsing.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	samples, env, err := parse(io.TeeReader(os.Stdin, os.Stderr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	render(w, env, samples, measures)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
