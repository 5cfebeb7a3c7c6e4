// Command stalls reads a Go execution trace (a test binary's -test.trace,
// or runtime/trace) and lists where goroutines waited long: each wait of
// at least -min whose stack matches -match, with the goroutines that ran
// or sat in system calls longest meanwhile, and what they were doing.
// It is how docs/PERFORMANCE.md finds what holds up a store's commits:
//
//	$ /tmp/bench.test -test.run='^$' -test.bench='BenchmarkCrossNodeLatency/rate=1000' \
//	      -test.benchtime=1x -test.trace=/tmp/cross.trace
//	$ go run ./cmd/stalls -min 40ms /tmp/cross.trace
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	minWait := flag.Duration("min", 30*time.Millisecond, "list waits at least this long")
	match := flag.String("match", `storage\.\(\*Store\)\.commit`, "list waits whose stack matches this regular expression")
	top := flag.Int("top", 8, "goroutines to show for each wait")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: stalls [flags] trace-file")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	re, err := regexp.Compile(*match)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalls: -match:", err)
		os.Exit(2)
	}
	spans, err := read(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalls:", err)
		os.Exit(1)
	}
	report(os.Stdout, spans, *minWait, re, *top)
}

// span is a stretch of time one goroutine spent in one state, with the
// stack it entered that state with (empty when the trace has none).
type span struct {
	g          trace.GoID
	state      trace.GoState
	start, end time.Duration // since the trace's first event
	stack      string
}

// read returns every goroutine's spans of running, waiting and system
// calls in the trace at path.
func read(path string) ([]span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var (
		spans []span
		base  trace.Time
		open  = map[trace.GoID]span{}
		last  = map[trace.GoID]string{} // the last stack each goroutine had
		born  = map[trace.GoID]string{} // the function each was created to run
	)
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if base == 0 {
			base = ev.Time()
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		g := st.Resource.Goroutine()
		from, to := st.Goroutine()
		at := time.Duration(ev.Time() - base)
		if from == trace.GoNotExist {
			// A creation: the transition's stack is the new goroutine's
			// function, the event's the creator's.
			born[g] = frames(st.Stack)
		}
		stack := frames(st.Stack)
		if stack == "" {
			stack = frames(ev.Stack())
		}
		if s, ok := open[g]; ok {
			s.end = at
			if s.stack == "" {
				s.stack = stack // where a run ended: what it was doing
			}
			// A run that ended without a stack (the goroutine was
			// preempted or exited, or the trace ended) ran on from the
			// last stack the goroutine had, or in the function it was
			// created with.
			if s.stack == "" {
				s.stack = cmp.Or(last[g], born[g])
			}
			last[g] = s.stack
			spans = append(spans, s)
			delete(open, g)
		}
		if to == trace.GoRunning || to == trace.GoWaiting || to == trace.GoSyscall {
			open[g] = span{g: g, state: to, start: at, stack: stack}
		}
	}
	return spans, nil
}

// frames is a stack's functions, innermost first, without package paths;
// the runtime's goexit, which a goroutine ends in, names nothing and is
// left out.
func frames(s trace.Stack) string {
	var fs []string
	for f := range s.Frames() {
		if strings.HasPrefix(f.Func, "runtime.goexit") {
			continue
		}
		fs = append(fs, f.Func[strings.LastIndex(f.Func, "/")+1:])
		if len(fs) == 12 {
			break
		}
	}
	return strings.Join(fs, " < ")
}

func report(w io.Writer, spans []span, minWait time.Duration, re *regexp.Regexp, top int) {
	for _, wait := range spans {
		if wait.state != trace.GoWaiting || wait.end-wait.start < minWait || !re.MatchString(wait.stack) {
			continue
		}
		fmt.Fprintf(w, "%.3fs: goroutine %d waited %v in %s\n", wait.start.Seconds(), wait.g, (wait.end - wait.start).Round(100*time.Microsecond), wait.stack)
		type busy struct {
			g            trace.GoID
			run, syscall time.Duration
			longest      time.Duration
			stack        string // of its longest span in the wait
		}
		byG := map[trace.GoID]*busy{}
		for _, s := range spans {
			d := min(s.end, wait.end) - max(s.start, wait.start)
			if d <= 0 || s.state == trace.GoWaiting {
				continue
			}
			b := byG[s.g]
			if b == nil {
				b = &busy{g: s.g}
				byG[s.g] = b
			}
			if s.state == trace.GoSyscall {
				b.syscall += d
			} else {
				b.run += d
			}
			if d > b.longest {
				b.longest, b.stack = d, s.stack
			}
		}
		all := make([]*busy, 0, len(byG))
		for _, b := range byG {
			all = append(all, b)
		}
		slices.SortFunc(all, func(a, b *busy) int { return cmp.Compare(b.run+b.syscall, a.run+a.syscall) })
		for _, b := range all[:min(top, len(all))] {
			fmt.Fprintf(w, "    goroutine %d ran %v, in system calls %v: %s\n", b.g, b.run.Round(100*time.Microsecond), b.syscall.Round(100*time.Microsecond), b.stack)
		}
	}
}
