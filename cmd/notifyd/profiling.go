package main

import (
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/httpserver"
)

// Profiling on the metrics listener (metrics.pprof): CPU, heap, goroutine,
// block and mutex profiles and execution traces, for finding where the
// time of a request goes under load.
const (
	// blockProfileRate samples goroutines blocked for about 10 µs or
	// more (runtime.SetBlockProfileRate takes nanoseconds).
	blockProfileRate = 10_000
	// mutexProfileFraction reports one contended lock in 10.
	mutexProfileFraction = 10
	// profileWriteTimeout bounds a profile or trace download: longer than
	// pprof's default 30 s CPU profile, which a shorter write timeout
	// refuses.
	profileWriteTimeout = 5 * time.Minute
)

// newMetricsServer serves /metrics on the metrics listener, and the
// profiler too when metrics.pprof is set.
func newMetricsServer(cfg config.Config, reg prometheus.Gatherer, logger *slog.Logger) *http.Server {
	h, timeouts := httpserver.MetricsHandler(reg, logger), httpTimeouts(cfg.HTTP)
	if cfg.Metrics.Pprof {
		runtime.SetBlockProfileRate(blockProfileRate)
		runtime.SetMutexProfileFraction(mutexProfileFraction)
		h = httpserver.WithProfiling(h)
		timeouts.write = max(timeouts.write, profileWriteTimeout)
		logger.Warn("profiling is on: /debug/pprof/ is served on the metrics listener", "metrics_addr", cfg.Metrics.Addr)
	}
	return newHTTPServer(h, timeouts, logger)
}

// stopProfiling turns block and mutex profiling off again when the metrics
// listener stops (they are process-wide: run may be called again, as tests
// do).
func stopProfiling(cfg config.Metrics) {
	if cfg.Pprof {
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
	}
}
