package httpserver

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	a := e.do(t, req{method: "GET", path: "/healthz"}).header.Get(requestIDHeader)
	b := e.do(t, req{method: "GET", path: "/healthz"}).header.Get(requestIDHeader)
	if a == "" || a == b {
		t.Fatalf("request ids %q, %q", a, b)
	}
	kept := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{requestIDHeader: "lb-1234.abc_D"}})
	if got := kept.header.Get(requestIDHeader); got != "lb-1234.abc_D" {
		t.Fatalf("plain incoming id replaced: %q", got)
	}
	odd := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{requestIDHeader: "x\" level=ERROR"}})
	if got := odd.header.Get(requestIDHeader); got == "" || strings.ContainsAny(got, "\" =") {
		t.Fatalf("odd incoming id kept: %q", got)
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnvWith(t, envOptions{routes: func(s *Server) {
		s.engine.GET("/test/boom", func(*gin.Context) { panic("boom") })
	}})
	alice, secret := e.user(t, "alice")

	cases := []struct {
		name   string
		r      req
		status int
		level  string
		userID bool
	}{
		{"ok", req{method: "GET", path: "/api/notifications?limit=5&before=99", secret: secret}, 200, "INFO", true},
		{"created", req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": testPass}}, 201, "INFO", true},
		{"client error", req{method: "GET", path: "/api/notifications?limit=0", secret: secret}, 400, "WARN", true},
		{"unauthorized", req{method: "GET", path: "/api/me", cookie: "not-a-secret-value"}, 401, "WARN", false},
		{"wrong password", req{method: "POST", path: "/api/sessions", body: map[string]string{"username": "alice", "password": "hunter2-wrong"}}, 401, "WARN", false},
		{"publisher", req{method: "PUT", path: "/api/publisher/users/bob", apiKey: testAPIKey}, 201, "INFO", false},
		{"panic", req{method: "GET", path: "/test/boom?secret=querysecret"}, 500, "ERROR", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.r).want(t, tc.status)
			rec := e.logs.accessRecord(t, r.header.Get(requestIDHeader))
			path, _, _ := strings.Cut(tc.r.path, "?")
			if rec["level"] != tc.level || rec["method"] != tc.r.method || rec["path"] != path ||
				rec["status"] != float64(tc.status) || rec["duration"] == nil {
				t.Fatalf("record = %v", rec)
			}
			if uid, ok := rec["user_id"]; ok != tc.userID || (ok && uid != float64(alice.ID)) {
				t.Fatalf("user_id = %v, want present=%v", uid, tc.userID)
			}
		})
	}
	t.Run("no secrets", func(t *testing.T) {
		logs := e.logs.String()
		for _, s := range []string{secret, testPass, "hunter2-wrong", testAPIKey, "not-a-secret-value", "querysecret", "Authorization", "Cookie"} {
			if strings.Contains(logs, s) {
				t.Errorf("logs contain %q", s)
			}
		}
	})
}

func TestRecovery(t *testing.T) {
	e := newEnvWith(t, envOptions{routes: func(s *Server) {
		s.engine.GET("/test/boom", func(*gin.Context) { panic("secret detail") })
		s.engine.GET("/test/error", func(c *gin.Context) { s.renderError(c, errorString("driver said: password=xyz")) })
		s.engine.GET("/test/unknown-code", func(c *gin.Context) { s.renderError(c, notify.Errorf("teapot", "short and stout")) })
	}})
	for _, path := range []string{"/test/boom", "/test/error", "/test/unknown-code"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(t, req{method: "GET", path: path})
			got := r.wantError(t, http.StatusInternalServerError, notify.EINTERNAL, "")
			if got.Error.Message != internalMessage {
				t.Fatalf("message %q leaks details", got.Error.Message)
			}
			id := r.header.Get(requestIDHeader)
			found := false
			for _, rec := range e.logs.records(t) {
				if rec["request_id"] == id && rec["level"] == "ERROR" && rec["msg"] != "http request" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error log with request id %s", id)
			}
		})
	}
	// The server keeps serving.
	e.do(t, req{method: "GET", path: "/healthz"}).want(t, http.StatusOK)
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	_, secret := e.user(t, "alice")
	notFound := []req{
		{method: "GET", path: "/api/nope"},
		{method: "GET", path: "/api/notifications/"},
		{method: "GET", path: "/api/me/"},
		{method: "POST", path: "/api/publisher/nope", apiKey: testAPIKey},
		{method: "GET", path: "/nope.html"},
		{method: "GET", path: "/api"},
	}
	for _, r := range notFound {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			r.secret = secret
			e.do(t, r).wantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
		})
	}
	notAllowed := []struct {
		r     req
		allow string
	}{
		{req{method: "DELETE", path: "/api/me"}, "GET"},
		{req{method: "PUT", path: "/api/notifications/1"}, "DELETE"},
		{req{method: "GET", path: "/api/notifications/read-all"}, "POST"},
		{req{method: "POST", path: "/healthz"}, "GET"},
		{req{method: "POST", path: "/"}, "GET"},
		{req{method: "OPTIONS", path: "/api/config"}, "GET"},
	}
	for _, tc := range notAllowed {
		t.Run(tc.r.method+" "+tc.r.path, func(t *testing.T) {
			r := e.do(t, tc.r).wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
			_ = r
		})
	}
	t.Run("Allow header", func(t *testing.T) {
		r := e.do(t, req{method: "PUT", path: "/api/notifications/1"})
		if allow := r.header.Get("Allow"); !strings.Contains(allow, "DELETE") {
			t.Fatalf("Allow = %q", allow)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, r := range []req{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/api/me"},
		{method: "GET", path: "/api/nope"},
		{method: "GET", path: "/"},
	} {
		t.Run(r.path, func(t *testing.T) {
			got := e.do(t, r)
			if got.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", got.header)
			}
		})
	}
	t.Run("API responses are not cached", func(t *testing.T) {
		if cc := e.do(t, req{method: "GET", path: "/api/config"}).header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control = %q", cc)
		}
	})
}

func TestCORS(t *testing.T) {
	preflight := func(origin string) req {
		return req{method: "OPTIONS", path: "/api/notifications/read-all", origin: origin,
			header: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}}
	}
	t.Run("off by default", func(t *testing.T) {
		e := newEnv(t)
		r := e.do(t, req{method: "GET", path: "/api/config", origin: "https://app.example"}).want(t, http.StatusOK)
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Fatalf("CORS header %s with CORS off", k)
			}
		}
		r = e.do(t, preflight("https://app.example"))
		if r.status == http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight answered with CORS off: %d %v", r.status, r.header)
		}
	})
	t.Run("configured", func(t *testing.T) {
		e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.HTTP.CORSOrigins = []string{"https://App.example/"} }})
		r := e.do(t, req{method: "GET", path: "/api/config", origin: "https://app.example"}).want(t, http.StatusOK)
		if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			r.header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
			t.Fatalf("headers %v", r.header)
		}
		r = e.do(t, preflight("https://app.example")).want(t, http.StatusNoContent)
		if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Fatalf("preflight headers %v", r.header)
		}
		r = e.do(t, req{method: "GET", path: "/api/config", origin: "https://evil.example"}).want(t, http.StatusOK)
		if r.header.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
			t.Fatalf("foreign origin headers %v", r.header)
		}
		e.do(t, preflight("https://evil.example")).wantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		e.do(t, preflight("null")).wantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
	})
}

// TestNoGinDebugOutput checks that building the server prints nothing
// even when gin's global mode was left at "debug" (its default).
func TestNoGinDebugOutput(t *testing.T) {
	var out bytes.Buffer
	prevWriter, prevMode := gin.DefaultWriter, gin.Mode()
	gin.DefaultWriter = &out
	gin.SetMode(gin.DebugMode)
	t.Cleanup(func() {
		gin.DefaultWriter = prevWriter
		gin.SetMode(prevMode)
	})
	New(testConfig(), Deps{Store: storetest.Open(t)})
	if out.Len() != 0 {
		t.Fatalf("gin printed:\n%s", out.String())
	}
}
