package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/trace"
	"strings"
	"testing"
	"time"
)

// waitForUnblock is the function the test's long wait happens in: report
// must name it, with the goroutine that kept it waiting.
func waitForUnblock(ch <-chan struct{}) { <-ch }

func TestReportNamesTheLongWaitAndWhatRan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.trace")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		waitForUnblock(ch)
		close(done)
	}()
	go spinThenClose(60*time.Millisecond, ch)
	<-done
	trace.Stop()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	spans, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	report(&out, spans, 40*time.Millisecond, regexp.MustCompile(`waitForUnblock`), 5)
	got := out.String()
	if !strings.Contains(got, "waited") || !strings.Contains(got, "stalls.waitForUnblock") {
		t.Errorf("the 60 ms wait in waitForUnblock is not listed:\n%s", got)
	}
	// Named by where it was preempted (spinFor < spinThenClose) or, if it
	// ran from start to exit in one go, by the function it started in.
	if !strings.Contains(got, "stalls.spinThenClose") {
		t.Errorf("the goroutine that ran meanwhile (spinThenClose) is not listed:\n%s", got)
	}
	for _, s := range spans {
		if strings.HasPrefix(s.stack, "runtime.goexit") {
			t.Errorf("goroutine %d's %v span is named by its exit: %s", s.g, s.state, s.stack)
		}
	}

	out.Reset()
	report(&out, spans, time.Second, regexp.MustCompile(`waitForUnblock`), 5)
	if out.Len() != 0 {
		t.Errorf("a wait shorter than -min is listed:\n%s", out.String())
	}
}

// spinThenClose keeps a goroutine running for d, then closes ch.
func spinThenClose(d time.Duration, ch chan<- struct{}) {
	spinFor(d)
	close(ch)
}

// spinFor keeps a goroutine running for d.
func spinFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}
