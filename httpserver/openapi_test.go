package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/notifyd/notifyd/docs"
	"github.com/notifyd/notifyd/notify"
)

// The suite holds the server to docs/openapi.yaml: env.do hands every
// exchange to checkSpec, which validates the response always, and the
// request when the server accepted it (2xx). A request refused with 4xx
// may break the spec on purpose (bad JSON, a wrong Content-Type, a huge
// body): that is what the test sends it for. A response to a request the
// spec has no operation for must be the JSON 404, 405 or 413.

// apiSpec is the loaded document and its router. Both are only read once
// built.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpec parses and validates docs/openapi.yaml once per test binary:
// every do call needs it, and parsing it per request would dominate the
// suite's time. It is read-only once loaded.
var loadSpec = sync.OnceValues(func() (*apiSpec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(docs.OpenAPI()))
	if err != nil {
		return nil, fmt.Errorf("load docs/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route docs/openapi.yaml: %w", err)
	}
	return &apiSpec{doc: doc, router: router}, nil
})

func testSpec(tb testing.TB) *apiSpec {
	tb.Helper()
	spec, err := loadSpec()
	if err != nil {
		tb.Fatal(err)
	}
	return spec
}

// specOptions make every status the spec does not declare a failure, and
// check the credentials of each security scheme (checkCredentials).
func specOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
		AuthenticationFunc:    checkCredentials,
	}
}

// checkSpec checks one exchange with s against the spec. hr is the
// request as sent (its body is read again through GetBody).
func checkSpec(tb testing.TB, s *Server, hr *http.Request, got resp) {
	tb.Helper()
	spec := testSpec(tb)
	if got.header.Get(requestIDHeader) == "" {
		tb.Errorf("openapi: %s %s: no %s header", hr.Method, hr.URL.Path, requestIDHeader)
	}
	switch {
	case isPreflight(hr) && got.status == http.StatusNoContent:
		return // a CORS preflight answered: outside the spec
	case isPreflight(hr) && got.status == http.StatusForbidden:
		spec.checkError(tb, hr, got, "ForbiddenError") // from an origin not in http.cors_origins
		return
	}
	vr, bodyKnown := replayable(tb, hr)
	route, params, err := spec.router.FindRoute(vr)
	if err != nil {
		switch {
		case s.servesStatic(hr.Method, hr.URL.Path):
			// The web inbox's files are outside the spec.
		case testOnlyRoute(s, hr.Method, hr.URL.Path):
			// Registered by the test itself (envOptions.routes), to
			// provoke errors: only the error shape applies.
			spec.checkAnyError(tb, hr, got)
		default:
			spec.checkUnrouted(tb, hr, got)
		}
		return
	}
	// gin matches the decoded path (auth0%7C5f7c is auth0|5f7c); the
	// router hands back the encoded segments.
	for k, v := range params {
		if u, err := url.PathUnescape(v); err == nil {
			params[k] = u
		}
	}
	opts := specOptions()
	opts.ExcludeRequestBody = !bodyKnown
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
	ctx := context.Background()
	if got.status >= 200 && got.status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			tb.Errorf("openapi: the server accepted (%d) a request the spec refuses: %s %s: %v", got.status, hr.Method, hr.URL, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: got.status, Header: got.header, Options: opts}
	out.SetBodyBytes(got.body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		tb.Errorf("openapi: response of %s %s (%d) does not match the spec: %v\nbody: %.500s", hr.Method, hr.URL.Path, got.status, err, got.body)
	}
}

// replayable returns a copy of the sent request whose body can be read
// again, and false when the body was streamed and cannot be (the tests
// that stream a body expect it refused anyway). Blanks around the body
// are trimmed, as the server does: a body of blanks is no body.
func replayable(tb testing.TB, hr *http.Request) (*http.Request, bool) {
	tb.Helper()
	vr := hr.Clone(context.Background())
	vr.Body, vr.GetBody, vr.ContentLength = http.NoBody, nil, 0
	if hr.GetBody == nil {
		return vr, hr.Body == nil || hr.Body == http.NoBody
	}
	rc, err := hr.GetBody()
	if err != nil {
		tb.Fatalf("openapi: read the request body again: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("openapi: read the request body again: %v", err)
	}
	if b = bytes.TrimSpace(b); len(b) > 0 {
		vr.Body, vr.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return vr, true
}

// checkUnrouted checks the answer to a request the spec has no operation
// for: the JSON 404 (unknown path) or 405 (known path, other method), or
// the 413 every route gives a body over the limit first.
func (spec *apiSpec) checkUnrouted(tb testing.TB, hr *http.Request, got resp) {
	tb.Helper()
	switch got.status {
	case http.StatusNotFound, http.StatusRequestEntityTooLarge:
		spec.checkAnyError(tb, hr, got)
	case http.StatusMethodNotAllowed:
		spec.checkAnyError(tb, hr, got)
		if got.header.Get("Allow") == "" {
			tb.Errorf("openapi: 405 to %s %s without Allow", hr.Method, hr.URL.Path)
		}
	default:
		tb.Errorf("openapi: %s %s answered %d, and docs/openapi.yaml has no such operation", hr.Method, hr.URL.Path, got.status)
	}
}

// errorSchemas names the error body schema of each error status.
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
	if got.status < 400 {
		return
	}
	schema, ok := errorSchema(got.status)
	if !ok {
		tb.Errorf("openapi: %s %s answered %d, which no error of docs/openapi.yaml has", hr.Method, hr.URL.Path, got.status)
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
	if err := json.Unmarshal(got.body, &v); err != nil {
		tb.Errorf("openapi: %s %s (%d): body is not JSON: %v", hr.Method, hr.URL.Path, got.status, err)
		return
	}
	if err := spec.doc.Components.Schemas[schema].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		tb.Errorf("openapi: %s %s (%d): body does not match %s: %v", hr.Method, hr.URL.Path, got.status, schema, err)
	}
}

func isPreflight(hr *http.Request) bool {
	return hr.Method == http.MethodOptions && hr.Header.Get("Access-Control-Request-Method") != ""
}

// servesStatic reports whether method and path name a file of the web
// inbox, which the spec leaves out.
func (s *Server) servesStatic(method, path string) bool {
	static := nameOfFunc((&staticFiles{}).serve)
	for _, r := range s.engine.Routes() {
		if r.Method == method && r.Path == path && r.Handler == static {
			return true
		}
	}
	return false
}

// testOnlyRoute reports whether method and path name a route a test
// added to s (envOptions.routes), which a server built by New lacks.
func testOnlyRoute(s *Server, method, path string) bool {
	if !slices.ContainsFunc(s.engine.Routes(), func(r gin.RouteInfo) bool { return r.Method == method && r.Path == path }) {
		return false
	}
	return !slices.ContainsFunc(productionRoutes(), func(r gin.RouteInfo) bool { return r.Method == method && r.Path == path })
}

// productionRoutes are the routes of a server built by New, listed once.
var productionRoutes = sync.OnceValue(func() gin.RoutesInfo {
	return New(testConfig(), Deps{}).engine.Routes()
})

// checkCredentials is the spec's AuthenticationFunc: the request carries
// the credential the scheme describes. It does not check that the
// credential is valid: the server does, and only accepted requests are
// checked here.
func checkCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	scheme := in.SecurityScheme
	switch {
	case scheme.Type == "apiKey" && scheme.In == "cookie":
		if r.Header.Get("Authorization") != "" {
			return in.NewError(errors.New("an Authorization header wins over the cookie"))
		}
		if ck, err := r.Cookie(scheme.Name); err != nil || ck.Value == "" {
			return in.NewError(fmt.Errorf("no %s cookie", scheme.Name))
		}
		return nil
	case scheme.Type == "http" && strings.EqualFold(scheme.Scheme, "bearer"):
		secret, ok := bearerToken(r)
		if !ok {
			return in.NewError(errors.New("no Authorization: Bearer"))
		}
		switch scheme.BearerFormat {
		case "JWT":
			if !notify.IsToken(secret) {
				return in.NewError(errors.New("the bearer value is not a token"))
			}
		case "session secret":
			if notify.IsToken(secret) {
				return in.NewError(errors.New("the bearer value is a token, not a session secret"))
			}
		}
		return nil
	}
	return in.NewError(fmt.Errorf("security scheme %q: unknown kind", in.SecuritySchemeName))
}
