package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/notifyd/notifyd/notify"
)

// Reasons of notifyd_cluster_doorbells_rejected_total, for
// DoorbellRejected (the postgres broker, package cluster).
const (
	RejectMAC       = "bad_mac"   // not authenticated by cluster.secret
	RejectMalformed = "malformed" // authenticated but unreadable (a newer kind)
	RejectStale     = "stale"     // authenticated but committed too long ago (a replay)
)

// clusterMetrics are those of the cluster brokers and their receiver.
type clusterMetrics struct {
	reconnects  prometheus.Counter
	catchUpRows prometheus.Counter
	lag         prometheus.Gauge
	duplicates  prometheus.Counter
	repairs     *prometheus.CounterVec // cause
	rejected    *prometheus.CounterVec // reason
}

func newClusterMetrics(f promauto.Factory) clusterMetrics {
	m := clusterMetrics{
		reconnects: counter(f, "notifyd_cluster_listener_reconnects_total",
			"Times the cluster LISTEN connection was re-established."),
		catchUpRows: counter(f, "notifyd_cluster_catchup_rows_total",
			"Notifications delivered by catch-up queries (after a broker reconnect, a gap, the audit, or an insert of unknown outcome)."),
		lag: f.NewGauge(prometheus.GaugeOpts{
			Name: "notifyd_cluster_delivery_lag_seconds",
			Help: "Now minus the commit time of the oldest change received from the broker and not yet handed to the sockets; 0 when none waits. /readyz fails above cluster.max_listener_lag.",
		}),
		duplicates: counter(f, "notifyd_cluster_duplicates_dropped_total",
			"Changes received with a seq already delivered (a duplicate, or this instance's own echo) and dropped."),
		repairs: counterVec(f, "notifyd_cluster_repairs_total",
			`Users caught up from the database because a change was missed, by cause ("gap", "audit", "reconnect").`,
			"cause"),
		rejected: counterVec(f, "notifyd_cluster_doorbells_rejected_total",
			`Doorbells (postgres broker) dropped unread, by reason ("bad_mac": not signed with cluster.secret, e.g. forged by another database role; "malformed"; "stale": committed more than a minute ago, e.g. replayed).`,
			"reason"),
	}
	preset(m.repairs, notify.RepairGap, notify.RepairAudit, notify.RepairReconnect)
	preset(m.rejected, RejectMAC, RejectMalformed, RejectStale)
	return m
}

// ListenerReconnected counts a re-established cluster listener connection.
func (m *Metrics) ListenerReconnected() {
	if m == nil {
		return
	}
	m.cluster.reconnects.Inc()
}

// CatchUpRows counts n notifications delivered by a catch-up query.
func (m *Metrics) CatchUpRows(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.cluster.catchUpRows.Add(float64(n))
}

// DeliveryLag records the delivery lag of the cluster broker.
func (m *Metrics) DeliveryLag(d time.Duration) {
	if m == nil {
		return
	}
	m.cluster.lag.Set(d.Seconds())
}

// DuplicateDropped counts a change dropped as already delivered.
func (m *Metrics) DuplicateDropped() {
	if m == nil {
		return
	}
	m.cluster.duplicates.Inc()
}

// Repaired counts n users caught up from the database for cause
// (notify.RepairGap, RepairAudit, RepairReconnect).
func (m *Metrics) Repaired(cause string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.cluster.repairs.WithLabelValues(cause).Add(float64(n))
}

// DoorbellRejected counts a doorbell dropped for reason (RejectMAC,
// RejectMalformed, RejectStale).
func (m *Metrics) DoorbellRejected(reason string) {
	if m == nil {
		return
	}
	m.cluster.rejected.WithLabelValues(reason).Inc()
}
