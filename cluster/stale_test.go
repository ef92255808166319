package cluster

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/notify/notifytest"
)

// TestStaleDoorbellDropped: an authenticated doorbell whose change was
// committed more than staleAfter ago (a recording replayed later) is
// dropped and counted; a fresh one is queued.
func TestStaleDoorbellDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	hub := notify.NewHub(notifytest.HubConfig())
	l, err := New(Config{URL: "postgres://127.0.0.1:1/x", Secret: codecSecret}, nil, hub, slog.New(slog.DiscardHandler), m)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sub, err := hub.Register(7, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Unregister(sub)
	other, err := newSigner(codecSecret)
	if err != nil {
		t.Fatal(err)
	}
	ring := func(at time.Time) string {
		p, err := other.encode("another instance", []ring{ringOf(notify.Change{Kind: notify.ChangeDeleted, User: 7, Seq: 3, ID: 9, At: at}, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return p[0]
	}
	l.receive(ring(time.Now().Add(-2 * staleAfter)))
	if n := len(l.inbox.take()); n != 0 || metricstest.Value(t, reg, "notifyd_cluster_doorbells_rejected_total", "reason", metrics.RejectStale) != 1 {
		t.Fatalf("stale doorbell: %d queued, rejected %v; want 0 and 1", n, metricstest.Value(t, reg, "notifyd_cluster_doorbells_rejected_total", "reason", metrics.RejectStale))
	}
	l.receive(ring(time.Now()))
	if n := len(l.inbox.take()); n != 1 {
		t.Fatalf("fresh doorbell: %d queued, want 1", n)
	}
}
