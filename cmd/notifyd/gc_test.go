package main

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
)

// currentGC reads the collector's settings without changing them.
func currentGC() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestTuneGC checks that runtime.gc_percent and runtime.memory_limit_mib
// reach the collector, that GOGC and GOMEMLIMIT in the environment win, and
// that the settings before are put back.
func TestTuneGC(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	beforePercent, beforeLimit := currentGC()
	tests := []struct {
		name        string
		cfg         config.Runtime
		environ     []string
		wantPercent int
		wantLimit   int64
	}{
		{"both applied", config.Runtime{GCPercent: 321, MemoryLimitMiB: 512}, nil, 321, 512 << 20},
		{"zero leaves Go's own", config.Runtime{}, nil, beforePercent, beforeLimit},
		{"GOGC wins", config.Runtime{GCPercent: 321, MemoryLimitMiB: 512}, []string{"GOGC=50"}, beforePercent, 512 << 20},
		{"GOMEMLIMIT wins", config.Runtime{GCPercent: 321, MemoryLimitMiB: 512}, []string{"GOMEMLIMIT=1GiB"}, 321, beforeLimit},
		{"an empty GOGC is unset", config.Runtime{GCPercent: 321}, []string{"GOGC="}, 321, beforeLimit},
		{"GOGC wins over the floor", config.Runtime{GCMinHeapMiB: 1 << 20}, []string{"GOGC=50"}, beforePercent, beforeLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restore := tuneGC(tt.cfg, tt.environ, logger)
			percent, limit := currentGC()
			restore()
			if percent != tt.wantPercent || limit != tt.wantLimit {
				t.Errorf("gc percent %d, memory limit %d; want %d, %d", percent, limit, tt.wantPercent, tt.wantLimit)
			}
			if p, l := currentGC(); p != beforePercent || l != beforeLimit {
				t.Errorf("after restore: gc percent %d, memory limit %d; want %d, %d as before", p, l, beforePercent, beforeLimit)
			}
		})
	}
}

// gcPercentNow is the collector's GOGC as the runtime reports it.
func gcPercentNow() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestHeapFloor: with a floor far above the test's heap, the collection
// after the floor starts sets GOGC so that the heap goal is the floor;
// once the live heap is over the floor, the next collection puts GOGC
// back to the setting; once stopped and restored, GOGC is what it was.
// Both goals are read from the runtime, so a floor that does not reach
// the collector, or that is set once and not after each collection,
// fails.
func TestHeapFloor(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	before, _ := currentGC()
	const floor = 128 << 20
	restore := tuneGC(config.Runtime{GCPercent: 100, GCMinHeapMiB: floor >> 20}, nil, logger)
	defer restore()

	// The adjustment runs on the runtime's cleanup goroutine after a
	// collection: wait for its effect, not for a time.
	goal := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				metrics.Read(goal)
				t.Fatalf("no %s: heap goal %d MiB, GOGC %d", what, goal[0].Value.Uint64()>>20, gcPercentNow())
			}
		}
	}
	runtime.GC()
	waitFor("goal at the floor", func() bool {
		metrics.Read(goal)
		g := goal[0].Value.Uint64()
		return g >= floor*9/10 && g <= floor*11/10
	})

	live := make([]byte, floor+floor/4) // pointer-free: marked in no time
	runtime.GC()
	waitFor("GOGC back to 100 over the floor", func() bool { return gcPercentNow() == 100 })
	runtime.KeepAlive(live)

	restore()
	runtime.GC() // a collection after the restore must not set the floor's GOGC again
	time.Sleep(10 * time.Millisecond)
	if p, _ := currentGC(); p != before {
		t.Errorf("after restore: GOGC %d, want %d as before", p, before)
	}
}

// TestFloorPercent: the GOGC whose goal is the floor, never below the
// setting, and the setting once the live heap is at the floor.
func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                 string
		floor, live, roots   uint64
		percent, wantPercent int
	}{
		{"goal is the floor", 256 * mib, 36 * mib, 9 * mib, 100, 488},          // 36 + 45 × 4.88 = 256
		{"own goal above the floor", 256 * mib, 170 * mib, 30 * mib, 100, 100}, // 170 + 200 > 256
		{"live heap over the floor", 256 * mib, 300 * mib, 30 * mib, 100, 100},
		{"a higher setting stays", 256 * mib, 36 * mib, 9 * mib, 800, 800},
		{"an empty heap: Go's own minimum is the floor", 256 * mib, 1, 0, 100, 6400}, // 4 MiB × 64
		{"nothing scanned yet", 256 * mib, 0, 0, 100, 100},
	}
	for _, tt := range tests {
		if got := floorPercent(tt.floor, tt.percent, tt.live, tt.roots); got != tt.wantPercent {
			t.Errorf("%s: floorPercent = %d, want %d", tt.name, got, tt.wantPercent)
		}
	}
}
