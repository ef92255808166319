package wsserver

import (
	"context"
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/metrics/metricstest"
)

// TestSocketMetrics follows sockets through their life and reads the
// metrics the server records. The server records a write or a close just
// after the client sees it, hence eventually.
func TestSocketMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(ec *envConfig) { ec.metrics = metrics.New(reg) })
	alice, sess, secret := e.Session(t, "alice")
	value := func(name string, labels ...string) float64 { return metricstest.Value(t, reg, name, labels...) }

	tab := e.connect(t, secret)
	testkit.Eventually(t, "one open socket greeted", func() bool {
		return value("notifyd_ws_open_sockets") == 1 && value("notifyd_ws_frames_delivered_total", "type", "hello") == 1
	})

	n := e.Notify(t, alice.ID, "live")
	if f := tab.NextNotification(t); f.Notification.ID != n.ID {
		t.Fatalf("got %d, want %d", f.Notification.ID, n.ID)
	}
	testkit.Eventually(t, "the live notification counted with its latency", func() bool {
		return value("notifyd_ws_frames_delivered_total", "type", "notification") == 1 &&
			value("notifyd_delivery_latency_seconds") == 1
	})

	tab.Send(t, `{"type":"ping"}`)
	if f := tab.Next(t); f.Type != "pong" {
		t.Fatalf("got %+v, want pong", f)
	}
	testkit.Eventually(t, "the pong counted", func() bool {
		return value("notifyd_ws_frames_delivered_total", "type", "pong") == 1
	})

	// A replayed notification is a delivered frame, but was committed
	// before the socket existed: it has no latency sample.
	resumed := e.connect(t, testkit.SecretAuth(secret, 0))
	if f := resumed.NextNotification(t); f.Notification.ID != n.ID {
		t.Fatalf("replayed %d, want %d", f.Notification.ID, n.ID)
	}
	testkit.Eventually(t, "the replay counted", func() bool {
		return value("notifyd_ws_frames_delivered_total", "type", "notification") == 2
	})
	if v := value("notifyd_delivery_latency_seconds"); v != 1 {
		t.Errorf("latency samples = %v after a replay, want still 1", v)
	}

	// Logout: both sockets of the session get 4401.
	if err := e.Accounts.Logout(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	e.Service.CloseSession(context.Background(), sess.ID)
	tab.ExpectClose(t, CloseUnauthorized)
	resumed.ExpectClose(t, CloseUnauthorized)
	testkit.Eventually(t, "two 4401 closes", func() bool {
		return value("notifyd_ws_closes_total", "code", "4401", "by", "server") == 2
	})

	// A client that closes itself.
	_, _, bobSecret := e.Session(t, "bob")
	bob := e.connect(t, bobSecret)
	if err := bob.Conn().Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the client's close counted and no socket left open", func() bool {
		return value("notifyd_ws_closes_total", "code", "1000", "by", "client") == 1 &&
			value("notifyd_ws_open_sockets") == 0
	})
	if v := value("notifyd_ws_sockets_opened_total"); v != 3 {
		t.Errorf("sockets opened = %v, want 3", v)
	}
}
