package httpserver

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
)

// statusOf is the one mapping from notify error codes to HTTP statuses (a
// switch rather than a package-level map, which would be mutable state).
// A code missing here is treated as internal.
func statusOf(code string) (int, bool) {
	switch code {
	case notify.EINVALID:
		return http.StatusBadRequest, true
	case notify.EUNAUTHORIZED:
		return http.StatusUnauthorized, true
	case notify.EFORBIDDEN:
		return http.StatusForbidden, true
	case notify.ENOTFOUND:
		return http.StatusNotFound, true
	case notify.ECONFLICT:
		return http.StatusConflict, true
	case notify.EIDEMPOTENCY:
		return http.StatusUnprocessableEntity, true
	case notify.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, true
	case notify.ERATELIMIT:
		return http.StatusTooManyRequests, true
	case notify.EUNAVAILABLE, notify.EBUSY:
		return http.StatusServiceUnavailable, true
	case notify.EMEDIATYPE:
		return http.StatusUnsupportedMediaType, true
	}
	return http.StatusInternalServerError, false
}

// errorBody is the one JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// busyRetryAfter is the Retry-After, in seconds, of a 503 "busy": a
// password hash takes tens of milliseconds, so slots free up quickly.
const busyRetryAfter = "1"

// internalMessage is all a client learns about an unexpected error.
const internalMessage = "internal error"

// responder renders errors and decodes bodies; the server and every
// handler struct share one.
type responder struct {
	logger   *slog.Logger
	maxBody  int64        // http.max_body_bytes
	decoders jsonDecoders // reused by decodeJSON
}

// renderError writes err as the JSON error body with the status of its
// code and aborts the handler chain. Errors that are not *notify.Error,
// or carry an unknown code, become a 500 "internal" whose text stays in
// the log, keyed by the request id; 5xx errors are logged, except "busy",
// which gets a Retry-After instead.
func (s *responder) renderError(c *gin.Context, err error) {
	code := notify.ErrorCode(err)
	status, known := statusOf(code)
	msg := notify.ErrorMessage(err)
	if !known {
		code, status, msg = notify.EINTERNAL, http.StatusInternalServerError, internalMessage
	}
	if code == notify.EBUSY {
		// Overload is expected under a flood: tell the client when to come
		// back, and do not log an error per refused request.
		c.Header("Retry-After", busyRetryAfter)
	} else if status >= 500 {
		s.logger.Error("request failed",
			"request_id", requestIDOf(c), "method", c.Request.Method, "path", c.Request.URL.Path,
			"code", code, "error", err)
	}
	writeJSON(c, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
	c.Abort()
}

// encodedJSON is a response body already encoded, which writeJSON and
// mustJSON write as it is.
type encodedJSON []byte

// writeJSON writes v as the JSON response body. Our response types always
// encode; should one not, the client gets the internal error shape rather
// than a half-written body.
func writeJSON(c *gin.Context, status int, v any) {
	if b, ok := v.(encodedJSON); ok {
		c.Data(status, "application/json; charset=utf-8", b)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	c.Data(status, "application/json; charset=utf-8", body)
}
