package httpserver

import (
	"log/slog"

	"github.com/gin-gonic/gin"
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

// metricsRoute registers GET /metrics, the Prometheus scrape endpoint over
// Deps.Gatherer, when there is one. It is not authenticated: it tells
// traffic and error rates, so it must not be exposed publicly
// (docs/api.md).
func (s *Server) metricsRoute(e *gin.Engine) {
	if s.deps.Gatherer == nil {
		return
	}
	h := promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{
		// A collector that fails is logged, and the rest is still served.
		ErrorLog:      slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	e.GET("/metrics", gin.WrapH(h))
}
