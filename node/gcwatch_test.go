package node

import (
	rtmetrics "runtime/metrics"
	"testing"
)

// TestGCPressure feeds gcPressure the counters of checks: it warns after
// three checks in a row with the collector busy and the live heap near the
// limit, not after two, nor when one in between finds it idle or the heap
// well below, and again when the live heap has grown a quarter or ten
// minutes have passed.
func TestGCPressure(t *testing.T) {
	const mib = 1 << 20
	const limit = 110 * mib
	var p gcPressure
	var gcSeconds float64
	for i, c := range []struct {
		share float64 // of a core the collector took since the check before
		live  uint64
		warn  bool
	}{
		{0.5, 100 * mib, false},
		{0.5, 100 * mib, false},
		{0.1, 100 * mib, false}, // idle: starts again
		{0.5, 100 * mib, false},
		{0.5, 60 * mib, false}, // far from the limit: starts again
		{0.5, 100 * mib, false},
		{0.5, 100 * mib, false},
		{0.3, 100 * mib, true},
		{0.5, 110 * mib, false}, // said already
		{0.5, 130 * mib, true},  // a quarter more
		{0, 130 * mib, false},
	} {
		gcSeconds += c.share * gcWatchEvery.Seconds()
		if got := p.observe(gcSeconds, c.live, limit); got != c.warn {
			t.Errorf("check %d (collector %.1f of a core, live %d MiB): warn %v, want %v", i, c.share, c.live/mib, got, c.warn)
		}
	}
	// Under pressure for ten minutes more, the heap the same: once more.
	warned := 0
	for range gcPressureAfter + gcRewarnAfter {
		gcSeconds += 0.5 * gcWatchEvery.Seconds()
		if p.observe(gcSeconds, 130*mib, limit) {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("warned %d times in ten minutes of pressure after a warning, want once", warned)
	}
}

// TestGCWatchMetrics checks that the runtime has the counters runGCWatch
// reads.
func TestGCWatchMetrics(t *testing.T) {
	for _, d := range rtmetrics.All() {
		switch d.Name {
		case "/cpu/classes/gc/total:cpu-seconds":
			if d.Kind != rtmetrics.KindFloat64 {
				t.Errorf("%s is of kind %v", d.Name, d.Kind)
			}
		case "/gc/heap/live:bytes":
			if d.Kind != rtmetrics.KindUint64 {
				t.Errorf("%s is of kind %v", d.Name, d.Kind)
			}
		}
	}
	s := []rtmetrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindFloat64 || s[1].Value.Kind() != rtmetrics.KindUint64 {
		t.Errorf("not read: kinds %v, %v", s[0].Value.Kind(), s[1].Value.Kind())
	}
}
