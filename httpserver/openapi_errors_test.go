package httpserver

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// checkUnrouted checks the answer to a request the spec has no operation
// for: the JSON 404 (unknown path) or 405 (known path, other method), or
// the 413 every route gives a body over the limit first.
func (spec *apiSpec) checkUnrouted(tb testing.TB, hr *http.Request, got resp) {
	tb.Helper()
	switch got.Status {
	case http.StatusNotFound, http.StatusRequestEntityTooLarge:
		spec.checkAnyError(tb, hr, got)
	case http.StatusMethodNotAllowed:
		spec.checkAnyError(tb, hr, got)
		if got.Header.Get("Allow") == "" {
			tb.Errorf("openapi: 405 to %s %s without Allow", hr.Method, hr.URL.Path)
		}
	default:
		tb.Errorf("openapi: %s %s answered %d, and docs/openapi.yaml has no such operation", hr.Method, hr.URL.Path, got.Status)
	}
}

// errorSchema names the error body schema of each error status.
func errorSchema(status int) (string, bool) {
	switch status {
	case http.StatusBadRequest:
		return "InvalidRequestError", true
	case http.StatusUnauthorized:
		return "UnauthorizedError", true
	case http.StatusForbidden:
		return "ForbiddenError", true
	case http.StatusNotFound:
		return "NotFoundError", true
	case http.StatusMethodNotAllowed:
		return "MethodNotAllowedError", true
	case http.StatusConflict:
		return "ConflictError", true
	case http.StatusRequestEntityTooLarge:
		return "PayloadTooLargeError", true
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaTypeError", true
	case http.StatusUnprocessableEntity:
		return "IdempotencyKeyReusedError", true
	case http.StatusTooManyRequests:
		return "RateLimitedError", true
	case http.StatusInternalServerError:
		return "InternalError", true
	case http.StatusServiceUnavailable:
		return "UnavailableError", true
	}
	return "", false
}

// checkAnyError checks that an error status has the error body of its
// status; a success status passes.
func (spec *apiSpec) checkAnyError(tb testing.TB, hr *http.Request, got resp) {
	tb.Helper()
	if got.Status < 400 {
		return
	}
	schema, ok := errorSchema(got.Status)
	if !ok {
		tb.Errorf("openapi: %s %s answered %d, which no error of docs/openapi.yaml has", hr.Method, hr.URL.Path, got.Status)
		return
	}
	spec.checkError(tb, hr, got, schema)
}

// checkError checks that the body of got matches the named error
// schema. A HEAD answer has no body to check.
func (spec *apiSpec) checkError(tb testing.TB, hr *http.Request, got resp, schema string) {
	tb.Helper()
	if hr.Method == http.MethodHead {
		return
	}
	var v any
	if err := json.Unmarshal(got.Body, &v); err != nil {
		tb.Errorf("openapi: %s %s (%d): body is not JSON: %v", hr.Method, hr.URL.Path, got.Status, err)
		return
	}
	if err := spec.doc.Components.Schemas[schema].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		tb.Errorf("openapi: %s %s (%d): body does not match %s: %v", hr.Method, hr.URL.Path, got.Status, schema, err)
	}
}
