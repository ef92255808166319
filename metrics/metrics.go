// Package metrics is notifyd's Prometheus adapter: it owns every collector
// of the process (the NATS broker's own aside, natsbroker/metrics.go) and
// implements notify.Observer, what the domain reports about itself. The
// adapters (store, httpserver, wsserver, cluster, jwtauth) call its
// methods directly. One *Metrics is built in run on the process's own
// registry; every method is safe on a nil *Metrics, which records nothing,
// so tests and embedders need not build one.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/notifyd/notifyd/notify"
)

// Metrics are notifyd's Prometheus metrics.
type Metrics struct {
	openSockets   prometheus.Gauge
	socketsOpened prometheus.Counter
	closes        *prometheus.CounterVec // code, by
	queueFull     *prometheus.CounterVec // reason
	created       *prometheus.CounterVec // path
	delivered     *prometheus.CounterVec // type
	latency       prometheus.Histogram
	batchStored   prometheus.Histogram
	batchWaited   prometheus.Histogram
	dbErrors      *prometheus.CounterVec // op, code
	retention     *prometheus.CounterVec // kind
	httpRequests  *prometheus.CounterVec // route, method, status
	jwksErrors    prometheus.Counter
	cluster       clusterMetrics // cluster.go
}

// Metrics is what the domain needs to report to.
var _ notify.Observer = (*Metrics)(nil)

// New creates the metrics and registers them on reg; with a nil reg they
// are created but not registered. Registering twice on one registry
// panics, like prometheus.MustRegister: call it once per registry.
func New(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		openSockets: f.NewGauge(prometheus.GaugeOpts{
			Name: "notifyd_ws_open_sockets",
			Help: "Websocket connections open now, authenticated or not.",
		}),
		socketsOpened: counter(f, "notifyd_ws_sockets_opened_total",
			"Websocket connections upgraded."),
		closes: counterVec(f, "notifyd_ws_closes_total",
			`Websocket connections ended, by close code and by who closed ("server", "client", or "lost": no close frame, code "none").`,
			"code", "by"),
		queueFull: counterVec(f, "notifyd_ws_queue_full_closes_total",
			`Sockets closed with 4008 because they read too slowly, by reason ("queue_full", "replay_overflow").`,
			"reason"),
		created: counterVec(f, "notifyd_notifications_created_total",
			`Notifications committed, by API path ("single", "bulk").`,
			"path"),
		delivered: counterVec(f, "notifyd_ws_frames_delivered_total",
			"Messages written to websocket clients, by message type.",
			"type"),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name: "notifyd_delivery_latency_seconds",
			Help: "Time from a notification's commit to the end of its write to a socket.",
			// From 0.5 ms (a local socket with an idle writer) to 5 s
			// (past ws.write_timeout a frame closes its socket).
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		batchStored: f.NewHistogram(prometheus.HistogramOpts{
			Name: "notifyd_batch_store_seconds",
			Help: "Time the transaction of one group-commit batch of notifications took, committed or not.",
			// From 0.25 ms (one row on a local Postgres) to 5 s (past
			// database.query_timeout's default a batch has failed).
			Buckets: []float64{.00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		batchWaited: f.NewHistogram(prometheus.HistogramOpts{
			Name: "notifyd_batch_wait_seconds",
			Help: "Time a call to create notifications waited from being queued until its group-commit batch's transaction started.",
			// From 0.1 ms (an idle committer) to 5 s: database.batch_max_wait
			// (1 ms by default) plus the previous batch's transaction.
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		dbErrors: counterVec(f, "notifyd_db_errors_total",
			`Database calls that failed, by store operation and code ("unavailable", "internal"); not-found and conflict answers are not errors here.`,
			"op", "code"),
		retention: counterVec(f, "notifyd_retention_deleted_total",
			`Rows deleted by the retention sweeper, by kind ("read_notifications", "unread_notifications", "expired_sessions").`,
			"kind"),
		httpRequests: counterVec(f, "notifyd_http_requests_total",
			`HTTP API requests, by route template ("unmatched" for unknown paths), method and status class ("2xx"...).`,
			"route", "method", "status"),
		jwksErrors: counter(f, "notifyd_jwks_refresh_errors_total",
			"Fetches of auth.jwt.jwks_url that failed; the last good keys stay in use."),
		cluster: newClusterMetrics(f),
	}
	// Series with known labels exist from the start at 0, so that rate()
	// and alerts see the first increment.
	preset(m.queueFull, notify.ReasonQueueFull, notify.ReasonReplayOverflow)
	preset(m.created, notify.PathSingle, notify.PathBulk)
	preset(m.retention, notify.RetentionRead, notify.RetentionUnread, notify.RetentionSession, notify.RetentionIdempotencyKey)
	return m
}

// counter creates a counter without labels.
func counter(f promauto.Factory, name, help string) prometheus.Counter {
	return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// counterVec creates a counter with the labels named.
func counterVec(f promauto.Factory, name, help string, labels ...string) *prometheus.CounterVec {
	return f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// preset creates the series of a one-label counter for each value, at 0.
func preset(v *prometheus.CounterVec, values ...string) {
	for _, s := range values {
		v.WithLabelValues(s)
	}
}
