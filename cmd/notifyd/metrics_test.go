package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one read of GET /metrics, by metric name.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics reads /metrics on metrics.addr as Prometheus would.
func (in *instance) scrapeMetrics(tb testing.TB) scrape {
	tb.Helper()
	resp, err := http.Get(in.MetricsURL + "/metrics")
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET /metrics: status %d: %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value returns the value of the series of name with the label pairs
// labels ("code", "4401", ...): a counter's or gauge's value, a
// histogram's sample count; 0 when the series does not exist.
func (s scrape) value(name string, labels ...string) float64 {
	mf := s[name]
	if mf == nil {
		return 0
	}
	var sum float64
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// hasLabels reports whether m has every pair of labels; with no pairs,
// every series of the family matches and value sums them.
func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// waitMetric scrapes until cond holds. The server records a write or a
// close just after the client sees it, and a scrape reads each metric at
// its own moment (a gauge may already show a socket gone whose close is
// not counted yet); this waits for that, it is not a timing assertion.
func (in *instance) waitMetric(tb testing.TB, what string, cond func(scrape) bool) scrape {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := in.scrapeMetrics(tb)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMetricsNotOnPublicPort: the metrics answer on metrics.addr only; the
// public API port answers /metrics with the JSON 404, and metrics.addr
// "off" opens no listener.
func TestMetricsNotOnPublicPort(t *testing.T) {
	in := start(t, testEnv(t))
	resp, err := http.Get(in.HTTPURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(b), "notifyd_") {
		t.Fatalf("GET /metrics on the API port: %d %.100q, want 404", resp.StatusCode, b)
	}
	if s := in.scrapeMetrics(t); s["notifyd_http_requests_total"] == nil {
		t.Fatal("metrics.addr does not serve notifyd's metrics")
	}

	env := testEnv(t)
	env["NOTIFYD_METRICS_ADDR"] = "off"
	off := start(t, env)
	if off.MetricsURL != "http://" {
		t.Fatalf("metrics.addr off: listening on %s", off.MetricsURL)
	}
}

// TestMetricsEndToEnd reads /metrics as an operator would while a user
// opens a socket, gets notifications, logs out (4401), and a client that
// stops reading is cut off (4008).
func TestMetricsEndToEnd(t *testing.T) {
	env := testEnv(t)
	env["NOTIFYD_WS_SEND_QUEUE"] = "4"
	// Long enough that a stalled write never times out before the queue
	// of 4 fills: the close is then always a queue-full one.
	env["NOTIFYD_WS_WRITE_TIMEOUT"] = "30s"
	in := start(t, env)

	s := in.scrapeMetrics(t)
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "notifyd_ws_open_sockets"} {
		if s[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if v := s.value("notifyd_ws_queue_full_closes_total", "reason", "queue_full"); v != 0 {
		t.Fatalf("queue_full closes = %v before anything happened", v)
	}

	_, secret := in.external(t, "alice")
	_, bobSecret := in.external(t, "bob")
	tab := in.connect(t, secret)
	s = in.waitMetric(t, "one open socket with its hello", func(s scrape) bool {
		return s.value("notifyd_ws_open_sockets") == 1 &&
			s.value("notifyd_ws_frames_delivered_total", "type", "hello") == 1
	})
	if v := s.value("notifyd_ws_sockets_opened_total"); v != 1 {
		t.Errorf("sockets opened = %v, want 1", v)
	}

	t.Run("publish", func(t *testing.T) {
		id := publish(t, in, "alice", "hello", "", "info")
		if n := tab.NextOfType(t, "notification"); n.Notification.ID != id {
			t.Fatalf("got %s, want id %d", n.Raw, id)
		}
		body := map[string]any{"user_ids": []string{"alice", "bob"}, "title": "to both"}
		if code := in.api(t, "POST", "/api/publisher/notifications", testAPIKey, body, nil); code != http.StatusCreated {
			t.Fatalf("bulk publish: status %d", code)
		}
		tab.NextOfType(t, "notification")
		route := "/api/publisher/users/:external_id/notifications"
		s := in.waitMetric(t, "two notifications delivered", func(s scrape) bool {
			return s.value("notifyd_ws_frames_delivered_total", "type", "notification") == 2 &&
				s.value("notifyd_delivery_latency_seconds") == 2 &&
				s.value("notifyd_http_requests_total", "route", route) == 1
		})
		if v := s.value("notifyd_notifications_created_total", "path", "single"); v != 1 {
			t.Errorf("created single = %v, want 1", v)
		}
		if v := s.value("notifyd_notifications_created_total", "path", "bulk"); v != 2 {
			t.Errorf("created bulk = %v, want 2", v)
		}
		if v := s.value("notifyd_http_requests_total", "route", route, "method", "POST", "status", "2xx"); v != 1 {
			t.Errorf("requests to %s = %v, want 1", route, v)
		}
	})

	t.Run("logout closes with 4401", func(t *testing.T) {
		if code := in.api(t, "DELETE", "/api/sessions/current", secret, nil, nil); code != http.StatusNoContent {
			t.Fatalf("logout: status %d", code)
		}
		_, err := tab.Read(t)
		if got := websocket.CloseStatus(err); got != 4401 {
			t.Fatalf("close status = %v (%v), want 4401", got, err)
		}
		s := in.waitMetric(t, "the socket closed", func(s scrape) bool {
			return s.value("notifyd_ws_open_sockets") == 0 && s.value("notifyd_ws_closes_total") == 1
		})
		if v := s.value("notifyd_ws_closes_total", "code", "4401", "by", "server"); v != 1 {
			t.Errorf("closes with 4401 = %v, want 1; closes: %v", v, s["notifyd_ws_closes_total"])
		}
	})

	t.Run("slow reader is cut off", func(t *testing.T) {
		stalled := in.connect(t, bobSecret) // never read again
		data := fmt.Sprintf(`{"type":"flood","data":"%s"}`, strings.Repeat("x", 16000))
		deadline := time.Now().Add(30 * time.Second)
		for i := 0; ; i++ {
			if time.Now().After(deadline) {
				t.Fatal("the stalled socket was never closed for a full queue")
			}
			// Each event is 16 KB: the socket's TCP buffers fill, then its
			// queue of 4. Scrape now and then, not after every event.
			if code := in.api(t, "POST", "/api/publisher/users/bob/events", testAPIKey, rawJSON(data), nil); code != http.StatusAccepted {
				t.Fatalf("event: status %d", code)
			}
			if i%20 == 0 && in.scrapeMetrics(t).value("notifyd_ws_queue_full_closes_total", "reason", "queue_full") > 0 {
				break
			}
		}
		// The server's writer is stuck in a write to the stalled client;
		// the client going away ends it.
		stalled.CloseNow()
		s := in.waitMetric(t, "the stalled socket gone", func(s scrape) bool {
			return s.value("notifyd_ws_open_sockets") == 0 && s.value("notifyd_ws_closes_total") == 2
		})
		if v := s.value("notifyd_ws_queue_full_closes_total", "reason", "queue_full"); v != 1 {
			t.Errorf("queue_full closes = %v, want 1", v)
		}
		if v := s.value("notifyd_ws_queue_full_closes_total", "reason", "replay_overflow"); v != 0 {
			t.Errorf("replay_overflow closes = %v, want 0", v)
		}
		// Told 4008, or dropped when the close frame could not be written.
		closed := s.value("notifyd_ws_closes_total", "code", "4008") + s.value("notifyd_ws_closes_total", "code", "none")
		if closed != 1 {
			t.Errorf("closes with 4008 or none = %v, want 1; closes: %v", closed, s["notifyd_ws_closes_total"])
		}
	})

	t.Run("routes are templates", func(t *testing.T) {
		in.api(t, "GET", "/no/such/path/12345", "", nil, nil)
		in.api(t, "POST", "/api/notifications/987654/read", bobSecret, nil, nil)
		// A request is counted once its response is written.
		in.waitMetric(t, "both requests counted by template", func(s scrape) bool {
			return s.value("notifyd_http_requests_total", "route", "unmatched", "method", "GET", "status", "4xx") == 1 &&
				s.value("notifyd_http_requests_total", "route", "/api/notifications/:id/read", "method", "POST", "status", "4xx") == 1
		})
		resp, err := http.Get(in.HTTPURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, raw := range []string{"/no/such/path", "/api/notifications/987654"} {
			if strings.Contains(string(text), raw) {
				t.Errorf("/metrics contains the raw path %s", raw)
			}
		}
	})
}

// rawJSON is a request body sent as is by instance.api.
type rawJSON string

// MarshalJSON returns the text unchanged.
func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
