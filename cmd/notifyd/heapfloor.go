package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Go's collector has a ceiling (GOMEMLIMIT) but no floor: with GOGC=100 it
// runs each time the heap has doubled, however small the heap is. A
// notifyd with a few thousand sockets has a live heap of tens of MiB and
// allocates about 9 KB per request, so at 1,000 requests/s it collects
// every few seconds, and the requests in flight while it marks pay for it
// (BENCHMARKS.md, "The p99 at 1,000/s is the garbage collector's"). A
// heapFloor lets the heap grow to a fixed size before the next collection
// while the live heap is small, and steps aside once GOGC's own goal is
// above that size: collections become rarer while the heap is small, for
// at most the floor's worth of memory, where a higher GOGC would cost
// memory in proportion to the heap. The memory limit, if any, still caps
// the heap: the runtime takes the lower of the two goals.
//
// It works as the GOGC tuners of large Go fleets do: after each
// collection it reads the live heap and sets GOGC so that the goal is the
// floor. A cleanup attached to an object dropped at once runs after the
// next collection; each run attaches the next.

// goHeapMinimum is the runtime's own floor at GOGC=100 (defaultHeapMinimum
// in runtime/mgcpacer.go), which it scales by GOGC: at GOGC=p the goal is
// never below 4 MiB × p / 100. With an almost empty heap the p whose goal
// is the floor would be in the tens of thousands, and that minimum alone
// far above the floor, so p stays at or below floor × 100 / 4 MiB.
const goHeapMinimum = 4 << 20

// heapFloor sets GOGC after every collection; see above.
type heapFloor struct {
	floor   uint64 // bytes
	percent int    // GOGC where its own goal is above the floor
	samples []metrics.Sample

	mu      sync.Mutex
	stopped bool
}

// floorSentinel is what the cleanup hangs on. It holds a pointer so that
// it is not one of the tiny pointer-free objects that share a block, whose
// cleanups may wait for their neighbours.
type floorSentinel struct{ _ *int }

// startHeapFloor sets GOGC for a heap floor of floor bytes over percent
// (GOGC's setting above it) until stop is called.
func startHeapFloor(floor uint64, percent int) (stop func()) {
	h := &heapFloor{floor: floor, percent: percent, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}}
	h.adjust()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.stopped = true
	}
}

// adjust sets GOGC from the last collection's live heap and arms the
// next adjustment.
func (h *heapFloor) adjust() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	metrics.Read(h.samples)
	debug.SetGCPercent(floorPercent(h.floor, h.percent, h.samples[0].Value.Uint64(),
		h.samples[1].Value.Uint64()+h.samples[2].Value.Uint64()))
	runtime.AddCleanup(&floorSentinel{}, func(h *heapFloor) { h.adjust() }, h)
}

// floorPercent is the GOGC whose goal is the floor (never below percent):
// Go's goal is live + (live + roots) × GOGC / 100, roots being the stacks
// and globals the collector scans, and at least goHeapMinimum × GOGC / 100.
func floorPercent(floor uint64, percent int, live, roots uint64) int {
	scanned := live + roots
	if live >= floor || scanned == 0 {
		return percent
	}
	p := min((floor-live)*100/scanned, floor*100/goHeapMinimum)
	return max(percent, int(p))
}
