package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label values of the cluster metrics.
const (
	// Causes of notifyd_cluster_repairs_total.
	RepairGap       = "gap"       // a change arrived with a seq above the next one
	RepairAudit     = "audit"     // the audit found a user's last change missing
	RepairReconnect = "reconnect" // the broker reconnected
	// Reasons of notifyd_cluster_doorbells_rejected_total.
	RejectMAC       = "bad_mac"   // not authenticated by cluster.secret
	RejectMalformed = "malformed" // authenticated but unreadable (a newer kind)
	RejectStale     = "stale"     // authenticated but committed too long ago (a replay)
)

// clusterMetrics are those of the cluster brokers and their receiver.
type clusterMetrics struct {
	lag        prometheus.Gauge
	duplicates prometheus.Counter
	repairs    *prometheus.CounterVec // cause
	rejected   *prometheus.CounterVec // reason
}

func newClusterMetrics(f promauto.Factory) clusterMetrics {
	m := clusterMetrics{
		lag: f.NewGauge(prometheus.GaugeOpts{
			Name: "notifyd_cluster_delivery_lag_seconds",
			Help: "Now minus the commit time of the oldest change received from the broker and not yet handed to the sockets; 0 when none waits. /readyz fails above cluster.max_listener_lag.",
		}),
		duplicates: f.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_cluster_duplicates_dropped_total",
			Help: "Changes received with a seq already delivered (a duplicate, or this instance's own echo) and dropped.",
		}),
		repairs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_cluster_repairs_total",
			Help: `Users caught up from the database because a change was missed, by cause ("gap", "audit", "reconnect").`,
		}, []string{"cause"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_cluster_doorbells_rejected_total",
			Help: `Doorbells (postgres broker) dropped unread, by reason ("bad_mac": not signed with cluster.secret, e.g. forged by another database role; "malformed"; "stale": committed more than a minute ago, e.g. replayed).`,
		}, []string{"reason"}),
	}
	for _, c := range []string{RepairGap, RepairAudit, RepairReconnect} {
		m.repairs.WithLabelValues(c)
	}
	for _, r := range []string{RejectMAC, RejectMalformed, RejectStale} {
		m.rejected.WithLabelValues(r)
	}
	return m
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
// (RepairGap, RepairAudit, RepairReconnect).
func (m *Metrics) Repaired(cause string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.cluster.repairs.WithLabelValues(cause).Add(float64(n))
}

// DoorbellRejected counts a doorbell dropped for reason (RejectMAC,
// RejectMalformed).
func (m *Metrics) DoorbellRejected(reason string) {
	if m == nil {
		return
	}
	m.cluster.rejected.WithLabelValues(reason).Inc()
}
