package metrics

import (
	"strconv"
	"time"
)

// NotificationsCreated counts n committed notifications created through
// path (notify.PathSingle or notify.PathBulk).
func (m *Metrics) NotificationsCreated(path string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.created.WithLabelValues(path).Add(float64(n))
}

// BatchStored records how long the transaction of one group-commit batch
// took.
func (m *Metrics) BatchStored(d time.Duration) {
	if m == nil {
		return
	}
	m.batchStored.Observe(d.Seconds())
}

// BatchWaited records how long one call to create notifications waited
// for its group-commit batch's transaction to start.
func (m *Metrics) BatchWaited(d time.Duration) {
	if m == nil {
		return
	}
	m.batchWaited.Observe(d.Seconds())
}

// DBError counts a failed store operation op; code is notify.EUNAVAILABLE
// or notify.EINTERNAL (the store does not count ENOTFOUND or ECONFLICT).
func (m *Metrics) DBError(op, code string) {
	if m == nil {
		return
	}
	m.dbErrors.WithLabelValues(op, code).Inc()
}

// RetentionDeleted counts n rows of kind (notify.RetentionRead,
// RetentionUnread, RetentionSession, RetentionIdempotencyKey) deleted by
// the sweeper.
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
