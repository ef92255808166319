package httpserver

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// countRequests counts every request in notifyd_http_requests_total by
// route template (c.FullPath: "/api/notifications/:id/read"), never by raw
// path, so ids and probes of unknown paths cannot create new series.
// It runs outside recovery, so a panic counts as the 500 it became.
func (s *Server) countRequests(c *gin.Context) {
	c.Next()
	s.deps.Metrics.HTTPRequest(c.FullPath(), c.Request.Method, c.Writer.Status())
}

// MetricsHandler serves GET /metrics, the Prometheus scrape endpoint over
// g, and 404 for every other path. It runs on a listener of its own
// (metrics.addr), never on the API's: the metrics tell traffic and
// login-failure rates, and have no authentication.
func MetricsHandler(g prometheus.Gatherer, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A collector that fails is logged, and the rest is still served.
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}
