package notify

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label values of the metrics, fixed so that no client input can grow the
// number of series.
const (
	// Reasons of notifyd_ws_queue_full_closes_total.
	ReasonQueueFull      = "queue_full"      // the live send queue was full
	ReasonReplayOverflow = "replay_overflow" // more frames arrived during the replay than the queue holds

	// Paths of notifyd_notifications_created_total.
	PathSingle = "single" // Service.Notify
	PathBulk   = "bulk"   // Service.NotifyMany

	// Kinds of notifyd_retention_deleted_total.
	RetentionRead    = "read_notifications"
	RetentionUnread  = "unread_notifications"
	RetentionSession = "expired_sessions"
	// RetentionIdempotencyKey counts the publisher's expired idempotency keys.
	RetentionIdempotencyKey = "idempotency_keys"
)

// Metrics are notifyd's Prometheus metrics. One value is built in run on
// the process's own registry and handed to the hub, both servers, the
// store and the sweeper. Every method is safe on a nil *Metrics, which
// records nothing, so tests and embedders need not build one.
type Metrics struct {
	openSockets   prometheus.Gauge
	socketsOpened prometheus.Counter
	closes        *prometheus.CounterVec // code, by
	queueFull     *prometheus.CounterVec // reason
	created       *prometheus.CounterVec // path
	delivered     *prometheus.CounterVec // type
	latency       prometheus.Histogram
	reconnects    prometheus.Counter
	catchUpRows   prometheus.Counter
	dbErrors      *prometheus.CounterVec // op, code
	retention     *prometheus.CounterVec // kind
	httpRequests  *prometheus.CounterVec // route, method, status
	jwksErrors    prometheus.Counter
	cluster       clusterMetrics // metrics_cluster.go
}

// NewMetrics creates the metrics and registers them on reg; with a nil reg
// they are created but not registered. Registering twice on one registry
// panics, like prometheus.MustRegister: call it once per registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		openSockets: f.NewGauge(prometheus.GaugeOpts{
			Name: "notifyd_ws_open_sockets",
			Help: "Websocket connections open now, authenticated or not.",
		}),
		socketsOpened: f.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_ws_sockets_opened_total",
			Help: "Websocket connections upgraded.",
		}),
		closes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_ws_closes_total",
			Help: `Websocket connections ended, by close code and by who closed ("server", "client", or "lost": no close frame, code "none").`,
		}, []string{"code", "by"}),
		queueFull: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_ws_queue_full_closes_total",
			Help: `Sockets closed with 4008 because they read too slowly, by reason ("queue_full", "replay_overflow").`,
		}, []string{"reason"}),
		created: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_notifications_created_total",
			Help: `Notifications committed, by API path ("single", "bulk").`,
		}, []string{"path"}),
		delivered: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_ws_frames_delivered_total",
			Help: "Messages written to websocket clients, by message type.",
		}, []string{"type"}),
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name: "notifyd_delivery_latency_seconds",
			Help: "Time from a notification's commit to the end of its write to a socket.",
			// From 0.5 ms (a local socket with an idle writer) to 5 s
			// (past ws.write_timeout a frame closes its socket).
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		reconnects: f.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_cluster_listener_reconnects_total",
			Help: "Times the cluster LISTEN connection was re-established.",
		}),
		catchUpRows: f.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_cluster_catchup_rows_total",
			Help: "Notifications delivered by catch-up queries (after a broker reconnect, a gap, the audit, or an insert of unknown outcome).",
		}),
		dbErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_db_errors_total",
			Help: `Database calls that failed, by store operation and code ("unavailable", "internal"); not-found and conflict answers are not errors here.`,
		}, []string{"op", "code"}),
		retention: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_retention_deleted_total",
			Help: `Rows deleted by the retention sweeper, by kind ("read_notifications", "unread_notifications", "expired_sessions").`,
		}, []string{"kind"}),
		httpRequests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_http_requests_total",
			Help: `HTTP API requests, by route template ("unmatched" for unknown paths), method and status class ("2xx"...).`,
		}, []string{"route", "method", "status"}),
		jwksErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_jwks_refresh_errors_total",
			Help: "Fetches of auth.jwt.jwks_url that failed; the last good keys stay in use.",
		}),
	}
	m.cluster = newClusterMetrics(f)
	// Series with known labels exist from the start at 0, so that rate()
	// and alerts see the first increment.
	for _, r := range []string{ReasonQueueFull, ReasonReplayOverflow} {
		m.queueFull.WithLabelValues(r)
	}
	for _, p := range []string{PathSingle, PathBulk} {
		m.created.WithLabelValues(p)
	}
	for _, k := range []string{RetentionRead, RetentionUnread, RetentionSession, RetentionIdempotencyKey} {
		m.retention.WithLabelValues(k)
	}
	return m
}

// SocketOpened counts an upgraded websocket connection.
func (m *Metrics) SocketOpened() {
	if m == nil {
		return
	}
	m.openSockets.Inc()
	m.socketsOpened.Inc()
}

// SocketClosed counts the end of a connection counted by SocketOpened:
// code is the close code (0 when the connection was lost without one) and
// by is "server", "client" or "lost".
func (m *Metrics) SocketClosed(code int, by string) {
	if m == nil {
		return
	}
	switch by {
	case "server", "client", "lost":
	default:
		by = "other"
	}
	// Counted before the gauge drops, so a scrape that sees the socket
	// gone also sees how it closed.
	m.closes.WithLabelValues(closeCodeLabel(code), by).Inc()
	m.openSockets.Dec()
}

// closeCodeLabel bounds the code label: a client may close with any code
// from 3000 to 4999, so only the standard codes and ours are kept.
func closeCodeLabel(code int) string {
	switch {
	case code <= 0:
		return "none"
	case code >= 1000 && code <= 1015:
	case code == CloseBadMessage, code == CloseUnauthorized, code == CloseTimeout,
		code == CloseQueueFull, code == CloseTooMany:
	default:
		return "other"
	}
	return strconv.Itoa(code)
}

// QueueFull counts a socket closed with CloseQueueFull; reason is
// ReasonQueueFull or ReasonReplayOverflow.
func (m *Metrics) QueueFull(reason string) {
	if m == nil {
		return
	}
	m.queueFull.WithLabelValues(reason).Inc()
}

// NotificationsCreated counts n committed notifications created through
// path (PathSingle or PathBulk).
func (m *Metrics) NotificationsCreated(path string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.created.WithLabelValues(path).Add(float64(n))
}

// FrameDelivered counts a message of type typ written to a socket. When
// at is set (the commit time stamped by Service), it also records the
// publish→socket latency.
func (m *Metrics) FrameDelivered(typ string, at time.Time) {
	if m == nil {
		return
	}
	if typ == "" {
		typ = "other"
	}
	if !at.IsZero() {
		m.latency.Observe(time.Since(at).Seconds())
	}
	m.delivered.WithLabelValues(typ).Inc()
}

// ListenerReconnected counts a re-established cluster listener connection.
func (m *Metrics) ListenerReconnected() {
	if m == nil {
		return
	}
	m.reconnects.Inc()
}

// CatchUpRows counts n notifications delivered by a catch-up query.
func (m *Metrics) CatchUpRows(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.catchUpRows.Add(float64(n))
}

// DBError counts a failed store operation op; code is EUNAVAILABLE or
// EINTERNAL (the store does not count ENOTFOUND or ECONFLICT).
func (m *Metrics) DBError(op, code string) {
	if m == nil {
		return
	}
	m.dbErrors.WithLabelValues(op, code).Inc()
}

// RetentionDeleted counts n rows of kind (RetentionRead, RetentionUnread,
// RetentionSession, RetentionIdempotencyKey) deleted by the sweeper.
func (m *Metrics) RetentionDeleted(kind string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.retention.WithLabelValues(kind).Add(float64(n))
}

// HTTPRequest counts one HTTP request. route must be a route template
// (gin's FullPath, "/api/notifications/:id/read"), never a raw path, or
// every id would be a new series.
func (m *Metrics) HTTPRequest(route, method string, status int) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		method = "other"
	}
	m.httpRequests.WithLabelValues(route, method, statusClass(status)).Inc()
}

// statusClass is the status label of an HTTP status: "2xx"..., a constant
// for the usual classes, so that counting a request allocates nothing.
func statusClass(status int) string {
	switch status / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return strconv.Itoa(status/100) + "xx"
}

// JWKSRefreshError counts a failed fetch of the JWKS (auth.jwt.jwks_url).
func (m *Metrics) JWKSRefreshError() {
	if m == nil {
		return
	}
	m.jwksErrors.Inc()
}
