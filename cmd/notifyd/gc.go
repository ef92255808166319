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
	if cfg.GCPercent != 0 {
		if v, ok := lookupEnv(environ, "GOGC"); ok {
			logger.Info("runtime.gc_percent not applied: GOGC is set", "GOGC", v)
		} else {
			old := debug.SetGCPercent(cfg.GCPercent)
			undo = append(undo, func() { debug.SetGCPercent(old) })
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
		for _, f := range undo {
			f()
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
