package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's target (unless the environment sets GOGC): 150, so the
// heap may grow to 2.5× what is live between collections instead of 2×, and
// never a goal under minHeapGoal. A small live heap (5 MB while a first
// import of 10,000 posts runs) otherwise gets a goal of 14 MB and a
// collection every 20 ms, 240 in a 5-second import; with the floor the
// same import runs some 10 % faster for about 20 MB more RSS. A live heap
// over minHeapGoal/2.5 (16 MB) gets 150 itself, so the peak of a large
// import is unchanged (BENCHMARKS.md, "The 10k import past 2,000 posts/s").
const (
	defaultGCPercent = 150
	minHeapGoal      = 40 << 20
	maxGCPercent     = 1000 // a nearly empty heap: no goal above 11× it
	gcTuneEvery      = 100 * time.Millisecond
)

// gcPercent is the collector target transfeed sets, and whether it sets
// one: an admin's own GOGC (any value, "off" included) is left alone.
func gcPercent(lookup func(string) (string, bool)) (int, bool) {
	if _, set := lookup("GOGC"); set {
		return 0, false
	}
	return defaultGCPercent, true
}

// gcPercentFor is the target that gives a live heap of live bytes a goal
// of at least floor: base, or more for a small heap (at most maxGCPercent).
func gcPercentFor(live uint64, base int, floor uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	if live*uint64(100+base)/100 >= floor {
		return base
	}
	return min(int(floor*100/live)-100, maxGCPercent)
}

// tuneGC sets the collector's target to gcPercentFor the live heap
// (runtime/metrics' /gc/heap/live:bytes, as of the last collection) every
// gcTuneEvery until ctx ends, then sets base again.
func tuneGC(ctx context.Context, base int) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := -1
	t := time.NewTicker(gcTuneEvery)
	defer t.Stop()
	defer debug.SetGCPercent(base)
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if p := gcPercentFor(sample[0].Value.Uint64(), base, minHeapGoal); p != current {
				debug.SetGCPercent(p)
				current = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
