package httpserver

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/notify"
	"github.com/notifyd/notifyd/store/storetest"
)

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	a := e.do(t, req{method: "GET", path: "/healthz"}).Header.Get(requestIDHeader)
	b := e.do(t, req{method: "GET", path: "/healthz"}).Header.Get(requestIDHeader)
	if a == "" || a == b {
		t.Fatalf("request ids %q, %q", a, b)
	}
	kept := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{requestIDHeader: "lb-1234.abc_D"}})
	if got := kept.Header.Get(requestIDHeader); got != "lb-1234.abc_D" {
		t.Fatalf("plain incoming id replaced: %q", got)
	}
	odd := e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{requestIDHeader: "x\" level=ERROR"}})
	if got := odd.Header.Get(requestIDHeader); got == "" || strings.ContainsAny(got, "\" =") {
		t.Fatalf("odd incoming id kept: %q", got)
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnvWith(t, envOptions{routes: func(s *Server) {
		s.engine.GET("/test/boom", func(*gin.Context) { panic("boom") })
	}})
	alice, secret := e.api.User(t, "alice")

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
			r := e.do(t, tc.r).Want(t, tc.status)
			rec := accessRecord(t, e.Logs, r.Header.Get(requestIDHeader))
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
		logs := e.Logs.String()
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
			got := r.WantError(t, http.StatusInternalServerError, notify.EINTERNAL, "")
			if got.Error.Message != internalMessage {
				t.Fatalf("message %q leaks details", got.Error.Message)
			}
			id := r.Header.Get(requestIDHeader)
			found := false
			for _, rec := range e.Logs.Records(t) {
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
	e.do(t, req{method: "GET", path: "/healthz"}).Want(t, http.StatusOK)
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestUnknownRoutes(t *testing.T) {
	e, _, secret := newEnvAs(t, "alice")
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
			e.do(t, r).WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
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
			r := e.do(t, tc.r).WantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
			_ = r
		})
	}
	t.Run("Allow header", func(t *testing.T) {
		r := e.do(t, req{method: "PUT", path: "/api/notifications/1"})
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "DELETE") {
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
			if got.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", got.Header)
			}
		})
	}
	t.Run("API responses are not cached", func(t *testing.T) {
		if cc := e.do(t, req{method: "GET", path: "/api/config"}).Header.Get("Cache-Control"); cc != "no-store" {
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
		r := e.do(t, req{method: "GET", path: "/api/config", origin: "https://app.example"}).Want(t, http.StatusOK)
		for k := range r.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Fatalf("CORS header %s with CORS off", k)
			}
		}
		r = e.do(t, preflight("https://app.example"))
		if r.Status == http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight answered with CORS off: %d %v", r.Status, r.Header)
		}
	})
	t.Run("configured", func(t *testing.T) {
		e := newEnvWith(t, envOptions{cfg: func(c *Config) { c.HTTP.CORSOrigins = []string{"https://App.example/"} }})
		r := e.do(t, req{method: "GET", path: "/api/config", origin: "https://app.example"}).Want(t, http.StatusOK)
		if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			r.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
			t.Fatalf("headers %v", r.Header)
		}
		r = e.do(t, preflight("https://app.example")).Want(t, http.StatusNoContent)
		if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Fatalf("preflight headers %v", r.Header)
		}
		r = e.do(t, req{method: "GET", path: "/api/config", origin: "https://evil.example"}).Want(t, http.StatusOK)
		if r.Header.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
			t.Fatalf("foreign origin headers %v", r.Header)
		}
		e.do(t, preflight("https://evil.example")).WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
		e.do(t, preflight("null")).WantError(t, http.StatusForbidden, notify.EFORBIDDEN, "")
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
	New(testConfig(), storetest.Open(t), nil, nil, nil, nil, slog.New(slog.DiscardHandler), nil)
	if out.Len() != 0 {
		t.Fatalf("gin printed:\n%s", out.String())
	}
}
