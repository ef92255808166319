package notify

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in httpserver and is the
// "code" field of the JSON error body, so clients can switch on it.
const (
	EINVALID      = "invalid_request"        // 400: the message names the field
	EUNAUTHORIZED = "unauthorized"           // 401
	EFORBIDDEN    = "forbidden"              // 403
	ENOTFOUND     = "not_found"              // 404
	ECONFLICT     = "conflict"               // 409
	ETOOLARGE     = "payload_too_large"      // 413
	ERATELIMIT    = "rate_limited"           // 429
	EUNAVAILABLE  = "unavailable"            // 503: the database does not answer
	EBUSY         = "busy"                   // 503 with Retry-After: too much work at once
	EMEDIATYPE    = "unsupported_media_type" // 415: the body is not declared as JSON
	EINTERNAL     = "internal"               // 500: details only in logs
)

// Error is the application error: a machine-readable code and a message that
// is safe to show to the client. Any other error is internal and its text is
// never shown.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("notify error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	return coded(err).Code
}

// ErrorMessage returns the client-safe message of err: the message of an
// *Error, or a generic text for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	return coded(err).Message
}

// coded returns the first *Error in the chain of a non-nil err, or an
// internal one with a generic message: the text of an unknown error never
// reaches a client.
func coded(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EINTERNAL, Message: "internal error"}
}
