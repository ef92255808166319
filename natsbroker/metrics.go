package natsbroker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the NATS broker's Prometheus metrics. A nil *Metrics given to
// New is replaced by an unregistered one.
type Metrics struct {
	published, dropped, received, reconnects, resyncs prometheus.Counter
	rejected                                          *prometheus.CounterVec // reason
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered). Call it once per registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	counter := func(name, help string) prometheus.Counter {
		return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		published: counter("notifyd_nats_published_total", "Sealed messages handed to the NATS connection."),
		dropped: counter("notifyd_nats_dropped_total",
			"Messages not sent because NATS was unreachable for so long that nats.go's reconnect buffer was full (the receivers repair from the database)."),
		received:   counter("notifyd_nats_received_total", "Messages received from NATS that opened and were delivered."),
		reconnects: counter("notifyd_nats_reconnects_total", "Times the NATS connection was re-established after a loss."),
		resyncs: counter("notifyd_nats_resyncs_total",
			"Times every watched user was caught up from the database because messages may have been missed (reconnection, full receive queue)."),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_nats_rejected_total",
			Help: `Messages received from NATS and refused, by reason ("malformed", "too_large", "unauthenticated": not sealed with cluster.secret for that subject, "stale", "replay").`,
		}, []string{"reason"}),
	}
	for _, r := range []string{RejectMalformed, RejectTooLarge, RejectForged, RejectStale, RejectReplay} {
		m.rejected.WithLabelValues(r)
	}
	return m
}
