package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/notify"
)

// newMetrics returns the process's own Prometheus registry (never the
// client library's global one) with the Go runtime and process collectors
// and notifyd's metrics on it. The registry is served at GET /metrics.
func newMetrics() (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg, metrics.New(reg)
}

// newSweeper returns the retention sweeper of the [retention] section,
// which also forgets the publisher's idempotency keys after
// publisher.idempotency_ttl.
func newSweeper(cfg config.Retention, keyTTL config.Duration, st notify.RetentionStore, logger *slog.Logger, m *metrics.Metrics) *notify.Sweeper {
	return notify.NewSweeper(st, notify.SweeperConfig{
		ReadAfter:      cfg.ReadAfter.D(),
		UnreadAfter:    cfg.UnreadAfter.D(),
		Interval:       cfg.Interval.D(),
		IdempotencyTTL: keyTTL.D(),
		Batch:          cfg.BatchSize,
		Pause:          cfg.BatchPause.D(),
	}, logger, m)
}
