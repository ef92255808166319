package main

import (
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/notifyd/notifyd/config"
)

// tuneGC applies cfg to Go's garbage collector, except what GOGC or
// GOMEMLIMIT in environ sets: the runtime read those at start, and an
// operator who set them meant them. It returns the function that puts back
// what was there before, as the settings belong to the whole process
// (the tests run many servers in one).
func tuneGC(cfg config.Runtime, environ []string, logger *slog.Logger) (restore func()) {
	var undo []func()
	gogc, envGOGC := lookupEnv(environ, "GOGC")
	if envGOGC && (cfg.GCPercent != 0 || cfg.GCMinHeapMiB != 0) {
		logger.Info("runtime.gc_percent and runtime.gc_min_heap_mib not applied: GOGC is set", "GOGC", gogc)
	}
	if cfg.GCPercent != 0 && !envGOGC {
		old := debug.SetGCPercent(cfg.GCPercent)
		undo = append(undo, func() { debug.SetGCPercent(old) })
	}
	if cfg.GCMinHeapMiB != 0 && !envGOGC {
		// The floor sets GOGC after every collection: what was there before
		// is put back once it has stopped.
		percent := debug.SetGCPercent(100)
		debug.SetGCPercent(percent)
		if percent > 0 {
			undo = append(undo, func() { debug.SetGCPercent(percent) }, startHeapFloor(uint64(cfg.GCMinHeapMiB)<<20, percent))
		}
	}
	if cfg.MemoryLimitMiB != 0 {
		if v, ok := lookupEnv(environ, "GOMEMLIMIT"); ok {
			logger.Info("runtime.memory_limit_mib not applied: GOMEMLIMIT is set", "GOMEMLIMIT", v)
		} else {
			old := debug.SetMemoryLimit(cfg.MemoryLimitMiB << 20)
			undo = append(undo, func() { debug.SetMemoryLimit(old) })
		}
	}
	return func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
}

// lookupEnv finds key in environ (KEY=VALUE entries), as os.LookupEnv
// does in the process's environment; an empty value counts as unset, as
// the runtime treats it.
func lookupEnv(environ []string, key string) (string, bool) {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key && v != "" {
			return v, true
		}
	}
	return "", false
}
