package httpserver

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/notifyd/notifyd/notify"
)

func TestStaticFiles(t *testing.T) {
	files := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>inbox</title>")},
		"app.js":            {Data: []byte("export const x = 1;")},
		"notifyd-client.js": {Data: []byte("export function connect() {}")},
		"style.css":         {Data: []byte("body{}")},
		"icons/bell.svg":    {Data: []byte("<svg></svg>")},
		"bad:name.js":       {Data: []byte("skipped: gin would read ':' as a wildcard")},
		"api/shadow.js":     {Data: []byte("skipped: under /api")},
	}
	e := newEnvWith(t, envOptions{static: files})
	cases := []struct {
		path, contentType, cache string
		html                     bool
		body                     string
	}{
		{"/", "text/html; charset=utf-8", "no-cache", true, "<!doctype html><title>inbox</title>"},
		{"/index.html", "text/html; charset=utf-8", "no-cache", true, "<!doctype html><title>inbox</title>"},
		{"/app.js", "text/javascript; charset=utf-8", "public, max-age=300", false, "export const x = 1;"},
		{"/notifyd-client.js", "text/javascript; charset=utf-8", "public, max-age=300", false, "export function connect() {}"},
		{"/style.css", "text/css; charset=utf-8", "public, max-age=300", false, "body{}"},
		{"/icons/bell.svg", "image/svg+xml", "public, max-age=300", false, "<svg></svg>"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := e.do(t, req{method: "GET", path: tc.path}).Want(t, http.StatusOK)
			h := r.Header
			if string(r.Body) != tc.body || h.Get("Content-Type") != tc.contentType || h.Get("Cache-Control") != tc.cache ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("ETag") == "" {
				t.Fatalf("body %q headers %v", r.Body, h)
			}
			csp := h.Get("Content-Security-Policy")
			if tc.html != (csp != "") {
				t.Fatalf("CSP %q on %s", csp, tc.path)
			}
			if tc.html && (!strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "connect-src 'self' ws://localhost:8001;")) {
				t.Fatalf("CSP %q", csp)
			}

			head := e.do(t, req{method: "HEAD", path: tc.path}).Want(t, http.StatusOK)
			if len(head.Body) != 0 || head.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("HEAD: body %q headers %v", head.Body, head.Header)
			}
			e.do(t, req{method: "GET", path: tc.path, header: map[string]string{"If-None-Match": h.Get("ETag")}}).
				Want(t, http.StatusNotModified)
			e.do(t, req{method: "POST", path: tc.path}).WantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
		})
	}
	for _, p := range []string{"/bad:name.js", "/api/shadow.js", "/icons", "/icons/", "/missing.js", "/index.html/"} {
		t.Run("not served "+p, func(t *testing.T) {
			e.do(t, req{method: "GET", path: p}).WantError(t, http.StatusNotFound, notify.ENOTFOUND, "")
		})
	}
}

func TestEmbeddedInbox(t *testing.T) {
	e := newEnv(t) // serves web.Files()
	r := e.do(t, req{method: "GET", path: "/"}).Want(t, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("headers %v", r.Header)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	cases := map[string]string{
		"ws://localhost:8001/ws":           "connect-src 'self' ws://localhost:8001;",
		"wss://push.example.com/ws":        "connect-src 'self' wss://push.example.com;",
		"wss://[::1]:9000/ws":              "connect-src 'self' wss://[::1]:9000;",
		"":                                 "connect-src 'self';",
		"https://not-a-websocket.example/": "connect-src 'self';",
		"ws://evil; script-src *":          "connect-src 'self';",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := contentSecurityPolicy(in); !strings.Contains(got, want) {
				t.Fatalf("CSP %q, want %q", got, want)
			}
		})
	}
}
