package httpserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/docs"
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
	if got.Header.Get(requestIDHeader) == "" {
		tb.Errorf("openapi: %s %s: no %s header", hr.Method, hr.URL.Path, requestIDHeader)
	}
	switch {
	case isPreflight(hr) && got.Status == http.StatusNoContent:
		return // a CORS preflight answered: outside the spec
	case isPreflight(hr) && got.Status == http.StatusForbidden:
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
	if got.Status >= 200 && got.Status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			tb.Errorf("openapi: the server accepted (%d) a request the spec refuses: %s %s: %v", got.Status, hr.Method, hr.URL, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: got.Status, Header: got.Header, Options: opts}
	out.SetBodyBytes(got.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		tb.Errorf("openapi: response of %s %s (%d) does not match the spec: %v\nbody: %.500s", hr.Method, hr.URL.Path, got.Status, err, got.Body)
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
	return routesOnly().engine.Routes()
})
