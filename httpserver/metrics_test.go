package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/internal/testkit"
	"github.com/notifyd/notifyd/metrics"
	"github.com/notifyd/notifyd/web"
)

// newMetricsServer starts the API with metrics on reg, and MetricsHandler
// over reg on a listener of its own, as run does.
func newMetricsServer(tb testing.TB, reg *prometheus.Registry) metricsEnv {
	tb.Helper()
	m := metrics.New(reg)
	s := testkit.NewStack(tb, testkit.Config{Metrics: m, HTTP: func(s *testkit.Stack) testkit.Server {
		d := deps{Store: s.Store, Service: s.Service, Accounts: s.Accounts, Tasks: s.Tasks, Logger: s.Logger, Metrics: m}
		return testkit.Server{Handler: newServer(testConfig(), d, web.Files()).Handler()}
	}})
	metrics := httptest.NewServer(MetricsHandler(reg, nil))
	transport := &http.Transport{MaxConnsPerHost: 1}
	tb.Cleanup(func() {
		transport.CloseIdleConnections()
		metrics.Close()
	})
	return metricsEnv{url: s.HTTPURL, metricsURL: metrics.URL, client: &http.Client{Transport: transport}}
}

// metricsEnv is the API with metrics and a client that sends every
// request over one connection. net/http reads the next request of a
// connection only once the handler chain of the previous one has
// returned, so each request is counted before the next one (a scrape) is
// served.
type metricsEnv struct {
	url        string // the API
	metricsURL string // MetricsHandler
	client     *http.Client
}

func (e metricsEnv) get(tb testing.TB, path string) (*http.Response, string) {
	tb.Helper()
	return e.getURL(tb, e.url+path)
}

func (e metricsEnv) getURL(tb testing.TB, url string) (*http.Response, string) {
	tb.Helper()
	resp, err := e.client.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(b)
}

func TestMetricsEndpoint(t *testing.T) {
	t.Run("served from the given registry", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		e := newMetricsServer(t, reg)
		e.get(t, "/healthz")
		e.get(t, "/api/notifications/424242/read") // GET on a POST route: 405
		e.get(t, "/no/such/page/31337")

		resp, body := e.getURL(t, e.metricsURL+"/metrics")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`notifyd_http_requests_total{method="GET",route="/healthz",status="2xx"} 1`,
			`notifyd_http_requests_total{method="GET",route="unmatched",status="4xx"} 2`,
			`notifyd_ws_queue_full_closes_total{reason="replay_overflow"} 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, raw := range []string{"/no/such/page", "424242"} {
			if strings.Contains(body, raw) {
				t.Errorf("/metrics contains the raw path part %q", raw)
			}
		}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP notifyd_ws_open_sockets Websocket connections open now, authenticated or not.
# TYPE notifyd_ws_open_sockets gauge
notifyd_ws_open_sockets 0
`), "notifyd_ws_open_sockets"); err != nil {
			t.Error(err)
		}
	})

	t.Run("not on the API", func(t *testing.T) {
		e := newMetricsServer(t, prometheus.NewRegistry())
		resp, body := e.get(t, "/metrics")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "notifyd_") {
			t.Fatalf("GET /metrics on the API: %d %q, want the JSON 404", resp.StatusCode, body)
		}
		resp, _ = e.getURL(t, e.metricsURL+"/api/config")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /api/config on the metrics listener: %d, want 404", resp.StatusCode)
		}
	})
}
