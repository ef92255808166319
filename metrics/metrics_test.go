package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
)

func TestNilIsSafe(t *testing.T) {
	var m *metrics.Metrics
	m.SocketOpened()
	m.SocketClosed("1000", "client")
	m.QueueFull(notify.ReasonQueueFull)
	m.NotificationsCreated(notify.PathSingle, 1)
	m.FrameDelivered("notification", time.Now())
	m.ListenerReconnected()
	m.CatchUpRows(3)
	m.DBError("ping", notify.EUNAVAILABLE)
	m.RetentionDeleted(notify.RetentionRead, 2)
	m.HTTPRequest("/healthz", "GET", 200)
	m.JWKSRefreshError()
	m.DeliveryLag(time.Second)
	m.BatchStored(time.Millisecond)
	m.BatchWaited(time.Millisecond)
	m.DuplicateDropped()
	m.Repaired(notify.RepairGap, 1)
	m.DoorbellRejected(metrics.RejectMAC)
}

func TestLabelsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.SocketOpened()
	m.SocketOpened()
	m.SocketOpened()
	m.SocketClosed("other", "client")
	m.SocketClosed("none", "lost")
	m.SocketClosed("4429", "nobody") // an unknown closer
	m.HTTPRequest("", "BREW", 418)
	m.HTTPRequest("/api/notifications/:id/read", "POST", 204)

	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"open sockets", "notifyd_ws_open_sockets", nil, 0},
		{"opened", "notifyd_ws_sockets_opened_total", nil, 3},
		{"client code", "notifyd_ws_closes_total", []string{"code", "other", "by", "client"}, 1},
		{"lost", "notifyd_ws_closes_total", []string{"code", "none", "by", "lost"}, 1},
		{"unknown closer", "notifyd_ws_closes_total", []string{"code", "4429", "by", "other"}, 1},
		{"unknown route and method", "notifyd_http_requests_total", []string{"route", "unmatched", "method", "other", "status", "4xx"}, 1},
		{"template", "notifyd_http_requests_total", []string{"route", "/api/notifications/:id/read", "method", "POST", "status", "2xx"}, 1},
		{"preset queue full", "notifyd_ws_queue_full_closes_total", []string{"reason", notify.ReasonReplayOverflow}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricstest.Value(t, reg, tt.metric, tt.labels...); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
}

// TestPresetSeries: the series of every known label value exist from the
// start at 0, so that rate() and alerts see the first increment.
func TestPresetSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg)
	want := map[string][]string{
		"notifyd_ws_queue_full_closes_total":       {notify.ReasonQueueFull, notify.ReasonReplayOverflow},
		"notifyd_notifications_created_total":      {notify.PathSingle, notify.PathBulk},
		"notifyd_retention_deleted_total":          {notify.RetentionRead, notify.RetentionUnread, notify.RetentionSession, notify.RetentionIdempotencyKey},
		"notifyd_cluster_repairs_total":            {notify.RepairGap, notify.RepairAudit, notify.RepairReconnect},
		"notifyd_cluster_doorbells_rejected_total": {metrics.RejectMAC, metrics.RejectMalformed, metrics.RejectStale},
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range families {
		got[mf.GetName()] = len(mf.GetMetric())
	}
	for name, values := range want {
		if got[name] != len(values) {
			t.Errorf("%s has %d series at start, want %d (%v)", name, got[name], len(values), values)
		}
	}
}
