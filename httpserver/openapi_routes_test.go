package httpserver

import (
	"net/http"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/notifyd/notifyd/docs"
	"github.com/notifyd/notifyd/notify"
)

// nameOfFunc names f as gin's RouteInfo.Handler does.
func nameOfFunc(f any) string {
	return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
}

// ginParam matches a gin path parameter (":id", "*path").
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// apiRoutes lists the server's routes as "METHOD /path/{param}", without
// the web inbox's files, which the spec leaves out.
func apiRoutes(s *Server) []string {
	static := nameOfFunc((&staticFiles{}).serve)
	var out []string
	for _, r := range s.engine.Routes() {
		if r.Handler == static {
			continue
		}
		out = append(out, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(out)
	return out
}

// specRoutes lists the spec's operations as "METHOD /path/{param}".
func specRoutes(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for path, item := range testSpec(tb).doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIHasEveryRoute fails on a route the server answers that
// docs/openapi.yaml lacks, and on an operation of the spec the server
// does not have.
func TestOpenAPIHasEveryRoute(t *testing.T) {
	t.Parallel()
	server, spec := apiRoutes(routesOnly()), specRoutes(t)
	for _, r := range server {
		if !slices.Contains(spec, r) {
			t.Errorf("%s is served but missing from docs/openapi.yaml", r)
		}
	}
	for _, r := range spec {
		if !slices.Contains(server, r) {
			t.Errorf("%s is in docs/openapi.yaml but not served", r)
		}
	}
	if len(server) < 20 {
		t.Fatalf("only %d routes found: %v", len(server), server)
	}
}

// TestOpenAPIEveryOperation sends each operation of the spec the two
// refusals every route of its kind gives: 413 for a body over the limit
// (every route), 401 without credentials (every route with security).
// env.do holds each answer to the spec, so both statuses must be declared.
func TestOpenAPIEveryOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	params := strings.NewReplacer("{id}", "1", "{external_id}", "app-user-1")
	big := strings.Repeat("x", int(e.cfg.HTTP.MaxBodyBytes)+1)
	for path, item := range testSpec(t).doc.Paths.Map() {
		for method, op := range item.Operations() {
			t.Run(method+" "+path, func(t *testing.T) {
				r := req{method: method, path: params.Replace(path)}
				if op.Security != nil && !slices.ContainsFunc(*op.Security, func(sr openapi3.SecurityRequirement) bool { return len(sr) == 0 }) {
					e.do(t, r).WantError(t, http.StatusUnauthorized, notify.EUNAUTHORIZED, "")
				}
				r.body = big
				e.do(t, r).WantError(t, http.StatusRequestEntityTooLarge, notify.ETOOLARGE, "body")
			})
		}
	}
}

// TestOpenAPIServed checks that the binary serves the spec it embeds, as
// YAML: a client generator can fetch the contract of the build it talks to.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, req{method: "GET", path: "/api/openapi.yaml"}).Want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if string(r.Body) != docs.OpenAPI() || !strings.HasPrefix(docs.OpenAPI(), "# The HTTP API of notifyd") {
		t.Fatalf("served %d bytes, not docs/openapi.yaml", len(r.Body))
	}
	if doc := testSpec(t).doc; !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi: %s, want 3.1", doc.OpenAPI)
	}
}
