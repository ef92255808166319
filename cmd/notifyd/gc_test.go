package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

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
