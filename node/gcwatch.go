package node

import (
	"context"
	"math"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// gcWatchEvery is how often runGCWatch looks at the garbage collector.
const gcWatchEvery = 10 * time.Second

// gcPressureAfter is how many checks in a row must find the collector held
// back by the memory limit before runGCWatch says so.
const gcPressureAfter = 3

// gcPressure tells, from the runtime's counters at each check, when the
// live heap has stayed near the Go memory limit while the collector took
// a good share of a core: it then runs back to back, up to half the CPU
// (its limiter's cap), on an idle node too. Nothing the node can free
// helps (it is Badger's memtables, table arenas and compression windows,
// and the node's caches, each bounded), so an operator must hear of it:
// raise the limit.
type gcPressure struct {
	gcSeconds float64 // the collector's CPU time at the last check
	over      int     // checks in a row that found it under pressure
	warned    uint64  // the live heap last warned about
	since     int     // checks under pressure since that warning
}

// gcRewarnAfter is how many checks under pressure in a row after a
// warning bring the next one, however the heap grew: ten minutes.
const gcRewarnAfter = 60

// gcBusyShare is the share of a core the collector must take, and
// gcNearLimit how close to the Go limit the live heap must be, for a check
// to count as under pressure.
const (
	gcBusyShare = 0.25
	gcNearLimit = 0.85
)

// observe takes one check's counters, gcWatchEvery after the last: the
// collector's CPU time so far, the live heap and the Go memory limit. It
// reports whether to warn now: gcPressureAfter checks in a row found the
// collector busy and the live heap near the limit, and the live heap is a
// quarter above the last warning's (or none was given), or the pressure
// has lasted gcRewarnAfter checks since it: an idle node that collects
// for hours says so every ten minutes, not once.
func (p *gcPressure) observe(gcSeconds float64, live uint64, limit int64) bool {
	busy := (gcSeconds-p.gcSeconds)/gcWatchEvery.Seconds() >= gcBusyShare
	p.gcSeconds = gcSeconds
	if !busy || float64(live) < gcNearLimit*float64(limit) {
		p.over = 0
		return false
	}
	p.over++
	p.since++
	if p.over < gcPressureAfter || live <= p.warned+p.warned/4 && p.since < gcRewarnAfter {
		return false
	}
	p.warned, p.since = live, 0
	return true
}

// runGCWatch logs a warning when the live heap stays at the Go memory
// limit (see gcPressure), with what to do. It returns when ctx ends, and
// at once when no limit is set.
func (n *Node) runGCWatch(ctx context.Context) error {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return nil
	}
	samples := []rtmetrics.Sample{
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/gc/heap/live:bytes"},
	}
	rtmetrics.Read(samples)
	for i, s := range samples {
		if want := []rtmetrics.ValueKind{rtmetrics.KindFloat64, rtmetrics.KindUint64}[i]; s.Value.Kind() != want {
			n.log.Warn("the Go runtime does not tell how busy its garbage collector is; not watching it", "metric", s.Name)
			return nil
		}
	}
	p := gcPressure{gcSeconds: samples[0].Value.Float64()}
	tick := time.NewTicker(gcWatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		rtmetrics.Read(samples)
		before := p.gcSeconds
		gcSeconds, live := samples[0].Value.Float64(), samples[1].Value.Uint64()
		if p.observe(gcSeconds, live, limit) {
			n.log.Warn("the Go heap stays near the memory limit's share and garbage collection takes much of the CPU: raise the memory limit (--memory-limit-mib)",
				"live_heap_mib", live>>20, "go_limit_mib", limit>>20,
				"gc_cores", math.Round((gcSeconds-before)/gcWatchEvery.Seconds()*100)/100,
				"seconds", (time.Duration(p.over) * gcWatchEvery).Seconds())
		}
	}
}
